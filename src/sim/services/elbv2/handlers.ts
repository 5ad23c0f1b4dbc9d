import type { SimContext, SimService } from '../../service.js';
import type { Elbv2World, LoadBalancerT, TargetGroupT, WithElbv2 } from './schema.js';
import { forgetDrained, isDraining, loadBalancerArn, portOf, sameTarget, suffix, targetGroupArn, targetHealth } from './targets.js';
import { required } from '../../kit.js';

// ---------------------------------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------------------------------

export const elbOf = (ctx: SimContext): Elbv2World => (ctx.world as WithElbv2).elbv2;

export function groupOrFail(ctx: SimContext, arn: string): TargetGroupT {
  if (!/^arn:aws[\w-]*:elasticloadbalancing:[\w-]+:\d{12}:targetgroup\/[\w-]+\/[0-9a-f]+$/.test(arn)) {
    ctx.fail('ValidationError', `'${arn}' is not a valid target group ARN`, 400);
  }
  const tg = elbOf(ctx).targetGroups.find((g) => targetGroupArn(g, ctx) === arn);
  if (!tg) ctx.fail('TargetGroupNotFoundException', `Target groups '${arn}' not found`, 400);
  return tg;
}

export const INSTANCE_ID = /^i-[0-9a-f]{8}([0-9a-f]{9})?$/;

/** RegisterTargets' checks for an instance target: it must exist, be in the group's VPC, run. */
export function instanceTargetProblem(ctx: SimContext, tg: TargetGroupT, id: string, registering: boolean): string | undefined {
  if (!INSTANCE_ID.test(id)) return `The specified target does not exist or is not in the same VPC as the target group.`;
  const ec2 = (
    ctx.world as { ec2?: { instances?: { id: string; state?: string; subnetId?: string }[]; subnets?: { id: string; vpcId: string }[] } }
  ).ec2;
  if (!ec2?.instances) return undefined;
  const inst = ec2.instances.find((i) => i.id === id);
  if (!inst || inst.state === 'terminated') return 'The specified target does not exist or is not in the same VPC as the target group.';
  const vpc = ec2.subnets?.find((s) => s.id === inst.subnetId)?.vpcId;
  if (tg.vpcId && vpc && vpc !== tg.vpcId) return 'The specified target does not exist or is not in the same VPC as the target group.';
  if (registering && inst.state !== 'running') return `The following targets are not in a running state and cannot be registered: '${id}'`;
  return undefined;
}

export function targetGroupOut(ctx: SimContext, tg: TargetGroupT) {
  const hc = tg.healthCheck;
  return {
    TargetGroupArn: targetGroupArn(tg, ctx),
    TargetGroupName: tg.name,
    Protocol: tg.protocol,
    Port: tg.port,
    ...(tg.vpcId ? { VpcId: tg.vpcId } : {}),
    HealthCheckProtocol: tg.protocol,
    HealthCheckPort: 'traffic-port',
    HealthCheckEnabled: true,
    HealthCheckIntervalSeconds: hc.intervalSeconds,
    HealthCheckTimeoutSeconds: hc.timeoutSeconds,
    HealthyThresholdCount: hc.healthyThresholdCount,
    UnhealthyThresholdCount: hc.unhealthyThresholdCount,
    ...(tg.protocol.startsWith('HTTP') ? { HealthCheckPath: hc.path, Matcher: { HttpCode: '200' }, ProtocolVersion: 'HTTP1' } : {}),
    LoadBalancerArns: tg.loadBalancers.map((ref) => {
      const lb = elbOf(ctx).loadBalancers.find((l) => l.name === ref || l.arn === ref);
      return lb ? loadBalancerArn(lb, ctx) : ref;
    }),
    TargetType: tg.targetType,
    IpAddressType: 'ipv4',
  };
}

export function loadBalancerOut(ctx: SimContext, lb: LoadBalancerT) {
  const arn = loadBalancerArn(lb, ctx);
  const host = `${lb.scheme === 'internal' ? 'internal-' : ''}${lb.name}-${parseInt(suffix(arn).slice(0, 8), 16)}`;
  return {
    LoadBalancerArn: arn,
    DNSName:
      lb.dnsName ??
      (lb.type === 'application' ? `${host}.${ctx.region}.elb.amazonaws.com` : `${lb.name}-${suffix(arn)}.elb.${ctx.region}.amazonaws.com`),
    CreatedTime: new Date(lb.createdTime),
    LoadBalancerName: lb.name,
    Scheme: lb.scheme,
    ...(lb.vpcId ? { VpcId: lb.vpcId } : {}),
    State: { Code: lb.state },
    Type: lb.type,
    AvailabilityZones: lb.availabilityZones.map((z) => ({ ZoneName: z.zoneName, ...(z.subnetId ? { SubnetId: z.subnetId } : {}) })),
    ...(lb.type !== 'gateway' ? { SecurityGroups: lb.securityGroups } : {}),
    IpAddressType: 'ipv4',
  };
}

