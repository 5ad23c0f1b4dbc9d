import type { LifecyclePolicy } from '@aws-sdk/client-dlm';
import * as z from 'zod';
import { defineAction, type Change, type Check } from '../define.js';
import {
  findSchedulePolicy,
  formatSchedule,
  PREVIOUS_SCHEDULE_TAG,
  SCHEDULE_TAG,
  scheduleOf,
  scheduledVolumes,
  type Schedule,
} from '../shared/snapshot-schedule.js';
import { DLM, EC2 } from '../../cloud/sdk.js';

const Input = z.strictObject({
  incident: z.string().min(1).max(256),
  /** The policy the raise step created or changed; checked against the one that targets the incident's tag. */
  policyId: z
    .string()
    .regex(/^policy-[0-9a-z]{17}$/, 'a lifecycle policy id such as policy-0123456789abcdef0')
    .optional(),
  volumeIds: z.array(z.string().regex(/^vol-[0-9a-f]{8,17}$/, 'a volume id such as vol-0123456789abcdef0')).default([]),
  /** Delete the policy (it was created for this incident) once no other volume carries the tag. */
  deletePolicy: z.boolean().default(true),
  /** Instead of deleting: the schedule the policy had before the incident. */
  restoreSchedule: z
    .strictObject({ intervalHours: z.number().int(), retainCount: z.number().int().min(1), state: z.enum(['ENABLED', 'DISABLED']) })
    .optional(),
});
type Input = z.infer<typeof Input>;

interface Facts {
  policy?: { id: string; arn: string; schedule?: Schedule; hasPreviousTag: boolean; details: LifecyclePolicy['PolicyDetails'] };
  untag: string[];
  /** Volumes of other instances that still carry the incident's tag. */
  others: string[];
  decision: 'delete' | 'restore' | 'keep' | 'none';
}

