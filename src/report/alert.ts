/**
 * The alert that started a run, as the report shows it: what the run's journal recorded of it
 * (run.started `trigger.alert`, the adapter's summary), with first and last seen read from the
 * raw event where the source gives them, and the raw event kept whole for a folded section.
 */
export interface AlertView {
  source: string;
  type: string;
  severity?: string;
  title?: string;
  account?: string;
  region?: string;
  resources: string[];
  firstSeen?: string;
  lastSeen?: string;
  count?: number;
  route?: string;
  via?: string;
  deliveryId?: string;
  raw?: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The first string value under any of `keys`, searched depth-first (GuardDuty nests under detail.service, ASFF under detail.findings[]). */
function find(v: unknown, keys: readonly string[], depth = 0): string | undefined {
  if (depth > 6) return undefined;
  if (Array.isArray(v)) {
    for (const x of v) {
      const f = find(x, keys, depth + 1);
      if (f) return f;
    }
    return undefined;
  }
  if (!isObj(v)) return undefined;
  for (const k of keys) if (typeof v[k] === 'string') return v[k];
  for (const x of Object.values(v)) {
    const f = find(x, keys, depth + 1);
    if (f) return f;
  }
  return undefined;
}

export function alertOf(trigger: unknown): AlertView | undefined {
  if (!isObj(trigger) || !isObj(trigger.alert)) return undefined;
  const a = trigger.alert;
  const res = isObj(a.resources) ? a.resources : {};
  const resources = Object.values(res).flatMap((v) => (Array.isArray(v) ? v.map(String) : []));
  const raw = trigger.event;
  const firstSeen = find(raw, ['eventFirstSeen', 'FirstObservedAt', 'firstObservedAt']);
  const lastSeen = find(raw, ['eventLastSeen', 'LastObservedAt', 'lastObservedAt']) ?? (typeof a.time === 'string' ? a.time : undefined);
  return {
    source: String(a.source ?? a.adapter ?? '?'),
    type: String(a.type ?? '?'),
    ...(a.severity !== undefined ? { severity: `${a.severityLabel ?? ''} ${a.severity}`.trim() } : {}),
    ...(typeof a.title === 'string' ? { title: a.title } : {}),
    ...(typeof a.account === 'string' ? { account: a.account } : {}),
    ...(typeof a.region === 'string' ? { region: a.region } : {}),
    resources,
    ...(firstSeen ? { firstSeen } : {}),
    ...(lastSeen ? { lastSeen } : {}),
    ...(typeof a.count === 'number' ? { count: a.count } : {}),
    ...(typeof trigger.route === 'string' ? { route: trigger.route } : {}),
    ...(typeof trigger.via === 'string' ? { via: trigger.via } : {}),
    ...(typeof trigger.deliveryId === 'string' ? { deliveryId: trigger.deliveryId } : {}),
    ...(raw !== undefined ? { raw: JSON.stringify(raw, null, 2) } : {}),
  };
}
