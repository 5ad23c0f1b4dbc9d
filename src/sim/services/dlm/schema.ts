/** The Data Lifecycle Manager slice of the world: snapshot lifecycle policies and the checks AWS applies to their details. */
import * as z from 'zod';
import { Timestamp, WORLD_EPOCH, Tags } from '../../kit.js';

export const AwsTag = z.strictObject({ Key: z.string().min(1).max(128), Value: z.string().max(256) });

/** CreateRule.Interval values DLM accepts, all in HOURS. */
export const DLM_INTERVALS = [1, 2, 3, 4, 6, 8, 12, 24] as const;

export const Schedule = z.looseObject({
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
export const PolicyDetails = z.looseObject({
  PolicyType: z.enum(['EBS_SNAPSHOT_MANAGEMENT', 'IMAGE_MANAGEMENT', 'EVENT_BASED_POLICY']).optional(),
  ResourceTypes: z.array(z.enum(['VOLUME', 'INSTANCE'])).optional(),
  TargetTags: z.array(AwsTag).max(50).optional(),
  Schedules: z.array(Schedule).max(4).optional(),
  Parameters: z.looseObject({ ExcludeBootVolume: z.boolean().optional(), NoReboot: z.boolean().optional() }).optional(),
});
export type PolicyDetailsT = z.infer<typeof PolicyDetails>;

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

export const Policy = z
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
export interface WithDlm {
  dlm: DlmWorld;
}

export const policyArn = (at: { region: string; accountId: string }, id: string) => `arn:aws:dlm:${at.region}:${at.accountId}:policy/${id}`;
