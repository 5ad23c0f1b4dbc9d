import * as z from 'zod';
import { ActionFailed } from '../../core/errors.js';
import { defineAction, type Change, type Check } from '../define.js';
import { describeInstance, InstanceId, tagValue } from '../shared/ec2.js';
import { describeGroup, groupOf, registrationStates, SERVICE_TAG, type GroupState } from '../shared/service-state.js';
import { AutoScaling, EC2, ELBv2 } from '../../cloud/sdk.js';

const TargetGroupArn = z
  .string()
  .regex(/^arn:aws[\w-]*:elasticloadbalancing:[\w-]+:\d{12}:targetgroup\/[\w-]+\/[0-9a-f]+$/, 'a target group ARN');

const Input = z.strictObject({
  instanceId: InstanceId,
  autoScalingGroup: z.string().min(1).max(255).optional(),
  mode: z.enum(['detach', 'standby']).default('detach'),
  previousMinSize: z.number().int().min(0).optional(),
  targetGroups: z.array(z.strictObject({ targetGroupArn: TargetGroupArn, port: z.number().int().min(1).max(65535) })).default([]),
});
type Input = z.infer<typeof Input>;

interface Facts {
  group?: GroupState;
  /** The instance's state in the group now: Standby, InService, … or 'none' when it is not a member. */
  state: string;
  groupAction: 'none' | 'exit-standby' | 'attach';
  restoreMinSize?: number;
  register: Array<{ targetGroupArn: string; port: number }>;
  untag: string[];
}

