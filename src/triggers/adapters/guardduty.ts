/**
 * GuardDuty findings: raw (API or `aws guardduty get-findings` output) or in their EventBridge
 * envelope (`detail-type: "GuardDuty Finding"`). Format:
 * https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings-summary.html
 *
 * GuardDuty aggregates repeated activity into the same finding id and re-publishes it with a
 * higher `service.count`, so the finding id (with account and region, since ids are per
 * detector) is the dedup key and the count tells a repeat.
 */
import { InputError } from '../../core/errors.js';
import { addIp, addUnique, emptyResources, labelOf, runIdFor, type Alert } from '../alert.js';
import { camelKeys, FieldReader, isObject, type Json } from '../read.js';

const WHAT = 'GuardDuty finding';

export function isGuardDutyFinding(v: unknown): boolean {
  if (!isObject(v)) return false;
  const c = camelKeys(v) as Json;
  return typeof c.arn === 'string' && /^arn:aws[\w-]*:guardduty:/.test(c.arn) && 'type' in c && 'id' in c;
}

export function guardDutyKey(account: string, region: string, id: string): string {
  return `guardduty:${account}:${region}:${id}`;
}

/** `finding` is the detail of the EventBridge event, or the finding itself. */
export function parseGuardDuty(finding: unknown, opts: { deliveryId: string; raw: unknown; prefix?: string; file?: string }): Alert {
  if (!isObject(finding)) throw new InputError(`failed to read ${WHAT}: expected an object`, { field: opts.prefix || '(top level)' });
  const f = new FieldReader(WHAT, camelKeys(finding) as Json, opts.prefix ?? '', opts.file);
  const id = f.string('id');
  const account = f.string('accountId');
  const region = f.string('region');
  const type = f.string('type');
  const severity = f.number('severity');
  if (severity < 0 || severity > 10) f.fail('severity', `expected 0–10, got ${severity}`);
  const resource = f.obj('resource');
  const service = f.optObj('service');

  const resources = emptyResources();
  const tags: Alert['tags'] = {};
  const instance = resource.optObj('instanceDetails');
  const resourceType = resource.optString('resourceType');
  if (resourceType === 'Instance' && !instance)
    resource.fail('instanceDetails', `missing required field 'instanceDetails' (resourceType is Instance)`);
  if (instance) {
    // An Instance finding must name its instance; other findings may carry instance details too.
    const instanceId = resourceType === 'Instance' ? instance.string('instanceId') : instance.optString('instanceId');
    addUnique(resources.instanceIds, instanceId);
    if (instanceId) {
      const t: Record<string, string> = {};
      for (const tag of instance.objects('tags')) {
        const key = tag.optString('key');
        if (key !== undefined) t[key] = tag.optString('value') ?? '';
      }
      if (Object.keys(t).length > 0) tags[instanceId] = t;
    }
  }
  const key = resource.optObj('accessKeyDetails');
  if (resourceType === 'AccessKey' && !key)
    resource.fail('accessKeyDetails', `missing required field 'accessKeyDetails' (resourceType is AccessKey)`);
  if (key) {
    addUnique(resources.accessKeyIds, key.optString('accessKeyId'));
    const userType = key.optString('userType');
    const userName = key.optString('userName');
    // For credentials of an assumed role (instance credentials exfiltrated), userName is the role.
    if (userType === 'AssumedRole') addUnique(resources.roleNames, userName);
    else if (userType !== 'Root') addUnique(resources.userNames, userName);
    if (resourceType === 'AccessKey' && resources.accessKeyIds.length === 0 && !userName) {
      key.fail('accessKeyId', `missing required field 'accessKeyId' (the finding names neither an access key nor a user)`);
    }
  }

  const action = service?.optObj('action');
  if (action) {
    for (const kind of ['networkConnectionAction', 'awsApiCallAction', 'kubernetesApiCallAction', 'rdsLoginAttemptAction']) {
      const details = action.optObj(kind)?.optObj('remoteIpDetails');
      if (details) addIp(resources.remoteIps, details.value.ipAddressV4 ?? details.value.ipAddressV6);
    }
    for (const probe of action.optObj('portProbeAction')?.objects('portProbeDetails') ?? []) {
      const details = probe.optObj('remoteIpDetails');
      if (details) addIp(resources.remoteIps, details.value.ipAddressV4 ?? details.value.ipAddressV6);
    }
  }

  const archived = service?.optBoolean('archived') === true;
  const additional = service?.optObj('additionalInfo');
  const count = service?.optNumber('count');
  const title = f.optString('title');
  const updatedAt = f.optString('updatedAt');
  const dedupKey = guardDutyKey(account, region, id);
  return {
    adapter: 'guardduty',
    source: 'guardduty',
    type,
    ...(title ? { title } : {}),
    severity,
    severityLabel: labelOf(severity),
    account,
    region,
    resources,
    tags,
    active: !archived,
    ...(archived ? { inactiveReason: 'the finding is archived' } : {}),
    sample: additional?.optBoolean('sample') === true,
    ...(count !== undefined ? { count } : {}),
    ...(updatedAt ? { time: updatedAt } : {}),
    dedupKey,
    runId: runIdFor('guardduty', dedupKey),
    deliveryId: opts.deliveryId,
    raw: opts.raw,
  };
}
