/**
 * Simulated Amazon Data Lifecycle Manager: EBS snapshot lifecycle policies — the way a responder
 * raises the snapshot frequency of a suspicious instance's volumes — and, on the simulated
 * clock, the snapshots those policies take (`runDlmSchedules`).
 *
 * A policy's PolicyDetails is kept in AWS's own shape (as the API and CloudFormation write it),
 * so GetLifecyclePolicy returns what was given. Error names given to `ctx.fail` are the SDK's:
 * DLM is a JSON protocol, so codes and exception names coincide.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import type { SimContext, SimService } from '../service.js';
import type { Ec2World } from '../ec2-schema.js';
import { DLM } from '../../cloud/sdk.js';

const Timestamp = z.iso.datetime({ offset: true });
const WORLD_EPOCH = '2025-01-01T00:00:00Z';
const Tags = z.record(z.string().min(1).max(128), z.string().max(256)).default({}).describe('tag key → value');
const AwsTag = z.strictObject({ Key: z.string().min(1).max(128), Value: z.string().max(256) });

/** CreateRule.Interval values DLM accepts, all in HOURS. */
export const DLM_INTERVALS = [1, 2, 3, 4, 6, 8, 12, 24] as const;

const Schedule = z.looseObject({
  Name: z.string().min(1).max(120).optional(),
  CopyTags: z.boolean().optional(),
  TagsToAdd: z.array(AwsTag).max(45).optional(),
  CreateRule: z
    .looseObject({
      Interval: z.number().int().optional(),
      IntervalUnit: z.string().optional(),
      Times: z
        .array(z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a UTC time hh:mm'))
        .max(1)
        .optional(),
      CronExpression: z.string().optional(),
      Location: z.enum(['CLOUD', 'OUTPOST_LOCAL']).optional(),
    })
    .optional(),
  RetainRule: z
    .looseObject({
      Count: z.number().int().min(0).max(1000).optional(),
      Interval: z.number().int().min(0).optional(),
      IntervalUnit: z.enum(['DAYS', 'WEEKS', 'MONTHS', 'YEARS']).optional(),
    })
    .optional(),
});

/** AWS's PolicyDetails; the fields the simulation acts on are typed, any others are kept as given. */
const PolicyDetails = z.looseObject({
  PolicyType: z.enum(['EBS_SNAPSHOT_MANAGEMENT', 'IMAGE_MANAGEMENT', 'EVENT_BASED_POLICY']).optional(),
  ResourceTypes: z.array(z.enum(['VOLUME', 'INSTANCE'])).optional(),
  TargetTags: z.array(AwsTag).max(50).optional(),
  Schedules: z.array(Schedule).max(4).optional(),
  Parameters: z.looseObject({ ExcludeBootVolume: z.boolean().optional(), NoReboot: z.boolean().optional() }).optional(),
});
type PolicyDetailsT = z.infer<typeof PolicyDetails>;

/**
 * The rules DLM applies to a snapshot policy's details beyond their shape. Returns the first
 * problem, or undefined. The interval rule is AWS's documented one (1, 2, 3, 4, 6, 8, 12 or 24
 * hours); the wording of the messages is the simulation's own.
 */
export function policyDetailsProblem(d: PolicyDetailsT): string | undefined {
  const type = d.PolicyType ?? 'EBS_SNAPSHOT_MANAGEMENT';
  if (type !== 'EBS_SNAPSHOT_MANAGEMENT') return undefined;
  if (!d.ResourceTypes?.length) return 'ResourceTypes is required for an EBS_SNAPSHOT_MANAGEMENT policy.';
  if (!d.TargetTags?.length) return 'TargetTags is required for an EBS_SNAPSHOT_MANAGEMENT policy.';
  if (!d.Schedules?.length) return 'Schedules is required: a policy has 1 to 4 schedules.';
  for (const s of d.Schedules) {
    const c = s.CreateRule;
    if (!c) return `Schedule '${s.Name ?? ''}' has no CreateRule.`;
    if (c.CronExpression !== undefined) {
      if (c.Interval !== undefined || c.IntervalUnit !== undefined || c.Times !== undefined) {
        return `Schedule '${s.Name ?? ''}': specify either CronExpression, or Interval, IntervalUnit and Times.`;
      }
      continue;
    }
    if (c.Interval === undefined) return `Schedule '${s.Name ?? ''}': CreateRule needs either CronExpression or Interval.`;
    if (!(DLM_INTERVALS as readonly number[]).includes(c.Interval) || (c.IntervalUnit ?? 'HOURS') !== 'HOURS') {
      return `Invalid CreateRule interval ${c.Interval} ${c.IntervalUnit ?? 'HOURS'} in schedule '${s.Name ?? ''}': the interval must be 1, 2, 3, 4, 6, 8, 12 or 24 HOURS.`;
    }
    const r = s.RetainRule;
    if (r && r.Count === undefined && r.Interval === undefined) return `Schedule '${s.Name ?? ''}': RetainRule needs Count or Interval.`;
    if (r && r.Interval !== undefined && !r.IntervalUnit) return `Schedule '${s.Name ?? ''}': RetainRule.Interval needs IntervalUnit.`;
  }
  return undefined;
}

const Policy = z
  .strictObject({
    id: z.string().regex(/^policy-[0-9a-f]{17}$/, 'an id such as policy-0123456789abcdef0'),
    description: z.string().max(500),
    state: z.enum(['ENABLED', 'DISABLED', 'ERROR']).default('ENABLED'),
    statusMessage: z.string().optional(),
    executionRoleArn: z.string(),
    createdAt: Timestamp.default(WORLD_EPOCH),
    modifiedAt: Timestamp.optional(),
    policyDetails: PolicyDetails,
    tags: Tags,
    /** When each schedule (by name) last took snapshots; runDlmSchedules keeps it. */
    lastRuns: z.record(z.string(), Timestamp).default({}),
  })
  .superRefine((p, check) => {
    const problem = policyDetailsProblem(p.policyDetails);
    if (problem) check.addIssue({ code: 'custom', path: ['policyDetails'], message: problem });
  });

export const schema = z
  .strictObject({ policies: z.array(Policy).default([]) })
  .superRefine((dlm, check) => {
    const ids = new Set<string>();
    dlm.policies.forEach((p, i) => {
      if (ids.has(p.id)) check.addIssue({ code: 'custom', path: ['policies', i, 'id'], message: `duplicate policy id '${p.id}'` });
      ids.add(p.id);
    });
  })
  .prefault({});

export type DlmWorld = z.infer<typeof schema>;
export type DlmPolicy = z.infer<typeof Policy>;
interface WithDlm {
  dlm: DlmWorld;
}

const policyArn = (at: { region: string; accountId: string }, id: string) => `arn:aws:dlm:${at.region}:${at.accountId}:policy/${id}`;

// ---------------------------------------------------------------------------------------------
// Schedules on the simulated clock
// ---------------------------------------------------------------------------------------------

const HOUR = 3_600_000;

/** Creation times of a schedule in (after, upTo]: every Interval hours from the daily start time. */
function slotsBetween(rule: { Interval?: number | undefined; Times?: string[] | undefined }, after: number, upTo: number): number[] {
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

function retentionCutoff(rule: { Interval?: number | undefined; IntervalUnit?: string | undefined }, now: number): number | undefined {
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

function targetedVolumes(ec2: Partial<Ec2World>, d: PolicyDetailsT) {
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

function applyRetention(
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
    if (cutoff !== undefined) for (const s of newestFirst) if (Date.parse(s.startTime) < cutoff) doomed.add(s.id);
  }
  ec2.snapshots.splice(0, ec2.snapshots.length, ...ec2.snapshots.filter((s) => !doomed.has(s.id)));
  return [...doomed];
}

// ---------------------------------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------------------------------

const dlmOf = (ctx: SimContext): DlmWorld => (ctx.world as WithDlm).dlm;

/** DLM quota: 100 lifecycle policies per Region. */
const POLICY_QUOTA = 100;

function invalid(ctx: SimContext, message: string): never {
  return ctx.fail('InvalidRequestException', message, 400);
}

function policyOrFail(ctx: SimContext, id: unknown): DlmPolicy {
  if (typeof id !== 'string' || !id) invalid(ctx, 'PolicyId is required.');
  const p = dlmOf(ctx).policies.find((x) => x.id === id);
  if (!p) ctx.fail('ResourceNotFoundException', `Lifecycle policy ${id} was not found.`, 404);
  return p;
}

function byArnOrFail(ctx: SimContext, arn: unknown): DlmPolicy {
  const p = dlmOf(ctx).policies.find((x) => policyArn(ctx, x.id) === arn);
  if (!p) ctx.fail('ResourceNotFoundException', `Resource ${String(arn)} was not found.`, 404);
  return p;
}

function checkedDetails(ctx: SimContext, raw: unknown): PolicyDetailsT {
  const parsed = PolicyDetails.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    invalid(ctx, `Invalid PolicyDetails.${issue.path.join('.')}: ${issue.message}`);
  }
  const problem = policyDetailsProblem(parsed.data);
  if (problem) invalid(ctx, problem);
  return parsed.data;
}

function checkDescription(ctx: SimContext, d: unknown): string {
  if (typeof d !== 'string') invalid(ctx, 'Description is required.');
  if (d.length > 500 || !/^[0-9A-Za-z _-]*$/.test(d))
    invalid(ctx, 'Description may hold up to 500 letters, digits, spaces, underscores and hyphens.');
  return d;
}

function checkRoleArn(ctx: SimContext, arn: unknown): string {
  if (typeof arn !== 'string' || !arn) invalid(ctx, 'ExecutionRoleArn is required.');
  if (!/^arn:aws[\w-]*:iam::\d{12}:role\/.+$/.test(arn)) invalid(ctx, `ExecutionRoleArn '${arn}' is not an IAM role ARN.`);
  return arn;
}

function checkState(ctx: SimContext, state: unknown): 'ENABLED' | 'DISABLED' {
  if (state !== 'ENABLED' && state !== 'DISABLED') invalid(ctx, `State must be ENABLED or DISABLED.`);
  return state;
}

const handlers: SimService['handlers'] = {
  CreateLifecyclePolicy(
    ctx: SimContext,
    input: {
      ExecutionRoleArn?: string;
      Description?: string;
      State?: string;
      PolicyDetails?: unknown;
      Tags?: Record<string, string>;
      DefaultPolicy?: string;
    },
  ) {
    if (input.DefaultPolicy !== undefined) invalid(ctx, 'Default policies are not supported by this simulation.');
    const executionRoleArn = checkRoleArn(ctx, input.ExecutionRoleArn);
    const description = checkDescription(ctx, input.Description);
    const state = checkState(ctx, input.State);
    if (input.PolicyDetails === undefined) invalid(ctx, 'PolicyDetails is required.');
    const policyDetails = checkedDetails(ctx, input.PolicyDetails);
    if (dlmOf(ctx).policies.length >= POLICY_QUOTA)
      ctx.fail('LimitExceededException', `The limit of ${POLICY_QUOTA} lifecycle policies has been reached.`, 429);
    const id = ctx.newId('policy');
    const now = ctx.clock.now().toISOString();
    dlmOf(ctx).policies.push({
      id,
      description,
      state,
      executionRoleArn,
      createdAt: now,
      modifiedAt: now,
      policyDetails,
      tags: { ...(input.Tags ?? {}) },
      lastRuns: {},
    });
    ctx.changed();
    return { PolicyId: id };
  },

  GetLifecyclePolicies(
    ctx: SimContext,
    input: { PolicyIds?: string[]; State?: string; ResourceTypes?: string[]; TargetTags?: string[]; TagsToAdd?: string[] },
  ) {
    const all = dlmOf(ctx).policies;
    for (const id of input.PolicyIds ?? []) {
      if (!all.some((p) => p.id === id)) ctx.fail('ResourceNotFoundException', `Lifecycle policy ${id} was not found.`, 404);
    }
    const kv = (t: { Key: string; Value: string }) => `${t.Key}=${t.Value}`;
    const policies = all.filter((p) => {
      const d = p.policyDetails;
      if (input.PolicyIds?.length && !input.PolicyIds.includes(p.id)) return false;
      if (input.State && p.state !== input.State) return false;
      if (input.ResourceTypes?.length && !input.ResourceTypes.some((r) => d.ResourceTypes?.includes(r as 'VOLUME' | 'INSTANCE')))
        return false;
      // Filters are "key=value" strings; a policy matches when it has any of them.
      if (input.TargetTags?.length && !(d.TargetTags ?? []).some((t) => input.TargetTags!.includes(kv(t)))) return false;
      if (input.TagsToAdd?.length && !(d.Schedules ?? []).some((s) => (s.TagsToAdd ?? []).some((t) => input.TagsToAdd!.includes(kv(t)))))
        return false;
      return true;
    });
    return {
      Policies: policies.map((p) => ({
        PolicyId: p.id,
        Description: p.description,
        State: p.state,
        Tags: { ...p.tags },
        PolicyType: p.policyDetails.PolicyType ?? 'EBS_SNAPSHOT_MANAGEMENT',
        DefaultPolicy: false,
      })),
    };
  },

  GetLifecyclePolicy(ctx: SimContext, input: { PolicyId?: string }) {
    const p = policyOrFail(ctx, input.PolicyId);
    return {
      Policy: {
        PolicyId: p.id,
        Description: p.description,
        State: p.state,
        ...(p.statusMessage ? { StatusMessage: p.statusMessage } : {}),
        ExecutionRoleArn: p.executionRoleArn,
        DateCreated: new Date(p.createdAt),
        DateModified: new Date(p.modifiedAt ?? p.createdAt),
        PolicyDetails: structuredClone({ PolicyType: 'EBS_SNAPSHOT_MANAGEMENT', ...p.policyDetails }),
        Tags: { ...p.tags },
        PolicyArn: policyArn(ctx, p.id),
        DefaultPolicy: false,
      },
    };
  },

  UpdateLifecyclePolicy(
    ctx: SimContext,
    input: { PolicyId?: string; ExecutionRoleArn?: string; State?: string; Description?: string; PolicyDetails?: unknown },
  ) {
    const p = policyOrFail(ctx, input.PolicyId);
    // Check everything before changing anything.
    const executionRoleArn = input.ExecutionRoleArn !== undefined ? checkRoleArn(ctx, input.ExecutionRoleArn) : undefined;
    const description = input.Description !== undefined ? checkDescription(ctx, input.Description) : undefined;
    const state = input.State !== undefined ? checkState(ctx, input.State) : undefined;
    let details: PolicyDetailsT | undefined;
    if (input.PolicyDetails !== undefined) {
      details = checkedDetails(ctx, input.PolicyDetails);
      const before = p.policyDetails;
      if ((details.PolicyType ?? 'EBS_SNAPSHOT_MANAGEMENT') !== (before.PolicyType ?? 'EBS_SNAPSHOT_MANAGEMENT'))
        invalid(ctx, 'The policy type cannot be updated.');
      if (JSON.stringify([...(details.ResourceTypes ?? [])].sort()) !== JSON.stringify([...(before.ResourceTypes ?? [])].sort()))
        invalid(ctx, 'The resource type cannot be updated.');
    }
    if (executionRoleArn !== undefined) p.executionRoleArn = executionRoleArn;
    if (description !== undefined) p.description = description;
    if (state !== undefined) p.state = state;
    if (details !== undefined) p.policyDetails = details;
    p.modifiedAt = ctx.clock.now().toISOString();
    ctx.changed();
    return {};
  },

  DeleteLifecyclePolicy(ctx: SimContext, input: { PolicyId?: string }) {
    const p = policyOrFail(ctx, input.PolicyId);
    dlmOf(ctx).policies.splice(dlmOf(ctx).policies.indexOf(p), 1);
    ctx.changed();
    return {};
  },

  TagResource(ctx: SimContext, input: { ResourceArn?: string; Tags?: Record<string, string> }) {
    const p = byArnOrFail(ctx, input.ResourceArn);
    if (!input.Tags || !Object.keys(input.Tags).length) invalid(ctx, 'Tags is required.');
    Object.assign(p.tags, input.Tags);
    ctx.changed();
    return {};
  },

  UntagResource(ctx: SimContext, input: { ResourceArn?: string; TagKeys?: string[] }) {
    const p = byArnOrFail(ctx, input.ResourceArn);
    for (const k of input.TagKeys ?? []) delete p.tags[k];
    ctx.changed();
    return {};
  },

  ListTagsForResource(ctx: SimContext, input: { ResourceArn?: string }) {
    return { Tags: { ...byArnOrFail(ctx, input.ResourceArn).tags } };
  },
};

export const service: SimService<DlmWorld> = {
  clientName: 'DLMClient',
  key: 'dlm',
  schema,
  handlers,
  // A getter: the SDK package loads when the simulated service first fails a call, not when the simulation loads.
  get exception() {
    return DLM.DLMServiceException;
  },
};