export const handlers: SimService['handlers'] = {
  DescribeTargetGroups(ctx: SimContext, input: { TargetGroupArns?: string[]; Names?: string[]; LoadBalancerArn?: string }) {
    let groups = elbOf(ctx).targetGroups;
    if (input.TargetGroupArns?.length) {
      const wanted = input.TargetGroupArns;
      groups = groups.filter((tg) => wanted.includes(targetGroupArn(tg, ctx)));
      if (groups.length !== new Set(wanted).size) ctx.fail('TargetGroupNotFoundException', 'One or more target groups not found', 400);
    }
    if (input.Names?.length) {
      const wanted = input.Names;
      groups = groups.filter((tg) => wanted.includes(tg.name));
      if (groups.length !== new Set(wanted).size) ctx.fail('TargetGroupNotFoundException', 'One or more target groups not found', 400);
    }
    if (input.LoadBalancerArn) {
      const lb = elbOf(ctx).loadBalancers.find((l) => loadBalancerArn(l, ctx) === input.LoadBalancerArn);
      if (!lb) ctx.fail('LoadBalancerNotFoundException', 'One or more load balancers not found', 400);
      groups = groups.filter((tg) => tg.loadBalancers.includes(lb.name) || tg.loadBalancers.includes(input.LoadBalancerArn!));
    }
    return { TargetGroups: groups.map((tg) => targetGroupOut(ctx, tg)) };
  },

  DescribeTargetHealth(ctx: SimContext, input: { TargetGroupArn: string; Targets?: { Id: string; Port?: number }[] }) {
    const tg = groupOrFail(ctx, required(ctx, input, 'TargetGroupArn'));
    const now = ctx.clock.now();
    const asked = input.Targets?.length
      ? input.Targets.map((t) => ({ id: t.Id, port: t.Port }))
      : tg.targets.filter((t) => t.deregisteredAt === undefined || isDraining(tg, t, now));
    return {
      TargetHealthDescriptions: asked.map((t) => {
        const port = portOf(tg, t);
        return {
          Target: { Id: t.id, Port: port },
          HealthCheckPort: String(port),
          TargetHealth: targetHealth(ctx.world as WithElbv2, tg, t, now),
        };
      }),
    };
  },

  RegisterTargets(ctx: SimContext, input: { TargetGroupArn: string; Targets: { Id: string; Port?: number; AvailabilityZone?: string }[] }) {
    const tg = groupOrFail(ctx, required(ctx, input, 'TargetGroupArn'));
    const targets = required<{ Id: string; Port?: number }[]>(ctx, input, 'Targets');
    // Check every target before changing anything: a bad target fails the whole call.
    for (const t of targets) {
      const problem = tg.targetType === 'instance' ? instanceTargetProblem(ctx, tg, t.Id, true) : undefined;
      if (problem) ctx.fail('InvalidTargetException', problem, 400);
    }
    const now = ctx.clock.now();
    forgetDrained(tg, now);
    let changed = false;
    for (const t of targets) {
      const existing = tg.targets.find((x) => sameTarget(tg, x, { id: t.Id, port: t.Port }));
      if (existing && existing.deregisteredAt === undefined) continue;
      if (existing) {
        delete existing.deregisteredAt;
        existing.registeredAt = now.toISOString();
      } else {
        tg.targets.push({
          id: t.Id,
          ...(t.Port !== undefined ? { port: t.Port } : {}),
          health: 'healthy',
          registeredAt: now.toISOString(),
        });
      }
      changed = true;
    }
    if (changed) ctx.changed();
    return {};
  },

  DeregisterTargets(ctx: SimContext, input: { TargetGroupArn: string; Targets: { Id: string; Port?: number }[] }) {
    const tg = groupOrFail(ctx, required(ctx, input, 'TargetGroupArn'));
    const targets = required<{ Id: string; Port?: number }[]>(ctx, input, 'Targets');
    for (const t of targets) {
      const problem = tg.targetType === 'instance' ? instanceTargetProblem(ctx, tg, t.Id, false) : undefined;
      if (problem) ctx.fail('InvalidTargetException', problem, 400);
    }
    const now = ctx.clock.now();
    let changed = false;
    for (const t of targets) {
      // A target is id and port: naming the wrong port (or none, for a target on another port)
      // succeeds and deregisters nothing, exactly as AWS does.
      const match = tg.targets.find((x) => sameTarget(tg, x, { id: t.Id, port: t.Port }) && x.deregisteredAt === undefined);
      if (match) {
        match.deregisteredAt = now.toISOString();
        changed = true;
      }
    }
    if (changed) ctx.changed();
    return {};
  },

  DescribeLoadBalancers(ctx: SimContext, input: { LoadBalancerArns?: string[]; Names?: string[] }) {
    let lbs = elbOf(ctx).loadBalancers;
    const byArn = input.LoadBalancerArns;
    const byName = input.Names;
    if (byArn?.length) lbs = lbs.filter((lb) => byArn.includes(loadBalancerArn(lb, ctx)));
    if (byName?.length) lbs = lbs.filter((lb) => byName.includes(lb.name));
    const asked = byArn?.length ? new Set(byArn).size : byName?.length ? new Set(byName).size : lbs.length;
    if (lbs.length !== asked) ctx.fail('LoadBalancerNotFoundException', 'One or more load balancers not found', 400);
    return { LoadBalancers: lbs.map((lb) => loadBalancerOut(ctx, lb)) };
  },
};
