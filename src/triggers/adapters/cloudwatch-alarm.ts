/**
 * CloudWatch alarm notifications, as an alarm's SNS action publishes them: the SNS message's
 * `Message` is a JSON string with AlarmName, NewStateValue, StateChangeTime, AlarmArn and Trigger
 * (Dimensions for a single-metric alarm, Metrics[] for a metric-math alarm).
 *
 * An alarm carries no severity of its own: ALARM counts as HIGH (7), other states as
 * INFORMATIONAL and inactive (an alarm back to OK is good news, never a reason to act).
 * The alarm name and state-change time are the dedup key: each transition into ALARM is one incident.
 */
import { addIp, addUnique, emptyResources, labelOf, runIdFor, type Alert, type AlertResources } from '../alert.js';
import { FieldReader, isObject, type Json } from '../read.js';

const WHAT = 'CloudWatch alarm message';
export const ALARM_SEVERITY = 7;

export function isAlarmMessage(v: unknown): boolean {
  return isObject(v) && typeof v.AlarmName === 'string' && 'NewStateValue' in v;
}

/** Dimensions Firebreak reads resources from; other dimensions are kept in the raw event only. */
const DIMENSIONS: Record<string, keyof AlertResources> = {
  InstanceId: 'instanceIds',
  AccessKeyId: 'accessKeyIds',
  UserName: 'userNames',
  RoleName: 'roleNames',
  SourceIp: 'remoteIps',
  RemoteIp: 'remoteIps',
};

export function parseAlarm(
  message: Json,
  opts: { deliveryId: string; raw: unknown; prefix: string; topicArn?: string; file?: string },
): Alert {
  const m = new FieldReader(WHAT, message, opts.prefix, opts.file);
  const name = m.string('AlarmName');
  const state = m.string('NewStateValue');
  if (!['ALARM', 'OK', 'INSUFFICIENT_DATA'].includes(state))
    m.fail('NewStateValue', `expected ALARM, OK or INSUFFICIENT_DATA, got '${state}'`);
  const changed = m.string('StateChangeTime');
  const arn = m.optString('AlarmArn');
  const account = m.optString('AWSAccountId') ?? (arn ? /^arn:aws[\w-]*:cloudwatch:[^:]*:(\d{12}):/.exec(arn)?.[1] : undefined);
  // `Region` in the message is a display name ("US East (N. Virginia)"); the ARNs carry the code.
  const region =
    (arn ? /^arn:aws[\w-]*:cloudwatch:([a-z0-9-]+):/.exec(arn)?.[1] : undefined) ??
    (opts.topicArn ? /^arn:aws[\w-]*:sns:([a-z0-9-]+):/.exec(opts.topicArn)?.[1] : undefined);

  const resources = emptyResources();
  const trigger = m.optObj('Trigger');
  const dimensionLists = [
    trigger?.objects('Dimensions') ?? [],
    ...(trigger?.objects('Metrics') ?? []).map((x) => x.optObj('MetricStat')?.optObj('Metric')?.objects('Dimensions') ?? []),
  ];
  for (const dims of dimensionLists) {
    for (const d of dims) {
      // The alarm message spells dimension keys in lower case (name/value); accept both.
      const dn = d.optString('name') ?? d.optString('Name');
      const dv = d.optString('value') ?? d.optString('Value');
      const kind = dn ? DIMENSIONS[dn] : undefined;
      if (!kind || dv === undefined) continue;
      if (kind === 'remoteIps') addIp(resources.remoteIps, dv);
      else addUnique(resources[kind], dv);
    }
  }

  const severity = state === 'ALARM' ? ALARM_SEVERITY : 0;
  const dedupKey = `cloudwatch:${arn ?? `${account ?? '?'}:${region ?? '?'}:${name}`}:${changed}`;
  const description = m.optString('AlarmDescription');
  return {
    adapter: 'cloudwatch-alarm',
    source: 'cloudwatch',
    type: `CloudWatchAlarm:${state}/${name}`,
    title: description ? `${name}: ${description}` : name,
    severity,
    severityLabel: labelOf(severity),
    ...(account ? { account } : {}),
    ...(region ? { region } : {}),
    resources,
    tags: {},
    active: state === 'ALARM',
    ...(state !== 'ALARM' ? { inactiveReason: `the alarm's new state is ${state}, not ALARM` } : {}),
    sample: false,
    time: changed,
    dedupKey,
    runId: runIdFor('cloudwatch-alarm', dedupKey),
    deliveryId: opts.deliveryId,
    raw: opts.raw,
  };
}