export default defineAction<Input, { incident: string; policyId?: string; decision: Facts['decision']; untagged: string[] }, Facts>({
  id: 'ec2.lower-snapshot-frequency',
  summary: 'End the raised snapshot frequency of an incident: untag the volumes, delete (or restore) the lifecycle policy',
  description: [
    'The undo of `ec2.raise-snapshot-frequency`. Removes the schedule tag from the given volumes, then deletes the policy it',
    "created — but only once no other volume carries the incident's tag (another instance of the same incident may still",
    'need it). A policy that existed before the incident gets its earlier schedule back instead.',
    '',
    'Deleting a policy does not delete the snapshots it took: they stay, no longer managed, until someone deletes them.',
    'Forensic snapshots are never touched.',
  ].join('\n'),
  controls: ['CC8'],
  input: Input,
  mutating: true,
  permissions: [
    'ec2:DescribeVolumes',
    'ec2:DeleteTags',
    'dlm:GetLifecyclePolicies',
    'dlm:GetLifecyclePolicy',
    'dlm:DeleteLifecyclePolicy',
    'dlm:UpdateLifecyclePolicy',
    'dlm:UntagResource',
  ],
  targets: (i) => i.volumeIds.map((id) => ({ kind: 'volume', id })),

  async plan(ctx, input) {
    const [policy, tagged] = await Promise.all([
      findSchedulePolicy(ctx.aws.dlm, input.incident),
      scheduledVolumes(ctx.aws.ec2, input.incident),
    ]);
    const untag = tagged.filter((v) => input.volumeIds.includes(v.VolumeId!)).map((v) => v.VolumeId!);
    const others = tagged.filter((v) => !input.volumeIds.includes(v.VolumeId!)).map((v) => v.VolumeId!);
    const changes: Change[] = untag.map((v) => ({ resource: v, field: `tag ${SCHEDULE_TAG}`, before: input.incident, after: null }));
    const notes: string[] = [];
    let decision: Facts['decision'] = 'none';
    let facts: Facts['policy'];
    if (policy) {
      if (input.policyId && policy.PolicyId !== input.policyId)
        notes.push(`the policy targeting ${SCHEDULE_TAG}=${input.incident} is ${policy.PolicyId}, not ${input.policyId}`);
      const schedule = scheduleOf(policy);
      facts = {
        id: policy.PolicyId!,
        arn: policy.PolicyArn!,
        ...(schedule ? { schedule } : {}),
        hasPreviousTag: policy.Tags?.[PREVIOUS_SCHEDULE_TAG] !== undefined,
        details: policy.PolicyDetails,
      };
      if (input.restoreSchedule) {
        decision = 'restore';
        const r = input.restoreSchedule;
        const restored =
          schedule && schedule.intervalHours === r.intervalHours && schedule.retainCount === r.retainCount && schedule.state === r.state;
        if (!restored)
          changes.push({
            resource: policy.PolicyId!,
            field: 'schedule',
            before: schedule ? formatSchedule(schedule) : 'another shape',
            after: formatSchedule(r),
          });
        if (facts.hasPreviousTag)
          changes.push({ resource: policy.PolicyId!, field: `tag ${PREVIOUS_SCHEDULE_TAG}`, before: 'present', after: null });
      } else if (!input.deletePolicy) {
        decision = 'keep';
        notes.push(`policy ${policy.PolicyId} is kept: it existed before this response`);
      } else if (others.length > 0) {
        decision = 'keep';
        notes.push(
          `policy ${policy.PolicyId} is kept: ${others.length} other volume(s) of incident ${input.incident} still carry the tag (${others.join(', ')})`,
        );
      } else {
        decision = 'delete';
        changes.push({
          resource: policy.PolicyId!,
          field: 'lifecycle policy',
          before: schedule ? formatSchedule(schedule) : 'present',
          after: null,
        });
        notes.push('the snapshots the policy took stay (unmanaged) until someone deletes them');
      }
    } else {
      notes.push(`no lifecycle policy targets ${SCHEDULE_TAG}=${input.incident}`);
    }
    return { changes, alreadyDone: changes.length === 0, notes, facts: { ...(facts ? { policy: facts } : {}), untag, others, decision } };
  },

  async apply(ctx, input, plan) {
    const { policy, untag, decision } = plan.facts;
    // Untag first: a policy left behind by a failure below still targets nothing of these volumes.
    if (untag.length)
      await ctx.aws.ec2.send(new EC2.DeleteTagsCommand({ Resources: untag, Tags: [{ Key: SCHEDULE_TAG, Value: input.incident }] }));
    if (policy && decision === 'delete') {
      await ctx.aws.dlm.send(new DLM.DeleteLifecyclePolicyCommand({ PolicyId: policy.id }));
    } else if (policy && decision === 'restore') {
      const r = input.restoreSchedule!;
      const current = policy.schedule;
      if (!current || current.intervalHours !== r.intervalHours || current.retainCount !== r.retainCount || current.state !== r.state) {
        const [first, ...rest] = policy.details?.Schedules ?? [];
        await ctx.aws.dlm.send(
          new DLM.UpdateLifecyclePolicyCommand({
            PolicyId: policy.id,
            State: r.state,
            PolicyDetails: {
              ...policy.details,
              Schedules: [
                {
                  ...first,
                  CreateRule: { ...first?.CreateRule, Interval: r.intervalHours, IntervalUnit: 'HOURS' },
                  RetainRule: { Count: r.retainCount },
                },
                ...rest,
              ],
            },
          }),
        );
      }
      if (policy.hasPreviousTag)
        await ctx.aws.dlm.send(new DLM.UntagResourceCommand({ ResourceArn: policy.arn, TagKeys: [PREVIOUS_SCHEDULE_TAG] }));
    }
    return { incident: input.incident, ...(policy ? { policyId: policy.id } : {}), decision, untagged: untag };
  },

  async verify(ctx, input, output) {
    const [policy, tagged] = await Promise.all([
      findSchedulePolicy(ctx.aws.dlm, input.incident),
      scheduledVolumes(ctx.aws.ec2, input.incident),
    ]);
    const checks: Check[] = [];
    const stillTagged = tagged.filter((v) => input.volumeIds.includes(v.VolumeId!)).map((v) => v.VolumeId!);
    checks.push({
      name: `volumes no longer tagged ${SCHEDULE_TAG}=${input.incident}`,
      ok: stillTagged.length === 0,
      detail: stillTagged.join(',') || 'none',
    });
    if (output.decision === 'delete')
      checks.push({ name: `policy ${output.policyId} deleted`, ok: policy === undefined, detail: policy?.PolicyId ?? 'gone' });
    if (output.decision === 'restore') {
      const s = policy ? scheduleOf(policy) : undefined;
      const r = input.restoreSchedule!;
      checks.push({
        name: `policy ${output.policyId} back to ${formatSchedule(r)}`,
        ok: !!s && formatSchedule(s) === formatSchedule(r),
        detail: s ? formatSchedule(s) : 'not found',
      });
    }
    return checks;
  },

  fallback: () => [
    `aws ec2 delete-tags --resources <vol-1> <vol-2> --tags Key=${SCHEDULE_TAG}`,
    `aws dlm get-lifecycle-policies --target-tags ${SCHEDULE_TAG}=<incident>`,
    'aws dlm delete-lifecycle-policy --policy-id <policy-id>',
  ],
});
