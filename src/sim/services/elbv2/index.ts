/**
 * Simulated Elastic Load Balancing v2: target groups with their registered targets, and load
 * balancers (described only). Target health follows AWS's state machine on the simulated clock:
 * a new target is `initial` until enough health checks pass, a deregistered one is `draining`
 * for the group's deregistration delay (300 s by default) and then gone, and a group no load
 * balancer uses reports its targets `unused` — each a state that surprises responders.
 *
 * Error names given to `ctx.fail` are what the SDK surfaces as `err.name` (the wire code
 * `TargetGroupNotFound` arrives as `TargetGroupNotFoundException`).
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import type { SimContext, SimService } from '../../service.js';
import { ELBv2 } from '../../../cloud/sdk.js';

const Timestamp = z.iso.datetime({ offset: true });
const WORLD_EPOCH = '2025-01-01T00:00:00Z';
const Tags = z.record(z.string().min(1).max(128), z.string().max(256)).default({}).describe('tag key → value');
// Target group and load balancer names: 1–32 letters, digits and hyphens, no hyphen at either end.
const ElbName = z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/, 'up to 32 letters, digits and hyphens');

const Target = z.strictObject({
  /** An instance id, IP address, Lambda ARN or ALB ARN, per the group's target type. */
  id: z.string().min(1),
  /** Defaults to the group's port. A target is identified by id and port together. */
  port: z.number().int().min(1).max(65535).optional(),
  availabilityZone: z.string().optional(),
  /** What health checks conclude once the target is registered and in use. */
  health: z.enum(['healthy', 'unhealthy']).default('healthy'),
  /** When it was registered: it stays `initial` until enough health checks have passed. */
  registeredAt: Timestamp.optional(),
  /** When it was deregistered: it drains for the deregistration delay, then is gone. */
  deregisteredAt: Timestamp.optional(),
});

const TargetGroup = z.strictObject({
  name: ElbName,
  /** Defaults to an ARN derived from the name in the world's region and account. */
  arn: z.string().optional(),
  protocol: z.enum(['HTTP', 'HTTPS', 'TCP', 'TLS', 'UDP', 'TCP_UDP', 'GENEVE']).default('HTTP'),
  port: z.number().int().min(1).max(65535).default(80),
  vpcId: z.string().optional(),
  targetType: z.enum(['instance', 'ip', 'lambda', 'alb']).default('instance'),
  healthCheck: z
    .strictObject({
      path: z.string().default('/'),
      intervalSeconds: z.number().int().min(5).max(300).default(30),
      timeoutSeconds: z.number().int().min(2).max(120).default(5),
      healthyThresholdCount: z.number().int().min(2).max(10).default(5),
      unhealthyThresholdCount: z.number().int().min(2).max(10).default(2),
    })
    .prefault({}),
  deregistrationDelaySeconds: z.number().int().min(0).max(3600).default(300),
  /** Names or ARNs of the load balancers that forward to this group. */
  loadBalancers: z.array(z.string()).default([]),
  targets: z.array(Target).default([]),
  tags: Tags,
});

const LoadBalancer = z.strictObject({
  name: ElbName,
  arn: z.string().optional(),
  type: z.enum(['application', 'network', 'gateway']).default('application'),
  scheme: z.enum(['internet-facing', 'internal']).default('internet-facing'),
  vpcId: z.string().optional(),
  dnsName: z.string().optional(),
  state: z.enum(['active', 'provisioning', 'active_impaired', 'failed']).default('active'),
  availabilityZones: z.array(z.strictObject({ zoneName: z.string(), subnetId: z.string().optional() })).default([]),
  securityGroups: z.array(z.string()).default([]),
  createdTime: Timestamp.default(WORLD_EPOCH),
  tags: Tags,
});

