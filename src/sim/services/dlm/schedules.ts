/** Data Lifecycle Manager schedules on the simulated clock: the snapshots a policy owes, and retention. */
import { createHash } from 'node:crypto';
import type { Ec2World } from '../ec2/schema.js';
import type { PolicyDetailsT, WithDlm } from './schema.js';

// ---------------------------------------------------------------------------------------------
// Schedules on the simulated clock
// ---------------------------------------------------------------------------------------------

export const HOUR = 3_600_000;

/** Creation times of a schedule in (after, upTo]: every Interval hours from the daily start time. */
export function slotsBetween(rule: { Interval?: number | undefined; Times?: string[] | undefined }, after: number, upTo: number): number[] {
  if (!rule.Interval) return [];
  const [hh, mm] = (rule.Times?.[0] ?? '00:00').split(':').map(Number) as [number, number];
  const step = rule.Interval * HOUR;
  // Intervals divide 24 h, so the slots are the same every day: anchor on any day's start time.
  const dayStart = Math.floor(after / (24 * HOUR)) * 24 * HOUR;
  let t = dayStart + hh * HOUR + mm * 60_000;
  t -= Math.ceil((t - after) / step) * step;
  while (t <= after) t += step;
  const out: number[] = [];
  for (; t <= upTo; t += step) out.push(t);
  return out;
}

export function retentionCutoff(
  rule: { Interval?: number | undefined; IntervalUnit?: string | undefined },
  now: number,
): number | undefined {
  if (rule.Interval === undefined || !rule.IntervalUnit) return undefined;
  const day = 24 * HOUR;
  const unit = { DAYS: day, WEEKS: 7 * day, MONTHS: 30 * day, YEARS: 365 * day }[rule.IntervalUnit] ?? day;
  return now - rule.Interval * unit;
}

export interface DlmRunResult {
  created: string[];
  deleted: string[];
}

/**
 * Take the snapshots every enabled snapshot policy's schedules owe between their last run and
 * `now`, and apply retention. Call it when the simulated clock moves. A volume is targeted when
 * it (for VOLUME policies) or the instance it is attached to (INSTANCE policies) carries any of
 * the policy's target tags. Snapshots are tagged as DLM tags them (aws:dlm:lifecycle-policy-id,
 * aws:dlm:lifecycle-schedule-name, dlm:managed), plus TagsToAdd and, with CopyTags, the volume's
 * tags. Cron schedules are not simulated. Returns the snapshot ids created and deleted.
 */
export function runDlmSchedules(world: WithDlm & { ec2?: Partial<Ec2World> }, now: Date): DlmRunResult {
  const result: DlmRunResult = { created: [], deleted: [] };
  const ec2 = world.ec2;
  if (!ec2?.volumes || !ec2.snapshots) return result;
  const nowMs = now.getTime();
  for (const policy of world.dlm.policies) {
    const d = policy.policyDetails;
    if (policy.state !== 'ENABLED' || (d.PolicyType ?? 'EBS_SNAPSHOT_MANAGEMENT') !== 'EBS_SNAPSHOT_MANAGEMENT') continue;
    const volumes = targetedVolumes(ec2, d);
    for (const [index, schedule] of (d.Schedules ?? []).entries()) {
      const name = schedule.Name ?? `Schedule ${index + 1}`;
      const rule = schedule.CreateRule;
      if (!rule || rule.CronExpression !== undefined) continue;
      const since = Date.parse(policy.lastRuns[name] ?? policy.modifiedAt ?? policy.createdAt);
      const slots = slotsBetween(rule, since, nowMs);
      if (!slots.length) continue;
      for (const slot of slots) {
        for (const vol of volumes) {
          const id = `snap-${createHash('sha256').update(`${policy.id}/${name}/${vol.id}/${slot}`).digest('hex').slice(0, 17)}`;
          if (ec2.snapshots.some((s) => s.id === id)) continue;
          const startTime = new Date(slot).toISOString();
          const completion = (ec2.snapshotCompletionSeconds ?? 0) * 1000;
          ec2.snapshots.push({
            id,
            volumeId: vol.id,
            volumeSize: vol.size,
            state: slot + completion <= nowMs ? 'completed' : 'pending',
            startTime,
            ...(slot + completion > nowMs ? { completesAt: new Date(slot + completion).toISOString() } : {}),
            description: `Created for policy: ${policy.id} schedule: ${name}`,
            encrypted: vol.encrypted,
            tags: {
              ...(schedule.CopyTags ? vol.tags : {}),
              ...Object.fromEntries((schedule.TagsToAdd ?? []).map((t) => [t.Key, t.Value])),
              'aws:dlm:lifecycle-policy-id': policy.id,
              'aws:dlm:lifecycle-schedule-name': name,
              'dlm:managed': 'true',
            },
          });
          result.created.push(id);
        }
      }
      policy.lastRuns[name] = new Date(slots[slots.length - 1]!).toISOString();
      result.deleted.push(...applyRetention(ec2, policy.id, name, schedule.RetainRule, nowMs));
    }
  }
  return result;
}

export function targetedVolumes(ec2: Partial<Ec2World>, d: PolicyDetailsT) {
  const tagged = (tags: Record<string, string>) => (d.TargetTags ?? []).some((t) => tags[t.Key] === t.Value);
  const out = new Map<string, Ec2World['volumes'][number]>();
  if (d.ResourceTypes?.includes('VOLUME')) for (const v of ec2.volumes ?? []) if (tagged(v.tags)) out.set(v.id, v);
  if (d.ResourceTypes?.includes('INSTANCE')) {
    for (const inst of ec2.instances ?? []) {
      if (!tagged(inst.tags) || inst.state === 'terminated') continue;
      for (const b of inst.blockDevices) {
        if (d.Parameters?.ExcludeBootVolume && b.deviceName === inst.rootDeviceName) continue;
        const v = ec2.volumes?.find((x) => x.id === b.volumeId);
        if (v) out.set(v.id, v);
      }
    }
  }
  return [...out.values()];
}

export function applyRetention(
  ec2: Partial<Ec2World>,
  policyId: string,
  schedule: string,
  rule: { Count?: number | undefined; Interval?: number | undefined; IntervalUnit?: string | undefined } | undefined,
  now: number,
): string[] {
  if (!rule || !ec2.snapshots) return [];
  const mine = ec2.snapshots.filter(
    (s) => s.tags['aws:dlm:lifecycle-policy-id'] === policyId && s.tags['aws:dlm:lifecycle-schedule-name'] === schedule,
  );
  const doomed = new Set<string>();
  const byVolume = new Map<string, typeof mine>();
  for (const s of mine) byVolume.set(s.volumeId, [...(byVolume.get(s.volumeId) ?? []), s]);
  for (const list of byVolume.values()) {
    const newestFirst = list.sort((a, b) => Date.parse(b.startTime) - Date.parse(a.startTime));
    if (rule.Count !== undefined) for (const s of newestFirst.slice(rule.Count)) doomed.add(s.id);
    const cutoff = retentionCutoff(rule, now);
    if (cutoff !== undefined) for (const s of newestFirst.filter((x) => Date.parse(x.startTime) < cutoff)) doomed.add(s.id);
  }
  ec2.snapshots.splice(0, ec2.snapshots.length, ...ec2.snapshots.filter((s) => !doomed.has(s.id)));
  return [...doomed];
}
