/** Targets of a target group: ARNs, registration and deregistration (with draining), and health, shared with Auto Scaling. */
import { createHash } from 'node:crypto';
import type { LoadBalancerT, TargetGroupT, TargetT, WithElbv2 } from './schema.js';

export interface Place {
  region: string;
  accountId: string;
}

export const suffix = (seed: string) => createHash('sha256').update(seed).digest('hex').slice(0, 16);

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

export const ms = (iso: string) => Date.parse(iso);

/** A target still registered (not deregistered, or deregistered and still draining). */
export function isDraining(tg: TargetGroupT, t: TargetT, now: Date): boolean {
  return t.deregisteredAt !== undefined && now.getTime() < ms(t.deregisteredAt) + tg.deregistrationDelaySeconds * 1000;
}

export const portOf = (tg: TargetGroupT, t: { port?: number | undefined }) => t.port ?? tg.port;
export const sameTarget = (tg: TargetGroupT, a: { id: string; port?: number | undefined }, b: { id: string; port?: number | undefined }) =>
  a.id === b.id && portOf(tg, a) === portOf(tg, b);

/** Drop targets whose draining has ended: AWS forgets them. */
export function forgetDrained(tg: TargetGroupT, now: Date): void {
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

export interface Health {
  State: string;
  Reason?: string;
  Description?: string;
}

/** The EC2 state of an instance target, when the world has an EC2 slice that knows it. */
export function instanceState(world: unknown, id: string): string | undefined {
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
