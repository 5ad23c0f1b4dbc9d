import type { PolicyDetails } from '@aws-sdk/client-dlm';
import * as z from 'zod';
import { defineAction, type ActionContext, type Change, type Check } from '../define.js';
import { describeInstance, FORENSIC_TAG, InstanceId, tagValue, TAG } from '../shared/ec2.js';
import {
  DLM_INTERVAL_HOURS,
  findSchedulePolicy,
  formatSchedule,
  parseSchedule,
  policyDescription,
  PREVIOUS_SCHEDULE_TAG,
  SCHEDULE_NAME,
  SCHEDULE_TAG,
  scheduleOf,
  type Schedule,
} from '../shared/snapshot-schedule.js';
import { DLM, EC2, STS } from '../../cloud/sdk.js';

const Input = z.strictObject({
  instanceId: InstanceId,
  intervalHours: z
    .number()
    .int()
    .refine((h) => (DLM_INTERVAL_HOURS as readonly number[]).includes(h), {
      message: `Data Lifecycle Manager schedules snapshots every ${DLM_INTERVAL_HOURS.join(', ')} hours only; for a shorter interval use the playbook's snapshot loop (wait, then ec2.forensic-snapshots)`,
    }),
  /** How many scheduled snapshots of each volume DLM keeps (older ones it deletes). */
  retainCount: z.number().int().min(1).max(1000).default(24),
  /** The role DLM acts as. Default: AWSDataLifecycleManagerDefaultRole in the caller's account. */
  executionRoleArn: z
    .string()
    .regex(/^arn:aws[\w-]*:iam::\d{12}:role\/.+$/, 'an IAM role ARN')
    .optional(),
});
type Input = z.infer<typeof Input>;

interface Facts {
  volumeIds: string[];
  untagged: string[];
  policy?: { id: string; arn: string; schedule?: Schedule; previous?: Schedule; createdByThisRun: boolean };
  roleArn: string;
}
export interface RaiseOutput {
  instanceId: string;
  incident: string;
  policyId: string;
  volumeIds: string[];
  /** True when this run created the policy: undo deletes it (once no other volume is scheduled by it). */
  createdPolicy: boolean;
  /** The schedule an existing policy had before this step changed it: undo puts it back. */
  previous?: Schedule;
}

const target = (input: Input): Schedule => ({ intervalHours: input.intervalHours, retainCount: input.retainCount, state: 'ENABLED' });
const same = (a: Schedule | undefined, b: Schedule) =>
  !!a && a.intervalHours === b.intervalHours && a.retainCount === b.retainCount && a.state === b.state;

function details(ctx: ActionContext, input: Input): PolicyDetails {
  return {
    PolicyType: 'EBS_SNAPSHOT_MANAGEMENT',
    ResourceTypes: ['VOLUME'],
    TargetTags: [{ Key: SCHEDULE_TAG, Value: ctx.run.incident }],
    Schedules: [
      {
        Name: SCHEDULE_NAME,
        // Without Times, DLM picks a start "within the next 24 hours"; anchored at midnight UTC, the
        // first scheduled snapshot comes within one interval (the forensic set is taken already).
        CreateRule: { Interval: input.intervalHours, IntervalUnit: 'HOURS', Times: ['00:00'] },
        RetainRule: { Count: input.retainCount },
        CopyTags: true,
        TagsToAdd: [
          { Key: TAG.incident, Value: ctx.run.incident },
          { Key: FORENSIC_TAG.purpose, Value: 'scheduled' },
        ],
      },
    ],
  };
}

