import type { Tag } from '@aws-sdk/client-ec2';
import * as z from 'zod';
import { ActionFailed } from '../../core/errors.js';
import { defineAction, type Change, type Check } from '../define.js';
import { describeInstance, InstanceId } from '../shared/ec2.js';
import {
  describeGroup,
  formatTargets,
  groupOf,
  instanceTargetGroups,
  parseTargets,
  recordedService,
  registrationsOf,
  registrationStates,
  SERVICE_TAG,
  type GroupState,
} from '../shared/service-state.js';
import { AutoScaling, EC2, ELBv2 } from '../../cloud/sdk.js';

const Input = z.strictObject({
  instanceId: InstanceId,
  /** detach: out of the group for good (AttachInstances brings it back); standby: stays a member, out of service. */
  mode: z.enum(['detach', 'standby']).default('detach'),
  /** At the group's minimum size, lower MinSize by one so the desired capacity can drop (undo restores it). */
  allowMinSizeChange: z.boolean().default(false),
});
type Input = z.infer<typeof Input>;

type Target = { targetGroupArn: string; port: number };
interface Facts {
  group?: GroupState;
  /** What the ASG call must do: nothing, EnterStandby or DetachInstances. */
  groupAction: 'none' | 'standby' | 'detach';
  lowerMinTo?: number;
  deregister: Target[];
  /** Targets recorded as deregistered by an earlier attempt, plus `deregister`: what undo registers again. */
  targets: Target[];
  recordTags: Tag[];
  previousMinSize?: number;
  recordedGroup?: string;
  recordedMode?: 'standby' | 'detach';
}
export interface RemoveOutput {
  instanceId: string;
  autoScalingGroup?: string;
  mode?: 'standby' | 'detach';
  previousMinSize?: number;
  targetGroups: Target[];
}

const TAG_VALUE_MAX = 256;