export default defineAction<Input, { instanceId: string }, Facts>({
  id: 'ec2.return-to-service',
  summary: "Put an instance back into its Auto Scaling group and target groups, and restore the group's minimum size",
  description: [
    'The undo of `ec2.remove-from-service`: ExitStandby (standby) or AttachInstances (detached) — both add one to the desired',
    'capacity, so the group must have room below its maximum — then the minimum size it had, then RegisterTargets for the',
    'target groups the group does not manage. The minimum is restored after the instance is back: restored first, it could',
    'exceed the desired capacity and make the group launch an instance. Release only an instance that has been cleaned or',
    'rebuilt: it serves traffic again.',
  ].join('\n'),
  controls: ['CC18'],
  input: Input,
  mutating: true,
  permissions: [
    'ec2:DescribeInstances',
    'ec2:DeleteTags',
    'autoscaling:DescribeAutoScalingInstances',
    'autoscaling:DescribeAutoScalingGroups',
    'autoscaling:ExitStandby',
    'autoscaling:AttachInstances',
    'autoscaling:UpdateAutoScalingGroup',
    'elasticloadbalancing:DescribeTargetHealth',
    'elasticloadbalancing:RegisterTargets',
  ],
  targets: (i) => [{ kind: 'instance', id: i.instanceId }],

  async plan(ctx, input) {
    const [inst, member, states] = await Promise.all([
      describeInstance(ctx.aws.ec2, input.instanceId),
      groupOf(ctx.aws.autoscaling, input.instanceId),
      registrationStates(ctx.aws.elbv2, input.instanceId, input.targetGroups),
    ]);
    ctx.guard.assertNotProtected(input.instanceId, inst.Tags);
    const group = input.autoScalingGroup
      ? member?.name === input.autoScalingGroup
        ? member
        : await describeGroup(ctx.aws.autoscaling, input.autoScalingGroup)
      : undefined;
    if (input.autoScalingGroup && !group)
      throw new ActionFailed(
        `failed to find Auto Scaling group ${input.autoScalingGroup}: it no longer exists`,
        'AutoScalingGroupNotFound',
        { hint: 'leave autoScalingGroup out to restore only the target groups' },
      );
    if (member && input.autoScalingGroup && member.name !== input.autoScalingGroup) {
      throw new ActionFailed(
        `failed to return ${input.instanceId} to ${input.autoScalingGroup}: it is now a member of ${member.name}`,
        'InstanceInOtherGroup',
      );
    }
    const state = member?.lifecycleState ?? 'none';
    const changes: Change[] = [];
    const notes: string[] = [];
    let groupAction: Facts['groupAction'] = 'none';
    if (group) {
      if (state === 'Standby') groupAction = 'exit-standby';
      else if (state === 'none') groupAction = 'attach';
      if (state === 'none' && input.mode === 'standby')
        notes.push(`${input.instanceId} was put in Standby but is no longer a member of ${group.name}: it is attached again`);
      if (groupAction !== 'none') {
        if (group.desiredCapacity + 1 > group.maxSize)
          notes.push(
            `${group.name} is at its maximum size (${group.maxSize}): AWS will refuse until MaxSize is raised or another instance leaves`,
          );
        changes.push({
          resource: `${group.name} ${input.instanceId}`,
          field: 'lifecycle',
          before: state === 'none' ? 'not a member' : state,
          after: 'InService',
        });
        changes.push({ resource: group.name, field: 'DesiredCapacity', before: group.desiredCapacity, after: group.desiredCapacity + 1 });
      }
    }
    const restoreMinSize =
      group && input.previousMinSize !== undefined && group.minSize !== input.previousMinSize ? input.previousMinSize : undefined;
    if (restoreMinSize !== undefined)
      changes.push({ resource: group!.name, field: 'MinSize', before: group!.minSize, after: restoreMinSize });
    const register = states.filter((s) => !s.registered).map((s) => ({ targetGroupArn: s.targetGroupArn, port: s.port }));
    for (const r of register)
      changes.push({
        resource: `${r.targetGroupArn} ${input.instanceId}:${r.port}`,
        field: 'registration',
        before: states.find((s) => s.targetGroupArn === r.targetGroupArn && s.port === r.port)?.state,
        after: 'registered',
      });
    const untag = Object.values(SERVICE_TAG).filter((k) => tagValue(inst.Tags, k) !== undefined);
    if (untag.length) changes.push({ resource: input.instanceId, field: 'tags', before: untag, after: null });
    return {
      changes,
      alreadyDone: changes.length === 0,
      notes,
      facts: {
        ...(group ? { group } : {}),
        state,
        groupAction,
        ...(restoreMinSize !== undefined ? { restoreMinSize } : {}),
        register,
        untag,
      },
    };
  },

  async apply(ctx, input, plan) {
    const f = plan.facts;
    if (f.group && f.groupAction === 'exit-standby') {
      await ctx.aws.autoscaling.send(
        new AutoScaling.ExitStandbyCommand({ AutoScalingGroupName: f.group.name, InstanceIds: [input.instanceId] }),
      );
    } else if (f.group && f.groupAction === 'attach') {
      await ctx.aws.autoscaling.send(
        new AutoScaling.AttachInstancesCommand({ AutoScalingGroupName: f.group.name, InstanceIds: [input.instanceId] }),
      );
    }
    if (f.group && f.restoreMinSize !== undefined) {
      await ctx.aws.autoscaling.send(
        new AutoScaling.UpdateAutoScalingGroupCommand({ AutoScalingGroupName: f.group.name, MinSize: f.restoreMinSize }),
      );
    }
    const byGroup = new Map<string, number[]>();
    for (const t of f.register) byGroup.set(t.targetGroupArn, [...(byGroup.get(t.targetGroupArn) ?? []), t.port]);
    await Promise.all(
      [...byGroup].map(([arn, ports]) =>
        ctx.aws.elbv2.send(
          new ELBv2.RegisterTargetsCommand({ TargetGroupArn: arn, Targets: ports.map((Port) => ({ Id: input.instanceId, Port })) }),
        ),
      ),
    );
    if (f.untag.length)
      await ctx.aws.ec2.send(new EC2.DeleteTagsCommand({ Resources: [input.instanceId], Tags: f.untag.map((Key) => ({ Key })) }));
    return { instanceId: input.instanceId };
  },

  async verify(ctx, input) {
    const [member, states] = await Promise.all([
      input.autoScalingGroup ? groupOf(ctx.aws.autoscaling, input.instanceId) : undefined,
      registrationStates(ctx.aws.elbv2, input.instanceId, input.targetGroups),
    ]);
    const checks: Check[] = [];
    if (input.autoScalingGroup) {
      // Pending: the group is running its launch lifecycle (hooks, warm-up) on the way to InService.
      const ok =
        member?.name === input.autoScalingGroup &&
        ['InService', 'Pending', 'Pending:Wait', 'Pending:Proceed'].includes(member.lifecycleState);
      checks.push({
        name: `${input.instanceId} in service in ${input.autoScalingGroup}`,
        ok,
        detail: member ? member.lifecycleState : 'not a member',
      });
      if (input.previousMinSize !== undefined && member)
        checks.push({
          name: `${member.name} MinSize ${input.previousMinSize}`,
          ok: member.minSize === input.previousMinSize,
          detail: String(member.minSize),
        });
    }
    for (const s of states)
      checks.push({ name: `${input.instanceId}:${s.port} registered in ${s.targetGroupArn}`, ok: s.registered, detail: s.state });
    return checks;
  },

  fallback: (i) => {
    const id = i.instanceId ?? '<instance-id>';
    return [
      `aws autoscaling attach-instances --auto-scaling-group-name <group> --instance-ids ${id}   # or: exit-standby`,
      'aws autoscaling update-auto-scaling-group --auto-scaling-group-name <group> --min-size <previous-min>',
      `aws elbv2 register-targets --target-group-arn <tg-arn> --targets Id=${id},Port=<port>`,
    ];
  },
});
