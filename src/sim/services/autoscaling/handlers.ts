/** The Auto Scaling operations Firebreak sends, with the group lookups and activity records they share. */
import { createHash } from 'node:crypto';
import type { SimContext, SimService } from '../../service.js';
import type { Ec2World } from '../ec2/schema.js';
import { deregisterTarget, registerTarget, type WithElbv2 } from '../elbv2/index.js';
import type { ActivityT, AnyWorld, AsgGroup, AsgInstance, WithAsg } from './schema.js';
import { required } from '../../kit.js';

export const uuidFrom = (hex: string) =>
  `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
export const hash = (seed: string) => createHash('sha256').update(seed).digest('hex');

export function groupArn(g: AsgGroup, at: { region: string; accountId: string }): string {
  return (
    g.arn ??
    `arn:aws:autoscaling:${at.region}:${at.accountId}:autoScalingGroup:${uuidFrom(hash(`asg:${g.name}`))}:autoScalingGroupName/${g.name}`
  );
}

/** The group an instance is in, with its entry. */
export function groupOfInstance(world: WithAsg, instanceId: string): { group: AsgGroup; instance: AsgInstance } | undefined {
  for (const group of world.autoscaling.groups) {
    const instance = group.instances.find((i) => i.id === instanceId);
    if (instance) return { group, instance };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Handler plumbing
// ---------------------------------------------------------------------------------------------

export const worldOf = (ctx: SimContext): AnyWorld => ctx.world as AnyWorld;

export function groupOrFail(ctx: SimContext, name: string): AsgGroup {
  const g = worldOf(ctx).autoscaling.groups.find((x) => x.name === name);
  if (!g) ctx.fail('ValidationError', `AutoScalingGroup name not found - AutoScalingGroup: ${name} not found`, 400);
  return g;
}

/** Each id must be one of the group's instances, in one of `states`. */
export function membersOrFail(ctx: SimContext, g: AsgGroup, ids: string[], states: string[], stateText: string): AsgInstance[] {
  return ids.map((id) => {
    const inst = g.instances.find((i) => i.id === id);
    if (!inst) ctx.fail('ValidationError', `The instance ${id} is not part of Auto Scaling group ${g.name}.`, 400);
    if (!states.includes(inst.lifecycleState)) ctx.fail('ValidationError', `The instance ${id} is not in ${stateText}.`, 400);
    return inst;
  });
}

export const plural = (n: number) => `${n} instance${n === 1 ? '' : 's'}`;

export function sizeError(ctx: SimContext, g: AsgGroup, what: string, n: number): never {
  return ctx.fail(
    'ValidationError',
    `AutoScalingGroup ${g.name} has min-size=${g.minSize}, max-size=${g.maxSize}, and desired-size=${g.desiredCapacity}. To ${what} ${plural(n)}, please update the AutoScalingGroup sizes appropriately.`,
    400,
  );
}

export function ec2Instance(ctx: SimContext, id: string) {
  return worldOf(ctx).ec2?.instances?.find((i) => i.id === id);
}

export function zoneOf(ctx: SimContext, inst: AsgInstance): string {
  if (inst.availabilityZone) return inst.availabilityZone;
  const subnetId = ec2Instance(ctx, inst.id)?.subnetId;
  const subnet = worldOf(ctx).ec2?.subnets?.find((s) => s.id === subnetId);
  return subnet?.availabilityZone ?? `${ctx.region}a`;
}

export function details(ctx: SimContext, inst: AsgInstance): string {
  const subnetId = ec2Instance(ctx, inst.id)?.subnetId;
  return JSON.stringify({ ...(subnetId ? { 'Subnet ID': subnetId } : {}), 'Availability Zone': zoneOf(ctx, inst) });
}

/** Record an activity as finished and return it as AWS reports it at call time. */
export function activity(
  ctx: SimContext,
  g: AsgGroup,
  a: { description: string; cause: string; details: string },
  atCall: { statusCode: ActivityT['statusCode']; progress: number },
) {
  const now = ctx.clock.now().toISOString();
  const record: ActivityT = {
    id: uuidFrom(ctx.newId('a', 32).slice(2)),
    group: g.name,
    ...a,
    startTime: now,
    endTime: now,
    statusCode: 'Successful',
    progress: 100,
  };
  worldOf(ctx).autoscaling.activities.push(record);
  const { EndTime: _unfinished, ...out } = activityOut(record);
  return { ...out, StatusCode: atCall.statusCode, Progress: atCall.progress };
}

export function activityOut(a: ActivityT) {
  return {
    ActivityId: a.id,
    AutoScalingGroupName: a.group,
    Description: a.description,
    Cause: a.cause,
    StartTime: new Date(a.startTime),
    ...(a.endTime ? { EndTime: new Date(a.endTime) } : {}),
    StatusCode: a.statusCode,
    Progress: a.progress,
    Details: a.details,
  };
}

export const stamp = (ctx: SimContext) =>
  ctx.clock
    .now()
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z');

export function setTargetRegistration(ctx: SimContext, g: AsgGroup, instanceId: string, registered: boolean): void {
  const world = worldOf(ctx);
  if (!world.elbv2) return;
  const now = ctx.clock.now();
  for (const ref of g.targetGroups) {
    if (registered) registerTarget(world as WithElbv2, ref, instanceId, now, ctx);
    else deregisterTarget(world as WithElbv2, ref, instanceId, now, ctx);
  }
}

/**
 * Launch an instance into the group in place of `model`: a new id in the group, registered with
 * its target groups, and — when the world has an EC2 slice — a new running instance of the same
 * image, type and subnet, with its own root volume, primary interface (same security groups) and
 * instance profile association, tagged only with the group's tags (never the tags responders put
 * on the instance it replaces).
 */
export function launchReplacement(ctx: SimContext, g: AsgGroup, model: AsgInstance): AsgInstance {
  const id = ctx.newId('i');
  const entry: AsgInstance = {
    id,
    lifecycleState: 'InService',
    healthStatus: 'Healthy',
    availabilityZone: zoneOf(ctx, model),
    ...(model.instanceType ? { instanceType: model.instanceType } : {}),
    protectedFromScaleIn: false,
  };
  g.instances.push(entry);
  const ec2 = worldOf(ctx).ec2;
  const source = ec2Instance(ctx, model.id);
  if (ec2?.instances && source) {
    const now = ctx.clock.now().toISOString();
    const tags = { ...g.tags, 'aws:autoscaling:groupName': g.name };
    const rootDevice = source.blockDevices.find((b) => b.deviceName === source.rootDeviceName);
    const rootVolume = ec2.volumes?.find((v) => v.id === rootDevice?.volumeId);
    const blockDevices: Ec2World['instances'][number]['blockDevices'] = [];
    if (rootDevice && rootVolume && ec2.volumes) {
      const volumeId = ctx.newId('vol');
      const { snapshotId: _snapshot, ...volumeShape } = rootVolume;
      ec2.volumes.push({ ...volumeShape, id: volumeId, createTime: now, tags: {} });
      blockDevices.push({ deviceName: rootDevice.deviceName, volumeId, deleteOnTermination: true, attachTime: now });
    }
    // Addresses are the new instance's own, and termination protection is not inherited.
    const { privateIpAddress: _ip, publicIpAddress: _publicIp, ...shape } = source;
    ec2.instances.push({ ...shape, id, state: 'running', launchTime: now, blockDevices, tags, disableApiTermination: false });
    const primary = ec2.networkInterfaces?.find((e) => e.attachment?.instanceId === source.id && e.attachment.deviceIndex === 0);
    if (primary && ec2.networkInterfaces) {
      ec2.networkInterfaces.push({
        id: ctx.newId('eni'),
        subnetId: primary.subnetId,
        description: '',
        groups: [...primary.groups],
        attachment: { instanceId: id, deviceIndex: 0, id: ctx.newId('eni-attach'), deleteOnTermination: true, attachTime: now },
        sourceDestCheck: true,
        tags: {},
      });
    }
    const profile = ec2.iamInstanceProfileAssociations?.find((a) => a.instanceId === source.id);
    if (profile && ec2.iamInstanceProfileAssociations) {
      ec2.iamInstanceProfileAssociations.push({ ...profile, id: ctx.newId('iip-assoc'), instanceId: id, associatedAt: now });
    }
  }
  setTargetRegistration(ctx, g, id, true);
  activity(
    ctx,
    g,
    {
      description: `Launching a new EC2 instance: ${id}`,
      cause: `At ${stamp(ctx)} an instance was started in response to a difference between desired and actual capacity, increasing the capacity from ${g.desiredCapacity - 1} to ${g.desiredCapacity}.`,
      details: details(ctx, entry),
    },
    { statusCode: 'Successful', progress: 100 },
  );
  return entry;
}

export function launchTemplateOut(_ctx: SimContext, g: AsgGroup) {
  if (!g.launchTemplate) return {};
  const lt = g.launchTemplate;
  return {
    LaunchTemplate: {
      LaunchTemplateId: lt.id ?? `lt-${hash(`lt:${lt.name}`).slice(0, 17)}`,
      LaunchTemplateName: lt.name,
      Version: lt.version,
    },
  };
}

export function instanceTypeOf(ctx: SimContext, inst: AsgInstance): string {
  return inst.instanceType ?? ec2Instance(ctx, inst.id)?.instanceType ?? 't3.micro';
}

export function groupOut(ctx: SimContext, g: AsgGroup) {
  const arn = groupArn(g, ctx);
  return {
    AutoScalingGroupName: g.name,
    AutoScalingGroupARN: arn,
    ...launchTemplateOut(ctx, g),
    MinSize: g.minSize,
    MaxSize: g.maxSize,
    DesiredCapacity: g.desiredCapacity,
    DefaultCooldown: 300,
    AvailabilityZones: g.availabilityZones.length ? g.availabilityZones : [...new Set(g.instances.map((i) => zoneOf(ctx, i)))],
    LoadBalancerNames: [],
    TargetGroupARNs: g.targetGroups.map((ref) => resolveTargetGroupArn(ctx, ref)),
    HealthCheckType: g.healthCheckType,
    HealthCheckGracePeriod: g.healthCheckGracePeriod,
    // The group view says Healthy/Unhealthy; DescribeAutoScalingInstances says HEALTHY/UNHEALTHY.
    Instances: g.instances.map((i) => ({
      InstanceId: i.id,
      InstanceType: instanceTypeOf(ctx, i),
      AvailabilityZone: zoneOf(ctx, i),
      LifecycleState: i.lifecycleState,
      HealthStatus: i.healthStatus,
      ...launchTemplateOut(ctx, g),
      ProtectedFromScaleIn: i.protectedFromScaleIn,
    })),
    CreatedTime: new Date(g.createdTime),
    SuspendedProcesses: [],
    ...(g.vpcZoneIdentifier ? { VPCZoneIdentifier: g.vpcZoneIdentifier } : {}),
    EnabledMetrics: [],
    Tags: Object.entries(g.tags).map(([Key, Value]) => ({
      ResourceId: g.name,
      ResourceType: 'auto-scaling-group',
      Key,
      Value,
      PropagateAtLaunch: true,
    })),
    TerminationPolicies: ['Default'],
    NewInstancesProtectedFromScaleIn: false,
    ServiceLinkedRoleARN: `arn:aws:iam::${ctx.accountId}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`,
  };
}

export function resolveTargetGroupArn(ctx: SimContext, ref: string): string {
  if (ref.startsWith('arn:')) return ref;
  const elb = worldOf(ctx).elbv2;
  const tg = elb?.targetGroups.find((t) => t.name === ref);
  if (!tg) return ref;
  return (
    tg.arn ?? `arn:aws:elasticloadbalancing:${ctx.region}:${ctx.accountId}:targetgroup/${tg.name}/${hash(`tg:${tg.name}`).slice(0, 16)}`
  );
}

export function matchesFilters(g: AsgGroup, filters: { Name?: string; Values?: string[] }[] | undefined): boolean {
  return (filters ?? []).every((f) => {
    const values = f.Values ?? [];
    if (f.Name === 'tag-key') return values.some((v) => v in g.tags);
    if (f.Name === 'tag-value') return values.some((v) => Object.values(g.tags).includes(v));
    if (f.Name?.startsWith('tag:')) {
      const key = f.Name.slice(4);
      return key in g.tags && values.includes(g.tags[key]!);
    }
    return false;
  });
}

// ---------------------------------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------------------------------

export const handlers: SimService['handlers'] = {
  /**
   * Bounds and desired capacity. As in AWS, a desired capacity left out is moved into the new
   * [min, max] range; when that means more instances, the group launches them (modelled on an
   * existing member). Scale-in terminations are not modelled: the call is refused instead of
   * pretending, so a test that needs them fails loudly.
   */
  UpdateAutoScalingGroup(ctx, input: { AutoScalingGroupName?: string; MinSize?: number; MaxSize?: number; DesiredCapacity?: number }) {
    const g = groupOrFail(ctx, required<string>(ctx, input, 'AutoScalingGroupName'));
    const min = input.MinSize ?? g.minSize;
    const max = input.MaxSize ?? g.maxSize;
    if (min > max) ctx.fail('ValidationError', `Max bound, ${max}, must be greater than or equal to min bound, ${min}`, 400);
    const asked = input.DesiredCapacity;
    if (asked !== undefined && (asked < min || asked > max)) {
      ctx.fail('ValidationError', `Desired capacity:${asked} must be between the specified min size:${min} and max size:${max}`, 400);
    }
    const desired = asked ?? Math.min(Math.max(g.desiredCapacity, min), max);
    const members = g.instances.filter((i) => i.lifecycleState === 'InService' || i.lifecycleState === 'Pending');
    if (desired < members.length && desired < g.desiredCapacity) {
      throw new Error(
        `the simulated cloud does not model scale-in terminations (UpdateAutoScalingGroup ${g.name}: desired ${g.desiredCapacity} → ${desired})`,
      );
    }
    Object.assign(g, { minSize: min, maxSize: max, desiredCapacity: desired });
    const model = g.instances[0];
    for (let n = members.length; n < desired && model; n++) launchReplacement(ctx, g, model);
    ctx.changed();
    return {};
  },
  DescribeAutoScalingGroups(
    ctx: SimContext,
    input: { AutoScalingGroupNames?: string[]; Filters?: { Name?: string; Values?: string[] }[] },
  ) {
    const names = input.AutoScalingGroupNames;
    // Unknown names are simply absent from the answer, as AWS does.
    const groups = worldOf(ctx).autoscaling.groups.filter(
      (g) => (!names?.length || names.includes(g.name)) && matchesFilters(g, input.Filters),
    );
    return { AutoScalingGroups: groups.map((g) => groupOut(ctx, g)) };
  },

  DescribeAutoScalingInstances(ctx: SimContext, input: { InstanceIds?: string[] }) {
    const ids = input.InstanceIds;
    const out = [];
    for (const g of worldOf(ctx).autoscaling.groups) {
      for (const i of g.instances) {
        if (ids?.length && !ids.includes(i.id)) continue;
        out.push({
          InstanceId: i.id,
          InstanceType: instanceTypeOf(ctx, i),
          AutoScalingGroupName: g.name,
          AvailabilityZone: zoneOf(ctx, i),
          LifecycleState: i.lifecycleState,
          HealthStatus: i.healthStatus.toUpperCase(),
          ...launchTemplateOut(ctx, g),
          ProtectedFromScaleIn: i.protectedFromScaleIn,
        });
      }
    }
    return { AutoScalingInstances: out };
  },

  EnterStandby(ctx: SimContext, input: { InstanceIds?: string[]; AutoScalingGroupName: string; ShouldDecrementDesiredCapacity?: boolean }) {
    const g = groupOrFail(ctx, required(ctx, input, 'AutoScalingGroupName'));
    const decrement = required<boolean>(ctx, input, 'ShouldDecrementDesiredCapacity');
    const members = membersOrFail(ctx, g, input.InstanceIds ?? [], ['InService'], 'InService');
    if (decrement && g.desiredCapacity - members.length < g.minSize) sizeError(ctx, g, 'place into standby', members.length);
    const from = g.desiredCapacity;
    if (decrement) g.desiredCapacity -= members.length;
    const Activities = members.map((inst) => {
      inst.lifecycleState = 'Standby';
      setTargetRegistration(ctx, g, inst.id, false);
      const cause = decrement
        ? `At ${stamp(ctx)} instance ${inst.id} was moved to standby in response to a user request, shrinking the capacity from ${from} to ${g.desiredCapacity}.`
        : `At ${stamp(ctx)} instance ${inst.id} was moved to standby in response to a user request.`;
      return activity(
        ctx,
        g,
        { description: `Moving EC2 instance to Standby: ${inst.id}`, cause, details: details(ctx, inst) },
        { statusCode: 'InProgress', progress: 50 },
      );
    });
    // Without a decrement the group is now short of its desired capacity and launches replacements.
    if (!decrement) for (const inst of members) launchReplacement(ctx, g, inst);
    ctx.changed();
    return { Activities };
  },

  ExitStandby(ctx: SimContext, input: { InstanceIds?: string[]; AutoScalingGroupName: string }) {
    const g = groupOrFail(ctx, required(ctx, input, 'AutoScalingGroupName'));
    const members = membersOrFail(ctx, g, input.InstanceIds ?? [], ['Standby'], 'Standby');
    // Leaving Standby always adds to the desired capacity, which the maximum size bounds.
    if (g.desiredCapacity + members.length > g.maxSize) sizeError(ctx, g, 'exit standby', members.length);
    const from = g.desiredCapacity;
    g.desiredCapacity += members.length;
    const Activities = members.map((inst) => {
      inst.lifecycleState = 'InService';
      setTargetRegistration(ctx, g, inst.id, true);
      const cause = `At ${stamp(ctx)} instance ${inst.id} was moved out of standby in response to a user request, increasing the capacity from ${from} to ${g.desiredCapacity}.`;
      return activity(
        ctx,
        g,
        { description: `Moving EC2 instance out of Standby: ${inst.id}`, cause, details: details(ctx, inst) },
        { statusCode: 'PreInService', progress: 30 },
      );
    });
    ctx.changed();
    return { Activities };
  },

  DetachInstances(
    ctx: SimContext,
    input: { InstanceIds?: string[]; AutoScalingGroupName: string; ShouldDecrementDesiredCapacity?: boolean },
  ) {
    const g = groupOrFail(ctx, required(ctx, input, 'AutoScalingGroupName'));
    const decrement = required<boolean>(ctx, input, 'ShouldDecrementDesiredCapacity');
    const ids = input.InstanceIds ?? [];
    if (ids.length > 20)
      ctx.fail(
        'ValidationError',
        'List exceeds the maximum number of instances to detach. Please retry your request with fewer instances.',
        400,
      );
    const members = membersOrFail(ctx, g, ids, ['InService', 'Standby'], 'InService or Standby');
    // Standby instances are already outside the desired capacity; only in-service ones count.
    const inService = members.filter((i) => i.lifecycleState === 'InService');
    if (decrement && g.desiredCapacity - inService.length < g.minSize) sizeError(ctx, g, 'detach', members.length);
    const from = g.desiredCapacity;
    if (decrement) g.desiredCapacity -= inService.length;
    const Activities = members.map((inst) => {
      g.instances.splice(g.instances.indexOf(inst), 1);
      setTargetRegistration(ctx, g, inst.id, false);
      const cause = decrement
        ? `At ${stamp(ctx)} instance ${inst.id} was detached in response to a user request, shrinking the capacity from ${from} to ${g.desiredCapacity}.`
        : `At ${stamp(ctx)} instance ${inst.id} was detached in response to a user request.`;
      return activity(
        ctx,
        g,
        { description: `Detaching EC2 instance: ${inst.id}`, cause, details: details(ctx, inst) },
        { statusCode: 'InProgress', progress: 50 },
      );
    });
    if (!decrement) for (const inst of inService) launchReplacement(ctx, g, inst);
    ctx.changed();
    return { Activities };
  },

  AttachInstances(ctx: SimContext, input: { InstanceIds?: string[]; AutoScalingGroupName: string }) {
    const g = groupOrFail(ctx, required(ctx, input, 'AutoScalingGroupName'));
    const ids = input.InstanceIds ?? [];
    for (const id of ids) {
      const other = groupOfInstance(worldOf(ctx), id);
      if (other) ctx.fail('ValidationError', `The instance ${id} is already part of AutoScalingGroup ${other.group.name}.`, 400);
      const ec2 = worldOf(ctx).ec2;
      if (ec2?.instances) {
        const inst = ec2.instances.find((i) => i.id === id);
        if (inst?.state !== 'running') ctx.fail('ValidationError', `Instance ${id} is not in correct state`, 400);
      }
    }
    if (g.desiredCapacity + ids.length > g.maxSize) sizeError(ctx, g, 'attach', ids.length);
    g.desiredCapacity += ids.length;
    for (const id of ids) {
      const entry: AsgInstance = { id, lifecycleState: 'InService', healthStatus: 'Healthy', protectedFromScaleIn: false };
      g.instances.push(entry);
      setTargetRegistration(ctx, g, id, true);
      activity(
        ctx,
        g,
        {
          description: `Attaching an existing EC2 instance: ${id}`,
          cause: `At ${stamp(ctx)} an instance was added in response to user request. Keeping the capacity at the new ${g.desiredCapacity}.`,
          details: details(ctx, entry),
        },
        { statusCode: 'Successful', progress: 100 },
      );
    }
    if (ids.length) ctx.changed();
    return {};
  },

  DescribeScalingActivities(ctx: SimContext, input: { AutoScalingGroupName?: string; ActivityIds?: string[]; MaxRecords?: number }) {
    if (input.AutoScalingGroupName) groupOrFail(ctx, input.AutoScalingGroupName);
    const list = worldOf(ctx)
      .autoscaling.activities.filter(
        (a) =>
          (!input.AutoScalingGroupName || a.group === input.AutoScalingGroupName) &&
          (!input.ActivityIds?.length || input.ActivityIds.includes(a.id)),
      )
      .slice()
      .reverse()
      .slice(0, input.MaxRecords ?? 100);
    return { Activities: list.map(activityOut) };
  },
};
