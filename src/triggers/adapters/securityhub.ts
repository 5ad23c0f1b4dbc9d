/**
 * Security Hub findings in the AWS Security Finding Format (ASFF), as EventBridge delivers them:
 * `detail-type: "Security Hub Findings - Imported"`, `detail.findings[]`, one alert per finding.
 * https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-findings-format.html
 *
 * A GuardDuty finding forwarded by Security Hub keeps GuardDuty's finding ARN as its `Id`; it gets
 * the GuardDuty dedup key, so the same finding arriving both ways starts one run.
 */
import { addIp, addUnique, emptyResources, LABEL_SEVERITY, labelOf, runIdFor, type Alert, type SeverityLabel } from '../alert.js';
import { FieldReader, type Json } from '../read.js';
import { guardDutyKey } from './guardduty.js';

const WHAT = 'Security Hub finding';
const LABELS = Object.keys(LABEL_SEVERITY) as SeverityLabel[];
const GUARDDUTY_ID = /^arn:aws[\w-]*:guardduty:([a-z0-9-]+):(\d{12}):detector\/[^/]+\/finding\/([^/]+)$/;
const ACCESS_KEY_IN_ID = /\b((?:AKIA|ASIA)[A-Z0-9]{16})\b/;

export function parseAsff(
  finding: Json,
  opts: { deliveryId: string; raw: unknown; prefix: string; file?: string; envelopeRegion?: string },
): Alert {
  const f = new FieldReader(WHAT, finding, opts.prefix, opts.file);
  const id = f.string('Id');
  const account = f.string('AwsAccountId');
  const productArn = f.string('ProductArn');
  const types = f.strings('Types');
  const type = types[0] ?? f.string('GeneratorId');
  const region = f.optString('Region') ?? opts.envelopeRegion ?? /^arn:aws[\w-]*:securityhub:([a-z0-9-]+):/.exec(productArn)?.[1];

  const sev = f.obj('Severity');
  const normalized = sev.optNumber('Normalized');
  const label = sev.optString('Label');
  if (label !== undefined && !LABELS.includes(label as SeverityLabel))
    sev.fail('Label', `expected one of ${LABELS.join(', ')}, got '${label}'`);
  if (normalized === undefined && label === undefined) sev.fail('Label', `missing required field 'Label' (or 'Normalized')`);
  // Label is authoritative since ASFF deprecated Normalized; Normalized (0–100) refines it when both agree.
  const fromLabel = label !== undefined ? LABEL_SEVERITY[label as SeverityLabel] : undefined;
  let severity = normalized !== undefined ? Math.round(normalized) / 10 : fromLabel!;
  if (label !== undefined && labelOf(severity) !== label) severity = fromLabel!;
  const severityLabel = (label as SeverityLabel | undefined) ?? labelOf(severity);

  const resources = emptyResources();
  const tags: Alert['tags'] = {};
  const list = f.objects('Resources');
  if (list.length === 0) f.fail('Resources', `missing required field 'Resources' (an ASFF finding names at least one resource)`);
  for (const r of list) {
    const rType = r.string('Type');
    const rId = r.string('Id');
    let key: string | undefined;
    switch (rType) {
      case 'AwsEc2Instance': {
        const m = /(?:^|instance\/)(i-[0-9a-f]{8,17})$/.exec(rId);
        if (!m) return r.fail('Id', `expected an instance ARN or id, got '${rId}'`);
        key = m[1]!;
        addUnique(resources.instanceIds, key);
        break;
      }
      case 'AwsIamAccessKey': {
        const details = r.optObj('Details')?.optObj('AwsIamAccessKey');
        key = ACCESS_KEY_IN_ID.exec(rId)?.[1];
        addUnique(resources.accessKeyIds, key);
        const principal = details?.optString('PrincipalName') ?? details?.optString('UserName');
        if (details?.optString('PrincipalType') === 'AssumedRole') addUnique(resources.roleNames, principal);
        else addUnique(resources.userNames, principal);
        break;
      }
      case 'AwsIamUser':
        key = r.optObj('Details')?.optObj('AwsIamUser')?.optString('UserName') ?? /:user\/(?:.*\/)?([^/]+)$/.exec(rId)?.[1];
        addUnique(resources.userNames, key);
        break;
      case 'AwsIamRole':
        key = r.optObj('Details')?.optObj('AwsIamRole')?.optString('RoleName') ?? /:role\/(?:.*\/)?([^/]+)$/.exec(rId)?.[1];
        addUnique(resources.roleNames, key);
        break;
    }
    const t = r.optObj('Tags');
    if (key && t)
      tags[key] = Object.fromEntries(Object.entries(t.value).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
  }

  const network = f.optObj('Network');
  if (network)
    addIp(
      resources.remoteIps,
      network.optString('Direction') === 'OUT' ? network.optString('DestinationIpV4') : network.optString('SourceIpV4'),
    );
  const action = f.optObj('Action');
  if (action) {
    for (const kind of ['NetworkConnectionAction', 'AwsApiCallAction'])
      addIp(resources.remoteIps, action.optObj(kind)?.optObj('RemoteIpDetails')?.value.IpAddressV4);
    for (const p of action.optObj('PortProbeAction')?.objects('PortProbeDetails') ?? [])
      addIp(resources.remoteIps, p.optObj('RemoteIpDetails')?.value.IpAddressV4);
  }

  const record = f.optString('RecordState');
  const workflow = f.optObj('Workflow')?.optString('Status');
  const inactiveReason =
    record === 'ARCHIVED'
      ? 'the finding is archived (RecordState ARCHIVED)'
      : workflow === 'RESOLVED' || workflow === 'SUPPRESSED'
        ? `the finding's workflow status is ${workflow}`
        : undefined;
  const productFields = f.optObj('ProductFields');
  const countField = productFields?.value['aws/guardduty/service/count'];
  const count = typeof countField === 'string' && /^\d+$/.test(countField) ? Number(countField) : undefined;

  const gd = /\/aws\/guardduty$/.test(productArn) ? GUARDDUTY_ID.exec(id) : null;
  const dedupKey = gd ? guardDutyKey(gd[2]!, gd[1]!, gd[3]!) : `securityhub:${id}`;
  const title = f.optString('Title');
  const time = f.optString('UpdatedAt');
  return {
    adapter: 'securityhub',
    source: 'securityhub',
    type,
    ...(title ? { title } : {}),
    severity,
    severityLabel,
    account,
    ...(region ? { region } : {}),
    resources,
    tags,
    active: inactiveReason === undefined,
    ...(inactiveReason ? { inactiveReason } : {}),
    sample: f.optBoolean('Sample') === true,
    ...(count !== undefined ? { count } : {}),
    ...(time ? { time } : {}),
    dedupKey,
    runId: runIdFor(gd ? 'guardduty' : 'securityhub', dedupKey),
    deliveryId: opts.deliveryId,
    raw: opts.raw,
  };
}
