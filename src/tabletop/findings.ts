/**
 * Alert injects → the events production receives: a GuardDuty finding or a Security Hub (ASFF)
 * finding inside the EventBridge envelope, with the ids, account, region and times AWS fills in.
 * Ids are derived from the scenario and the finding, so the same scenario gives the same events.
 *
 * Shapes: EventBridge "GuardDuty Finding" events carry the finding itself in `detail`; "Security
 * Hub Findings - Imported" events carry `detail.findings[]` in ASFF.
 */
import { createHash } from 'node:crypto';
import type { AlertT } from './scenario.js';

export interface AlertEvent {
  /** The event as production would receive it. */
  event: Record<string, unknown>;
  /** What makes two copies of one alert the same alert (the finding id). */
  dedupKey: string;
  /** One line for the facilitator and the report. */
  summary: string;
  source: 'guardduty' | 'securityhub' | 'event';
}

export interface EventContext {
  scenarioId: string;
  injectKey: string;
  accountId: string;
  region: string;
  now: Date;
}

const hex = (seed: string, n: number) => createHash('sha256').update(seed).digest('hex').slice(0, n);

/** A UUID-shaped id (version 4 layout) derived from `seed`. */
export function derivedUuid(seed: string): string {
  const h = hex(seed, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function envelope(detailType: string, source: string, c: EventContext, resources: string[], detail: unknown): Record<string, unknown> {
  return {
    version: '0',
    id: derivedUuid(`event/${c.scenarioId}/${c.injectKey}`),
    'detail-type': detailType,
    source,
    account: c.accountId,
    time: c.now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: c.region,
    resources,
    detail,
  };
}

function guardDuty(f: NonNullable<AlertT['guardduty']>, c: EventContext): AlertEvent {
  const detectorId = hex(`detector/${c.scenarioId}`, 32);
  // GuardDuty keeps one finding id per finding type and resource: a repeat updates it (count + 1).
  const id = f.id ?? hex(`finding/${c.scenarioId}/${f.type}/${JSON.stringify(f.resource)}`, 32);
  const iso = c.now.toISOString();
  const { service, ...rest } = f;
  const detail = {
    schemaVersion: '2.0',
    accountId: c.accountId,
    region: c.region,
    partition: 'aws',
    arn: `arn:aws:guardduty:${c.region}:${c.accountId}:detector/${detectorId}/finding/${id}`,
    createdAt: iso,
    updatedAt: iso,
    ...rest,
    title: f.title ?? f.type,
    description: f.description ?? `GuardDuty finding ${f.type}`,
    id,
    service: {
      serviceName: 'guardduty',
      detectorId,
      archived: false,
      count: 1,
      eventFirstSeen: iso,
      eventLastSeen: iso,
      resourceRole: 'TARGET',
      ...(service ?? {}),
    },
  };
  return {
    event: envelope('GuardDuty Finding', 'aws.guardduty', c, [], detail),
    dedupKey: `guardduty/${id}`,
    summary: `GuardDuty ${f.type} (severity ${f.severity})${resourceLabel(f.resource)}`,
    source: 'guardduty',
  };
}

function resourceLabel(resource: Record<string, unknown>): string {
  const inst = (resource.instanceDetails as { instanceId?: string } | undefined)?.instanceId;
  if (inst) return ` on ${inst}`;
  const key = resource.accessKeyDetails as { accessKeyId?: string; userName?: string } | undefined;
  if (key?.accessKeyId) return ` on access key ${key.accessKeyId}${key.userName ? ` (${key.userName})` : ''}`;
  return '';
}

function securityHub(f: NonNullable<AlertT['securityhub']>, c: EventContext): AlertEvent {
  const iso = c.now.toISOString();
  const productArn = `arn:aws:securityhub:${c.region}::product/aws/securityhub`;
  const id =
    f.Id ??
    `arn:aws:securityhub:${c.region}:${c.accountId}:finding/${derivedUuid(`asff/${c.scenarioId}/${f.Title}/${JSON.stringify(f.Resources)}`)}`;
  const finding = {
    SchemaVersion: '2018-10-08',
    ProductArn: productArn,
    ProductName: 'Security Hub',
    CompanyName: 'AWS',
    Region: c.region,
    GeneratorId: f.GeneratorId ?? 'firebreak-tabletop',
    AwsAccountId: c.accountId,
    FirstObservedAt: iso,
    CreatedAt: iso,
    UpdatedAt: iso,
    RecordState: 'ACTIVE',
    Workflow: { Status: 'NEW' },
    ...f,
    Id: id,
  };
  return {
    event: envelope('Security Hub Findings - Imported', 'aws.securityhub', c, [id], { findings: [finding] }),
    dedupKey: `securityhub/${id}`,
    summary: `Security Hub ${f.Severity.Label}: ${f.Title}`,
    source: 'securityhub',
  };
}

export function buildAlertEvent(alert: AlertT, c: EventContext): AlertEvent {
  if (alert.guardduty) return guardDuty(alert.guardduty, c);
  if (alert.securityhub) return securityHub(alert.securityhub, c);
  const event = alert.event!;
  const key = typeof event.id === 'string' ? event.id : hex(JSON.stringify(event), 32);
  const label = typeof event['detail-type'] === 'string' ? event['detail-type'] : 'alert';
  return { event, dedupKey: `event/${key}`, summary: String(label), source: 'event' };
}