export const schema = z
  .strictObject({
    targetGroups: z.array(TargetGroup).default([]),
    loadBalancers: z.array(LoadBalancer).default([]),
  })
  .superRefine((elb, check) => {
    const names = new Set<string>();
    elb.targetGroups.forEach((tg, i) => {
      if (names.has(tg.name))
        check.addIssue({ code: 'custom', path: ['targetGroups', i, 'name'], message: `duplicate target group name '${tg.name}'` });
      names.add(tg.name);
      tg.loadBalancers.forEach((ref, j) => {
        if (!elb.loadBalancers.some((lb) => lb.name === ref || lb.arn === ref)) {
          check.addIssue({
            code: 'custom',
            path: ['targetGroups', i, 'loadBalancers', j],
            message: `no load balancer '${ref}' in elbv2.loadBalancers`,
          });
        }
      });
    });
  })
  .prefault({});

export type Elbv2World = z.infer<typeof schema>;
export type TargetGroupT = z.infer<typeof TargetGroup>;
export type TargetT = z.infer<typeof Target>;
export type LoadBalancerT = z.infer<typeof LoadBalancer>;
export interface WithElbv2 {
  elbv2: Elbv2World;
}
/** Where ARNs are minted: the world's region and account. */
export interface Place {
  region: string;
  accountId: string;
}

const suffix = (seed: string) => createHash('sha256').update(seed).digest('hex').slice(0, 16);

export function targetGroupArn(tg: TargetGroupT, at: Place): string {
  return tg.arn ?? `arn:aws:elasticloadbalancing:${at.region}:${at.accountId}:targetgroup/${tg.name}/${suffix(`tg:${tg.name}`)}`;
}

export function loadBalancerArn(lb: LoadBalancerT, at: Place): string {
  const kind = { application: 'app', network: 'net', gateway: 'gwy' }[lb.type];
  return lb.arn ?? `arn:aws:elasticloadbalancing:${at.region}:${at.accountId}:loadbalancer/${kind}/${lb.name}/${suffix(`lb:${lb.name}`)}`;
}

/** A target group by ARN or by name. */
export function findTargetGroup(world: WithElbv2, ref: string, at: Place): TargetGroupT | undefined {
  return world.elbv2.targetGroups.find((tg) => tg.name === ref || targetGroupArn(tg, at) === ref);
}

const ms = (iso: string) => Date.parse(iso);

/** A target still registered (not deregistered, or deregistered and still draining). */
function isDraining(tg: TargetGroupT, t: TargetT, now: Date): boolean {
  return t.deregisteredAt !== undefined && now.getTime() < ms(t.deregisteredAt) + tg.deregistrationDelaySeconds * 1000;
}

const portOf = (tg: TargetGroupT, t: { port?: number | undefined }) => t.port ?? tg.port;
const sameTarget = (tg: TargetGroupT, a: { id: string; port?: number | undefined }, b: { id: string; port?: number | undefined }) =>
  a.id === b.id && portOf(tg, a) === portOf(tg, b);

/** Drop targets whose draining has ended: AWS forgets them. */
function forgetDrained(tg: TargetGroupT, now: Date): void {
  tg.targets = tg.targets.filter((t) => t.deregisteredAt === undefined || isDraining(tg, t, now));
}

/**
 * Register `id` (on the group's port) with a group, as Auto Scaling does for instances entering
 * service. Returns true when something changed. Unknown group refs are ignored: an Auto Scaling
 * group may name a target group that was deleted.
 */
export function registerTarget(world: WithElbv2, tgRef: string, id: string, now: Date, at: Place): boolean {
  const tg = findTargetGroup(world, tgRef, at);
  if (!tg) return false;
  forgetDrained(tg, now);
  const existing = tg.targets.find((t) => sameTarget(tg, t, { id }));
  if (existing && existing.deregisteredAt === undefined) return false;
  if (existing) {
    delete existing.deregisteredAt;
    existing.registeredAt = now.toISOString();
  } else {
    tg.targets.push({ id, health: 'healthy', registeredAt: now.toISOString() });
  }
  return true;
}

/** Deregister `id` (every port it is registered on) from a group: it starts draining. */
export function deregisterTarget(world: WithElbv2, tgRef: string, id: string, now: Date, at: Place, port?: number): boolean {
  const tg = findTargetGroup(world, tgRef, at);
  if (!tg) return false;
  forgetDrained(tg, now);
  let changed = false;
  for (const t of tg.targets) {
    if (t.id === id && t.deregisteredAt === undefined && (port === undefined || portOf(tg, t) === port)) {
      t.deregisteredAt = now.toISOString();
      changed = true;
    }
  }
  return changed;
}