export default defineAction<Input, RaiseOutput, Facts>({
  id: 'ec2.raise-snapshot-frequency',
  summary: "Snapshot a suspicious instance's volumes more often, on a Data Lifecycle Manager schedule, for the time of the incident",
  description: [
    `CC8: "when you find a suspicious instance, raise the snapshot frequency of its EBS volumes". The instance's volumes get`,
    `the tag \`${SCHEDULE_TAG}=<incident>\` and one lifecycle policy per incident targets that tag: a snapshot of each volume`,
    'every `intervalHours` (DLM accepts 1, 2, 3, 4, 6, 8, 12 or 24 hours), keeping the newest `retainCount`.',
    '',
    'Retention deletes old snapshots, so it must never reach the evidence: DLM retention only ever deletes snapshots that',
    `its own policy created (tagged \`aws:dlm:lifecycle-policy-id\`), and the forensic snapshots of \`ec2.forensic-snapshots\``,
    `are made by CreateSnapshots and tagged \`${FORENSIC_TAG.purpose}=forensic\`; the scheduled ones are tagged`,
    `\`${FORENSIC_TAG.purpose}=scheduled\`.`,
    '',
    'DLM needs an execution role (`executionRoleArn`); by default the one the DLM console creates,',
    "`AWSDataLifecycleManagerDefaultRole`, in the caller's account (found with STS GetCallerIdentity). Intervals under an",
    'hour are not possible with DLM: the containment playbook runs its own loop (wait, then `ec2.forensic-snapshots`) instead.',
    'An existing policy for the incident is updated, and the schedule it had is tagged on it so undo restores it.',
  ].join('\n'),
  controls: ['CC8'],
  input: Input,
  mutating: true,
  permissions: [
    'ec2:DescribeInstances',
    'ec2:DescribeVolumes',
    'ec2:CreateTags',
    'sts:GetCallerIdentity',
    'dlm:GetLifecyclePolicies',
    'dlm:GetLifecyclePolicy',
    'dlm:CreateLifecyclePolicy',
    'dlm:UpdateLifecyclePolicy',
    'dlm:TagResource',
    // DLM passes its execution role; the caller needs iam:PassRole on it (DLM User Guide, "Permissions").
    'iam:PassRole',
  ],
  targets: (i) => [{ kind: 'instance', id: i.instanceId }],

  async plan(ctx, input) {
    const [inst, policy, identity] = await Promise.all([
      describeInstance(ctx.aws.ec2, input.instanceId),
      findSchedulePolicy(ctx.aws.dlm, ctx.run.incident),
      input.executionRoleArn ? undefined : ctx.aws.sts.send(new STS.GetCallerIdentityCommand({})),
    ]);
    ctx.guard.assertNotProtected(input.instanceId, inst.Tags);
    const volumeIds = (inst.BlockDeviceMappings ?? []).map((b) => b.Ebs?.VolumeId).filter((v): v is string => !!v);
    const volumes = volumeIds.length
      ? ((await ctx.aws.ec2.send(new EC2.DescribeVolumesCommand({ VolumeIds: volumeIds }))).Volumes ?? [])
      : [];
    const untagged = volumes.filter((v) => tagValue(v.Tags, SCHEDULE_TAG) !== ctx.run.incident).map((v) => v.VolumeId!);
    const partition = identity?.Arn?.split(':')[1] ?? 'aws';
    const roleArn = input.executionRoleArn ?? `arn:${partition}:iam::${identity!.Account}:role/AWSDataLifecycleManagerDefaultRole`;

    const want = target(input);
    const changes: Change[] = untagged.map((v) => ({ resource: v, field: `tag ${SCHEDULE_TAG}`, before: null, after: ctx.run.incident }));
    const notes: string[] = [];
    let facts: Facts['policy'];
    if (!policy) {
      changes.push({
        resource: `lifecycle policy for ${SCHEDULE_TAG}=${ctx.run.incident}`,
        field: 'schedule',
        before: null,
        after: `every ${want.intervalHours}h, keep ${want.retainCount}, role ${roleArn}`,
      });
    } else {
      const schedule = scheduleOf(policy);
      const previous = parseSchedule(policy.Tags?.[PREVIOUS_SCHEDULE_TAG]);
      facts = {
        id: policy.PolicyId!,
        arn: policy.PolicyArn!,
        ...(schedule ? { schedule } : {}),
        ...(previous ? { previous } : {}),
        createdByThisRun: policy.Tags?.[TAG.run] === ctx.run.id,
      };
      if (!same(schedule, want))
        changes.push({
          resource: policy.PolicyId!,
          field: 'schedule',
          before: schedule ? formatSchedule(schedule) : 'another shape',
          after: formatSchedule(want),
        });
      else notes.push(`policy ${policy.PolicyId} already snapshots every ${want.intervalHours}h`);
    }
    if (volumeIds.length === 0) notes.push('no EBS volumes attached: the policy has nothing of this instance to snapshot');
    return {
      changes,
      alreadyDone: changes.length === 0,
      notes,
      facts: { volumeIds, untagged, ...(facts ? { policy: facts } : {}), roleArn },
    };
  },

  async apply(ctx, input, plan) {
    const { volumeIds, untagged, policy, roleArn } = plan.facts;
    const want = target(input);
    // Tags first: a policy created before its volumes are tagged snapshots nothing, which is harmless.
    if (untagged.length)
      await ctx.aws.ec2.send(new EC2.CreateTagsCommand({ Resources: untagged, Tags: [{ Key: SCHEDULE_TAG, Value: ctx.run.incident }] }));
    let policyId: string;
    let previous: Schedule | undefined;
    if (!policy) {
      const out = await ctx.aws.dlm.send(
        new DLM.CreateLifecyclePolicyCommand({
          ExecutionRoleArn: roleArn,
          Description: policyDescription(ctx.run.incident),
          State: 'ENABLED',
          PolicyDetails: details(ctx, input),
          Tags: { [TAG.incident]: ctx.run.incident, [TAG.run]: ctx.run.id, [TAG.managed]: 'true' },
        }),
      );
      policyId = out.PolicyId!;
    } else {
      policyId = policy.id;
      previous = policy.createdByThisRun ? undefined : (policy.previous ?? policy.schedule);
      if (!same(policy.schedule, want)) {
        // Record the schedule being replaced on the policy itself before changing it, so a run that
        // dies here still knows what to put back.
        if (!policy.previous && policy.schedule && !policy.createdByThisRun) {
          await ctx.aws.dlm.send(
            new DLM.TagResourceCommand({ ResourceArn: policy.arn, Tags: { [PREVIOUS_SCHEDULE_TAG]: formatSchedule(policy.schedule) } }),
          );
        }
        await ctx.aws.dlm.send(
          new DLM.UpdateLifecyclePolicyCommand({ PolicyId: policy.id, State: 'ENABLED', PolicyDetails: details(ctx, input) }),
        );
      }
    }
    return {
      instanceId: input.instanceId,
      incident: ctx.run.incident,
      policyId,
      volumeIds,
      createdPolicy: !policy || policy.createdByThisRun,
      ...(previous ? { previous } : {}),
    };
  },

  async verify(ctx, input, output) {
    const [policy, volumes] = await Promise.all([
      findSchedulePolicy(ctx.aws.dlm, output.incident),
      output.volumeIds.length ? ctx.aws.ec2.send(new EC2.DescribeVolumesCommand({ VolumeIds: output.volumeIds })) : undefined,
    ]);
    const schedule = policy ? scheduleOf(policy) : undefined;
    const checks: Check[] = [
      {
        name: `policy ${output.policyId} snapshots every ${input.intervalHours}h, keeps ${input.retainCount}`,
        ok: policy?.PolicyId === output.policyId && same(schedule, target(input)),
        detail: schedule ? formatSchedule(schedule) : 'not found',
      },
    ];
    for (const v of volumes?.Volumes ?? [])
      checks.push({
        name: `${v.VolumeId} tagged ${SCHEDULE_TAG}`,
        ok: tagValue(v.Tags, SCHEDULE_TAG) === output.incident,
        detail: tagValue(v.Tags, SCHEDULE_TAG) ?? 'no tag',
      });
    return checks;
  },

  undo: {
    action: 'ec2.lower-snapshot-frequency',
    input: (out) => ({
      incident: out.incident,
      policyId: out.policyId,
      volumeIds: out.volumeIds,
      deletePolicy: out.createdPolicy,
      ...(out.previous ? { restoreSchedule: out.previous } : {}),
    }),
  },

  fallback: (i) => [
    `aws ec2 create-tags --resources <vol-1> <vol-2> --tags Key=${SCHEDULE_TAG},Value=<incident>`,
    `aws dlm create-lifecycle-policy --execution-role-arn arn:aws:iam::<account>:role/AWSDataLifecycleManagerDefaultRole --description "Firebreak raised snapshot frequency" --state ENABLED --policy-details '{"PolicyType":"EBS_SNAPSHOT_MANAGEMENT","ResourceTypes":["VOLUME"],"TargetTags":[{"Key":"${SCHEDULE_TAG}","Value":"<incident>"}],"Schedules":[{"Name":"${SCHEDULE_NAME}","CreateRule":{"Interval":${i.intervalHours ?? 1},"IntervalUnit":"HOURS","Times":["00:00"]},"RetainRule":{"Count":${i.retainCount ?? 24}},"CopyTags":true}]}'`,
  ],
});
