/**
 * The normalized alert every adapter produces: what routing, deduplication and the run see,
 * whatever service raised it. The raw event is kept beside it for routes that map inputs from
 * fields Firebreak does not normalize.
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';

export type AdapterName = 'guardduty' | 'securityhub' | 'cloudwatch-alarm' | 'generic';

export type SeverityLabel = 'INFORMATIONAL' | 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';

export interface AlertResources {
  instanceIds: string[];
  accessKeyIds: string[];
  userNames: string[];
  roleNames: string[];
  remoteIps: string[];
}

export interface Alert {
  adapter: AdapterName;
  /** `guardduty`, `securityhub`, `cloudwatch`, or a generic alert's own source. */
  source: string;
  /** Finding type (`CryptoCurrency:EC2/BitcoinTool.B!DNS`), ASFF type, or `CloudWatchAlarm:ALARM/<name>`. */
  type: string;
  title?: string;
  /** 0–10: GuardDuty's own scale; ASFF Normalized / 10; see each adapter. */
  severity: number;
  severityLabel: SeverityLabel;
  account?: string;
  region?: string;
  resources: AlertResources;
  /** Tags the alert itself carries, by resource id (GuardDuty instance tags, ASFF resource tags). */
  tags: Record<string, Record<string, string>>;
  /** False for a finding that was archived, resolved or suppressed, or an alarm back to OK: never acted on. */
  active: boolean;
  inactiveReason?: string;
  /** GuardDuty's console "Generate sample findings": ignored unless a route opts in. */
  sample: boolean;
  /** How many times the source has seen this activity (GuardDuty `service.count`). */
  count?: number;
  time?: string;
  /** What makes two deliveries the same incident: one run per key. */
  dedupKey: string;
  /** The run id derived from the dedup key. */
  runId: string;
  /** What makes two deliveries the same message (SNS MessageId, EventBridge id, or a hash of the body). */
  deliveryId: string;
  raw: unknown;
}

export const RESOURCE_KINDS = ['instanceIds', 'accessKeyIds', 'userNames', 'roleNames', 'remoteIps'] as const;

/** Readable, file-safe run id: `gd-3fa9c1d2e4b5` (prefix by source, first 12 hex of the key's SHA-256). */
export function runIdFor(adapter: AdapterName, dedupKey: string): string {
  const prefix = { guardduty: 'gd', securityhub: 'sh', 'cloudwatch-alarm': 'cw', generic: 'ev' }[adapter];
  return `${prefix}-${sha256(dedupKey).slice(0, 12)}`;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** GuardDuty's bands, also used for ASFF labels: Low < 4, Medium < 7, High < 9, Critical from 9. */
export function labelOf(severity: number): SeverityLabel {
  if (severity <= 0) return 'INFORMATIONAL';
  if (severity < 4) return 'LOW';
  if (severity < 7) return 'MEDIUM';
  if (severity < 9) return 'HIGH';
  return 'CRITICAL';
}

/** A label given without a number: the low end of its band, so a minimum-severity route never over-matches. */
export const LABEL_SEVERITY: Record<SeverityLabel, number> = { INFORMATIONAL: 0, LOW: 1, MEDIUM: 4, HIGH: 7, CRITICAL: 9 };

export function emptyResources(): AlertResources {
  return { instanceIds: [], accessKeyIds: [], userNames: [], roleNames: [], remoteIps: [] };
}

export const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;
export const ACCESS_KEY_ID = /^(AKIA|ASIA|AIDA|AROA)[A-Z0-9]{12,124}$/;

/** Adds each value once, keeping first-seen order (the first instance is the one a route most likely wants). */
export function addUnique(list: string[], ...values: Array<string | undefined | null>): void {
  for (const v of values) if (typeof v === 'string' && v !== '' && !list.includes(v)) list.push(v);
}

export function addIp(list: string[], ip: unknown): void {
  if (typeof ip === 'string' && isIP(ip) !== 0) addUnique(list, ip);
}

export function resourceCount(r: AlertResources): number {
  return RESOURCE_KINDS.reduce((n, k) => n + r[k].length, 0);
}

/** The alert as journaled and shown: everything but the raw event. */
export function alertSummary(a: Alert): Record<string, unknown> {
  const { raw: _raw, ...rest } = a;
  return rest;
}

/** `CryptoCurrency:EC2/BitcoinTool.B!DNS (HIGH 8) on i-0abc…, 198.51.100.7 in 111122223333/us-east-1` */
export function describeAlert(a: Alert): string {
  const ids = RESOURCE_KINDS.flatMap((k) => a.resources[k]);
  const where = [a.account, a.region].filter(Boolean).join('/');
  return `${a.type} (${a.severityLabel} ${a.severity})${ids.length ? ` on ${ids.slice(0, 4).join(', ')}${ids.length > 4 ? ', …' : ''}` : ''}${where ? ` in ${where}` : ''}`;
}
