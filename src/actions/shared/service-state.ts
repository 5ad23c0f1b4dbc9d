/**
 * Where an instance serves: its Auto Scaling group (with the group's sizes) and the ELBv2 target
 * groups it is registered in. Shared by `ec2.remove-from-service` and `ec2.return-to-service`.
 *
 * ELBv2 has no "which target groups hold this instance" call: the target groups of the
 * instance's VPC are listed (DescribeTargetGroups, paged) and each one's targets read
 * (DescribeTargetHealth, in parallel). An instance can be registered on several ports of a group.
 */
import type { AutoScalingClient, AutoScalingGroup, AutoScalingInstanceDetails } from '@aws-sdk/client-auto-scaling';
import type {
  DescribeTargetHealthCommandOutput,
  ElasticLoadBalancingV2Client,
  TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { Instance } from '@aws-sdk/client-ec2';
import { tagValue } from './ec2.js';
import { coalesced, grouped } from '../../cloud/batch.js';
import { AutoScaling, ELBv2 } from '../../cloud/sdk.js';

/** Instance tags that record what Firebreak changed, so a run that dies mid-way (or a later release) knows what to restore. */
export const SERVICE_TAG = {
  group: 'firebreak:asg',
  mode: 'firebreak:asg-mode',
  minSize: 'firebreak:asg-previous-min-size',
  targetGroups: 'firebreak:target-groups',
} as const;

export interface GroupState {
  name: string;
  minSize: number;
  maxSize: number;
  desiredCapacity: number;
  targetGroupArns: string[];
  /** The instance's lifecycle state in the group. */
  lifecycleState: string;
}

export interface Registration {
  targetGroupArn: string;
  port: number;
  /** ELBv2 target state: initial, healthy, unhealthy, unused, draining, unavailable. */
  state: string;
}

/** The instance's Auto Scaling membership; a fleet step's targets share one call per 50 instances (the API's limit). */
const membership = (asg: AutoScalingClient) =>
  coalesced<string, AutoScalingInstanceDetails | undefined>(asg, 'DescribeAutoScalingInstances', 50, async (ids) => {
    const found: AutoScalingInstanceDetails[] = [];
    for await (const page of AutoScaling.paginateDescribeAutoScalingInstances({ client: asg }, { InstanceIds: ids, MaxRecords: 50 }))
      found.push(...(page.AutoScalingInstances ?? []));
    const of = grouped(found, (i) => i.InstanceId);
    return (id) => of(id)[0];
  });

export async function groupOf(asg: AutoScalingClient, instanceId: string): Promise<GroupState | undefined> {
  const member = await membership(asg)(instanceId);
  if (!member?.AutoScalingGroupName) return undefined;
  return describeGroup(asg, member.AutoScalingGroupName, member.LifecycleState ?? 'unknown');
}

/** Groups by name; targets of a fleet step asking at the same moment share one call per 50 names (the API's default limit). */
const groupsByName = (asg: AutoScalingClient) =>
  coalesced<string, AutoScalingGroup | undefined>(asg, 'DescribeAutoScalingGroups', 50, async (names) => {
    const found: AutoScalingGroup[] = [];
    for await (const page of AutoScaling.paginateDescribeAutoScalingGroups(
      { client: asg },
      { AutoScalingGroupNames: names, MaxRecords: 50 },
    ))
      found.push(...(page.AutoScalingGroups ?? []));
    const of = grouped(found, (g) => g.AutoScalingGroupName);
    return (name) => of(name)[0];
  });

export async function describeGroup(asg: AutoScalingClient, name: string, lifecycleState = 'Detached'): Promise<GroupState | undefined> {
  const g = await groupsByName(asg)(name);
  if (!g) return undefined;
  return {
    name,
    minSize: g.MinSize ?? 0,
    maxSize: g.MaxSize ?? 0,
    desiredCapacity: g.DesiredCapacity ?? 0,
    targetGroupArns: g.TargetGroupARNs ?? [],
    lifecycleState,
  };
}

/** Every target group of the account: the targets of a fleet step asking at the same moment share one listing. */
const allTargetGroups = (elb: ElasticLoadBalancingV2Client) =>
  coalesced<'all', TargetGroup[]>(elb, 'DescribeTargetGroups', 1, async () => {
    const out: TargetGroup[] = [];
    for await (const page of ELBv2.paginateDescribeTargetGroups({ client: elb }, { PageSize: 400 })) out.push(...(page.TargetGroups ?? []));
    return () => out;
  });

export async function instanceTargetGroups(elb: ElasticLoadBalancingV2Client, vpcId: string | undefined): Promise<TargetGroup[]> {
  const out = await allTargetGroups(elb)('all');
  // Instance targets must be in the group's VPC; other target types never name an instance id.
  return out.filter((g) => g.TargetType === 'instance' && (!vpcId || !g.VpcId || g.VpcId === vpcId));
}

/** Every target of a group (one call answers for all its instances): targets of a fleet step asking at the same moment share it. */
const targetsOf = (elb: ElasticLoadBalancingV2Client) =>
  coalesced<string, DescribeTargetHealthCommandOutput>(elb, 'DescribeTargetHealth', 1, async ([arn]) => {
    const h = await elb.send(new ELBv2.DescribeTargetHealthCommand({ TargetGroupArn: arn }));
    return () => h;
  });

/** Where the instance is registered now in these groups (draining and not-registered entries excluded). */
export async function registrationsOf(
  elb: ElasticLoadBalancingV2Client,
  instance: Instance,
  groups: readonly TargetGroup[],
): Promise<Registration[]> {
  const health = await Promise.all(groups.map((g) => targetsOf(elb)(g.TargetGroupArn!).then((h) => ({ g, h }))));
  const out: Registration[] = [];
  for (const { g, h } of health) {
    for (const d of h.TargetHealthDescriptions ?? []) {
      if (d.Target?.Id !== instance.InstanceId) continue;
      const state = d.TargetHealth?.State ?? 'unknown';
      if (state === 'draining' || (state === 'unused' && d.TargetHealth?.Reason === 'Target.NotRegistered')) continue;
      out.push({ targetGroupArn: g.TargetGroupArn!, port: d.Target?.Port ?? g.Port!, state });
    }
  }
  return out;
}

/** The state of given (group, port) targets: registered or not. */
export async function registrationStates(
  elb: ElasticLoadBalancingV2Client,
  instanceId: string,
  targets: ReadonlyArray<{ targetGroupArn: string; port: number }>,
) {
  return Promise.all(
    targets.map(async (t) => {
      const h = await elb.send(
        new ELBv2.DescribeTargetHealthCommand({ TargetGroupArn: t.targetGroupArn, Targets: [{ Id: instanceId, Port: t.port }] }),
      );
      const d = h.TargetHealthDescriptions?.[0];
      const state = d?.TargetHealth?.State ?? 'unknown';
      const registered = !(state === 'draining' || (state === 'unused' && d?.TargetHealth?.Reason === 'Target.NotRegistered'));
      return { ...t, state, registered };
    }),
  );
}

/** `targetgroup/web-tg/0123…:443 targetgroup/api/…:8080`: the resource part of each ARN, to fit the 256-character tag value. */
export function formatTargets(regs: ReadonlyArray<{ targetGroupArn: string; port: number }>): string {
  return regs.map((r) => `${r.targetGroupArn.slice(r.targetGroupArn.indexOf('targetgroup/'))}:${r.port}`).join(' ');
}

/** The recorded targets, resolved against the groups that still exist (a deleted group has nothing to restore). */
export function parseTargets(value: string | undefined, groups: readonly TargetGroup[]): Array<{ targetGroupArn: string; port: number }> {
  const out: Array<{ targetGroupArn: string; port: number }> = [];
  for (const part of (value ?? '').split(' ').filter(Boolean)) {
    const i = part.lastIndexOf(':');
    const resource = part.slice(0, i);
    const port = Number(part.slice(i + 1));
    const g = groups.find((x) => x.TargetGroupArn?.endsWith(`:${resource}`));
    if (g && Number.isInteger(port) && port > 0) out.push({ targetGroupArn: g.TargetGroupArn!, port });
  }
  return out;
}

export function recordedService(instance: Instance) {
  return {
    group: tagValue(instance.Tags, SERVICE_TAG.group),
    mode: tagValue(instance.Tags, SERVICE_TAG.mode) as 'standby' | 'detach' | undefined,
    previousMinSize: tagValue(instance.Tags, SERVICE_TAG.minSize),
    targetGroups: tagValue(instance.Tags, SERVICE_TAG.targetGroups),
  };
}
