/**
 * Generic alerts: any tool that can POST JSON. The minimal shape (README, "Alerts"):
 *
 *   { "source": "my-ids", "id": "alert-42", "type": "Recon:EC2/PortScan", "severity": 7.5,
 *     "resources": { "instanceIds": ["i-0abc123def4567890"] } }
 *
 * plus optional account, region, title, time, count, tags (by resource id) and details (kept,
 * not read). Unknown top-level fields are refused so a misspelt `resouces` is not silently empty.
 * The source and id are the dedup key: a tool re-sending an alert keeps its id.
 */
import * as z from 'zod';
import { InputError } from '../../core/errors.js';
import { dottedPath } from '../../core/yaml-source.js';
import { addIp, LABEL_SEVERITY, labelOf, RESOURCE_KINDS, resourceCount, runIdFor, type Alert, type SeverityLabel } from '../alert.js';
import { isObject } from '../read.js';

const Ids = z.array(z.string().min(1)).default([]);

export const GenericAlert = z.strictObject({
  source: z.string().min(1).max(128),
  id: z.string().min(1).max(512),
  type: z.string().min(1).max(256),
  severity: z.union([z.number().min(0).max(10), z.enum(['INFORMATIONAL', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'])]),
  title: z.string().optional(),
  account: z
    .string()
    .regex(/^\d{12}$/, 'a 12-digit AWS account id')
    .optional(),
  region: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as us-east-1')
    .optional(),
  time: z.string().optional(),
  count: z.number().int().min(1).optional(),
  active: z.boolean().default(true),
  resources: z.strictObject({
    instanceIds: z.array(z.string().regex(/^i-[0-9a-f]{8,17}$/, 'an instance id such as i-0abc123def4567890')).default([]),
    accessKeyIds: Ids,
    userNames: Ids,
    roleNames: Ids,
    remoteIps: z.array(z.union([z.ipv4(), z.ipv6()])).default([]),
  }),
  tags: z.record(z.string(), z.record(z.string(), z.string())).default({}),
  details: z.unknown().optional(),
});

function valueAt(v: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = v;
  for (const k of path) cur = isObject(cur) || Array.isArray(cur) ? (cur as Record<PropertyKey, unknown>)[k] : undefined;
  return cur;
}

/** A generic alert is recognised by its three required strings (after every AWS shape was ruled out). */
export function looksGeneric(v: unknown): boolean {
  return isObject(v) && typeof v.source === 'string' && typeof v.id === 'string' && typeof v.type === 'string';
}

export function parseGeneric(value: unknown, opts: { deliveryId: string; raw: unknown; prefix?: string }): Alert {
  const parsed = GenericAlert.safeParse(value);
  if (!parsed.success) {
    const [first, ...rest] = parsed.error.issues.map((i) => {
      const field =
        dottedPath([...(opts.prefix ? [opts.prefix] : []), ...i.path.map((p) => (typeof p === 'symbol' ? String(p) : p))]) || '(top level)';
      const missing = i.code === 'invalid_type' && i.path.length > 0 && valueAt(value, i.path) === undefined;
      const msg =
        i.code === 'unrecognized_keys'
          ? `unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `'${k}'`).join(', ')}`
          : missing
            ? `missing required field '${String(i.path.at(-1))}'`
            : i.message;
      return new InputError(`failed to read generic alert: ${msg}`, { field, hint: 'see README, "Alerts": the generic alert shape' });
    });
    throw new InputError(first!.message, { field: first!.field!, ...(first!.hint ? { hint: first!.hint } : {}), more: rest });
  }
  const a = parsed.data;
  if (resourceCount(a.resources) === 0) {
    throw new InputError('failed to read generic alert: resources names no instance, access key, user, role or remote IP', {
      field: 'resources',
      hint: `give at least one of ${RESOURCE_KINDS.join(', ')}`,
    });
  }
  const severity = typeof a.severity === 'number' ? a.severity : LABEL_SEVERITY[a.severity as SeverityLabel];
  const remoteIps: string[] = [];
  for (const ip of a.resources.remoteIps) addIp(remoteIps, ip);
  // A source's ids may repeat across the accounts and Regions it watches: the same id there is another alert.
  const where = a.account || a.region ? `${a.account ?? ''}/${a.region ?? ''}:` : '';
  const dedupKey = `generic:${a.source}:${where}${a.id}`;
  return {
    adapter: 'generic',
    source: a.source,
    type: a.type,
    ...(a.title ? { title: a.title } : {}),
    severity,
    severityLabel: typeof a.severity === 'string' ? (a.severity as SeverityLabel) : labelOf(severity),
    ...(a.account ? { account: a.account } : {}),
    ...(a.region ? { region: a.region } : {}),
    resources: { ...a.resources, remoteIps },
    tags: a.tags,
    active: a.active,
    ...(a.active ? {} : { inactiveReason: 'the alert says it is no longer active' }),
    sample: false,
    ...(a.count !== undefined ? { count: a.count } : {}),
    ...(a.time ? { time: a.time } : {}),
    dedupKey,
    runId: runIdFor('generic', dedupKey),
    deliveryId: opts.deliveryId,
    raw: opts.raw,
  };
}