interface Health {
  State: string;
  Reason?: string;
  Description?: string;
}

/** The EC2 state of an instance target, when the world has an EC2 slice that knows it. */
function instanceState(world: unknown, id: string): string | undefined {
  const instances = (world as { ec2?: { instances?: { id: string; state?: string }[] } }).ec2?.instances;
  return instances?.find((i) => i.id === id)?.state;
}

/** AWS's health report for one target at `now` (states, reasons and texts are AWS's own). */
export function targetHealth(world: WithElbv2, tg: TargetGroupT, target: { id: string; port?: number | undefined }, now: Date): Health {
  const t = tg.targets.find((x) => sameTarget(tg, x, target) && (x.deregisteredAt === undefined || isDraining(tg, x, now)));
  if (!t) return { State: 'unused', Reason: 'Target.NotRegistered', Description: 'Target is not registered to the target group' };
  if (t.deregisteredAt !== undefined)
    return { State: 'draining', Reason: 'Target.DeregistrationInProgress', Description: 'Target deregistration is in progress' };
  if (tg.loadBalancers.length === 0) {
    return {
      State: 'unused',
      Reason: 'Target.NotInUse',
      Description: 'Target group is not configured to receive traffic from the load balancer',
    };
  }
  const state = tg.targetType === 'instance' ? instanceState(world, t.id) : undefined;
  if (state !== undefined && state !== 'running') {
    return { State: 'unused', Reason: 'Target.InvalidState', Description: `Target is in the ${state} state` };
  }
  const checksNeeded = tg.healthCheck.intervalSeconds * tg.healthCheck.healthyThresholdCount * 1000;
  if (t.registeredAt !== undefined && now.getTime() < ms(t.registeredAt) + checksNeeded) {
    return { State: 'initial', Reason: 'Elb.RegistrationInProgress', Description: 'Target registration is in progress' };
  }
  if (t.health === 'unhealthy') return { State: 'unhealthy', Reason: 'Target.FailedHealthChecks', Description: 'Health checks failed' };
  return { State: 'healthy' };
}

// ---------------------------------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------------------------------

const elbOf = (ctx: SimContext): Elbv2World => (ctx.world as WithElbv2).elbv2;

function required<T>(ctx: SimContext, input: Record<string, unknown>, field: string): T {
  const v = input[field];
  if (v === undefined || v === null || (Array.isArray(v) && v.length === 0)) {
    const member = field[0]!.toLowerCase() + field.slice(1);
    ctx.fail(
      'ValidationError',
      `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
      400,
    );
  }
  return v as T;
}

function groupOrFail(ctx: SimContext, arn: string): TargetGroupT {
  if (!/^arn:aws[\w-]*:elasticloadbalancing:[\w-]+:\d{12}:targetgroup\/[\w-]+\/[0-9a-f]+$/.test(arn)) {
    ctx.fail('ValidationError', `'${arn}' is not a valid target group ARN`, 400);
  }
  const tg = elbOf(ctx).targetGroups.find((g) => targetGroupArn(g, ctx) === arn);
  if (!tg) ctx.fail('TargetGroupNotFoundException', `Target groups '${arn}' not found`, 400);
  return tg;
}

const INSTANCE_ID = /^i-[0-9a-f]{8}([0-9a-f]{9})?$/;

/** RegisterTargets' checks for an instance target: it must exist, be in the group's VPC, run. */
function instanceTargetProblem(ctx: SimContext, tg: TargetGroupT, id: string, registering: boolean): string | undefined {
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

function targetGroupOut(ctx: SimContext, tg: TargetGroupT) {
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

function loadBalancerOut(ctx: SimContext, lb: LoadBalancerT) {
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

const handlers: SimService['handlers'] = {
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

export const service: SimService<Elbv2World> = {
  clientName: 'ElasticLoadBalancingV2Client',
  key: 'elbv2',
  schema,
  handlers,
  // A getter: the SDK package loads when the simulated service first fails a call, not when the simulation loads.
  get exception() {
    return ELBv2.ElasticLoadBalancingV2ServiceException;
  },
};