export default defineAction<Input, RemoveOutput, Facts>({
  id: 'ec2.remove-from-service',
  summary: 'Take an instance out of its Auto Scaling group and its load balancer target groups, without a replacement launching',
  description: [
    'CC18: "use Auto Scaling to buy time — for action, not reaction". A compromised instance left in its group can be',
    'terminated by Auto Scaling at any time (health-check replacement, scale-in), and termination protection does not stop',
    'that (EC2 Auto Scaling User Guide, "Use instance scale-in protection"). AWS\'s incident response guidance detaches it.',
    '',
    '`mode: detach` (default) calls DetachInstances; `mode: standby` calls EnterStandby, keeping it a member but out of',
    'service. Either way with `ShouldDecrementDesiredCapacity=true`: without it the group launches a replacement from the',
    'same launch template — possibly the same vulnerable image, before the way in is known. The group deregisters the',
    'instance from its own target groups; target groups the group does not manage are deregistered here (ELBv2 has no',
    'reverse lookup: every instance target group of the VPC is read with DescribeTargetHealth).',
    '',
    "At the group's minimum size the desired capacity cannot drop: the plan fails with `GroupAtMinimumSize` and says so,",
    'unless `allowMinSizeChange: true`, which lowers MinSize by one first (UpdateAutoScalingGroup) — a capacity decision',
    `for a person. What was changed is tagged on the instance (\`${SERVICE_TAG.group}\`, \`${SERVICE_TAG.targetGroups}\`, …)`,
    'before it changes and journaled; `ec2.return-to-service` restores it.',
  ].join('\n'),
  controls: ['CC18', 'CC8'],
  input: Input,
  mutating: true,
  permissions: [
    'ec2:DescribeInstances',
    'ec2:CreateTags',
    'autoscaling:DescribeAutoScalingInstances',
    'autoscaling:DescribeAutoScalingGroups',
    'autoscaling:EnterStandby',
    'autoscaling:DetachInstances',
    'autoscaling:UpdateAutoScalingGroup',
    'elasticloadbalancing:DescribeTargetGroups',
    'elasticloadbalancing:DescribeTargetHealth',
    'elasticloadbalancing:DeregisterTargets',
  ],
  targets: (i) => [{ kind: 'instance', id: i.instanceId }],
  batchedPlan: true,

  async plan(ctx, input) {
    const [inst, member, allGroups] = await Promise.all([
      describeInstance(ctx.aws.ec2, input.instanceId),
      groupOf(ctx.aws.autoscaling, input.instanceId),
      instanceTargetGroups(ctx.aws.elbv2, undefined),
    ]);
    ctx.guard.assertNotProtected(input.instanceId, inst.Tags);
    const tgs = allGroups.filter((g) => !g.VpcId || g.VpcId === inst.VpcId);
    const rec = recordedService(inst);
    const [regs, recordedGroupState] = await Promise.all([
      registrationsOf(ctx.aws.elbv2, inst, tgs),
      !member && rec.group ? describeGroup(ctx.aws.autoscaling, rec.group) : undefined,
    ]);
    const group = member ?? recordedGroupState;
    const changes: Change[] = [];
    const notes: string[] = [];

    let groupAction: Facts['groupAction'] = 'none';
    let lowerMinTo: number | undefined;
    if (member) {
      const s = member.lifecycleState;
      if (s === 'InService') groupAction = input.mode;
      else if (s === 'Standby' && input.mode === 'detach') groupAction = 'detach';
      else if (s.startsWith('Terminating') || s === 'Terminated') {
        throw new ActionFailed(
          `failed to take ${input.instanceId} out of ${member.name}: Auto Scaling is already terminating it (${s})`,
          'InstanceTerminating',
          { hint: 'its EBS volumes survive only if DeleteOnTermination is false (ec2.preserve-instance); snapshot them now' },
        );
      } else if (!['Standby', 'EnteringStandby', 'Detaching', 'Detached'].includes(s)) {
        throw new ActionFailed(
          `failed to take ${input.instanceId} out of ${member.name}: it is ${s}; Auto Scaling accepts InService or Standby instances`,
          'IncorrectInstanceState',
          { hint: 'wait for the lifecycle action to finish, then run the step again' },
        );
      }
      if (groupAction !== 'none' && s === 'InService' && member.desiredCapacity - 1 < member.minSize) {
        const to = member.desiredCapacity - 1;
        if (!input.allowMinSizeChange) {
          throw new ActionFailed(
            `failed to take ${input.instanceId} out of ${member.name}: the group is at its minimum size (min ${member.minSize}, desired ${member.desiredCapacity}), so its desired capacity cannot drop; without the drop Auto Scaling would launch a replacement`,
            'GroupAtMinimumSize',
            { hint: `lower the minimum: run the step with allowMinSizeChange: true (MinSize ${member.minSize} → ${to}; undo restores it)` },
          );
        }
        lowerMinTo = to;
        changes.push({ resource: member.name, field: 'MinSize', before: member.minSize, after: to });
        notes.push(`${member.name} is at its minimum size: MinSize is lowered to ${to} so the desired capacity can drop`);
      }
      if (groupAction !== 'none') {
        changes.push({
          resource: `${member.name} ${input.instanceId}`,
          field: 'lifecycle',
          before: s,
          after: groupAction === 'standby' ? 'Standby' : 'Detached',
        });
        if (s === 'InService')
          changes.push({
            resource: member.name,
            field: 'DesiredCapacity',
            before: member.desiredCapacity,
            after: member.desiredCapacity - 1,
          });
        if (member.targetGroupArns.length)
          notes.push(`Auto Scaling deregisters the instance from the group's own target groups: ${member.targetGroupArns.join(', ')}`);
      }
    } else {
      notes.push(rec.group ? `no longer in ${rec.group} (recorded on the instance)` : 'not in an Auto Scaling group');
    }

    const managed = new Set(member?.targetGroupArns ?? []);
    const deregister = regs.filter((r) => !managed.has(r.targetGroupArn)).map((r) => ({ targetGroupArn: r.targetGroupArn, port: r.port }));
    for (const r of deregister)
      changes.push({
        resource: `${r.targetGroupArn} ${input.instanceId}:${r.port}`,
        field: 'registration',
        before: regs.find((x) => x.targetGroupArn === r.targetGroupArn && x.port === r.port)?.state,
        after: 'deregistered (draining)',
      });
    // Targets the ASG deregisters come back with the ASG (ExitStandby, AttachInstances); only the others are recorded.
    const earlier = parseTargets(rec.targetGroups, tgs);
    const targets = [
      ...earlier,
      ...deregister.filter((d) => !earlier.some((e) => e.targetGroupArn === d.targetGroupArn && e.port === d.port)),
    ];

    const recordTags: Tag[] = [];
    if (groupAction !== 'none' && member) {
      if (rec.group !== member.name) recordTags.push({ Key: SERVICE_TAG.group, Value: member.name });
      if (rec.mode !== input.mode) recordTags.push({ Key: SERVICE_TAG.mode, Value: input.mode });
      if (lowerMinTo !== undefined && rec.previousMinSize === undefined)
        recordTags.push({ Key: SERVICE_TAG.minSize, Value: String(member.minSize) });
    }
    if (deregister.length) {
      const value = formatTargets(targets);
      if (value.length > TAG_VALUE_MAX)
        notes.push(`${targets.length} target groups do not fit in the ${SERVICE_TAG.targetGroups} tag: the journal alone records them`);
      else if (value !== rec.targetGroups) recordTags.push({ Key: SERVICE_TAG.targetGroups, Value: value });
    }
    if (changes.length && recordTags.length)
      changes.push({
        resource: input.instanceId,
        field: 'tags',
        before: null,
        after: Object.fromEntries(recordTags.map((t) => [t.Key, t.Value])),
      });
    if (!member && regs.length === 0) notes.push('not registered in any target group');

    const previousMinSize =
      rec.previousMinSize !== undefined ? Number(rec.previousMinSize) : lowerMinTo !== undefined ? member!.minSize : undefined;
    return {
      changes,
      alreadyDone: changes.length === 0,
      notes,
      facts: {
        ...(group ? { group } : {}),
        groupAction,
        ...(lowerMinTo !== undefined ? { lowerMinTo } : {}),
        deregister,
        targets,
        recordTags,
        ...(previousMinSize !== undefined ? { previousMinSize } : {}),
        ...(rec.group ? { recordedGroup: rec.group } : {}),
        ...(rec.mode ? { recordedMode: rec.mode } : {}),
      },
    };
  },

  async apply(ctx, input, plan) {
    const f = plan.facts;
    // The record first, so a run that dies between the calls still knows what to restore.
    if (f.recordTags.length) await ctx.aws.ec2.send(new EC2.CreateTagsCommand({ Resources: [input.instanceId], Tags: f.recordTags }));
    if (f.group && f.lowerMinTo !== undefined) {
      await ctx.aws.autoscaling.send(
        new AutoScaling.UpdateAutoScalingGroupCommand({ AutoScalingGroupName: f.group.name, MinSize: f.lowerMinTo }),
      );
    }
    if (f.group && f.groupAction === 'standby') {
      await ctx.aws.autoscaling.send(
        new AutoScaling.EnterStandbyCommand({
          AutoScalingGroupName: f.group.name,
          InstanceIds: [input.instanceId],
          ShouldDecrementDesiredCapacity: true,
        }),
      );
    } else if (f.group && f.groupAction === 'detach') {
      await ctx.aws.autoscaling.send(
        new AutoScaling.DetachInstancesCommand({
          AutoScalingGroupName: f.group.name,
          InstanceIds: [input.instanceId],
          ShouldDecrementDesiredCapacity: true,
        }),
      );
    }
    const byGroup = new Map<string, number[]>();
    for (const t of f.deregister) byGroup.set(t.targetGroupArn, [...(byGroup.get(t.targetGroupArn) ?? []), t.port]);
    await Promise.all(
      [...byGroup].map(([arn, ports]) =>
        ctx.aws.elbv2.send(
          new ELBv2.DeregisterTargetsCommand({ TargetGroupArn: arn, Targets: ports.map((Port) => ({ Id: input.instanceId, Port })) }),
        ),
      ),
    );
    const name = f.group?.name ?? f.recordedGroup;
    const mode = f.groupAction !== 'none' ? f.groupAction : (f.recordedMode ?? (name ? input.mode : undefined));
    return {
      instanceId: input.instanceId,
      ...(name ? { autoScalingGroup: name } : {}),
      ...(name && mode ? { mode } : {}),
      ...(f.previousMinSize !== undefined ? { previousMinSize: f.previousMinSize } : {}),
      targetGroups: f.targets,
    };
  },

  async verify(ctx, input, output) {
    const [member, states] = await Promise.all([
      output.autoScalingGroup ? groupOf(ctx.aws.autoscaling, input.instanceId) : undefined,
      registrationStates(ctx.aws.elbv2, input.instanceId, output.targetGroups),
    ]);
    const checks: Check[] = [];
    if (output.autoScalingGroup) {
      const ok =
        output.mode === 'standby'
          ? ['Standby', 'EnteringStandby'].includes(member?.lifecycleState ?? '')
          : !member || ['Detaching', 'Detached'].includes(member.lifecycleState);
      checks.push({
        name: `${input.instanceId} ${output.mode === 'standby' ? 'in Standby in' : 'detached from'} ${output.autoScalingGroup}`,
        ok,
        detail: member ? `${member.name}: ${member.lifecycleState}` : 'not in a group',
      });
    }
    for (const s of states)
      checks.push({ name: `${input.instanceId}:${s.port} deregistered from ${s.targetGroupArn}`, ok: !s.registered, detail: s.state });
    return checks;
  },

  undo: {
    action: 'ec2.return-to-service',
    input: (out) => ({
      instanceId: out.instanceId,
      ...(out.autoScalingGroup ? { autoScalingGroup: out.autoScalingGroup, mode: out.mode } : {}),
      ...(out.previousMinSize !== undefined ? { previousMinSize: out.previousMinSize } : {}),
      targetGroups: out.targetGroups,
    }),
  },

  fallback: (i) => {
    const id = i.instanceId ?? '<instance-id>';
    return [
      `aws autoscaling describe-auto-scaling-instances --instance-ids ${id}`,
      `aws autoscaling detach-instances --auto-scaling-group-name <group> --instance-ids ${id} --should-decrement-desired-capacity`,
      '# at the minimum size, first: aws autoscaling update-auto-scaling-group --auto-scaling-group-name <group> --min-size <min-1>',
      `aws elbv2 describe-target-health --target-group-arn <tg-arn> --query "TargetHealthDescriptions[?Target.Id=='${id}']"`,
      `aws elbv2 deregister-targets --target-group-arn <tg-arn> --targets Id=${id},Port=<port>`,
    ];
  },
});
