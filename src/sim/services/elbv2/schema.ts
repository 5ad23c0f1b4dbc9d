/** The Elastic Load Balancing v2 slice of the world: target groups, their targets, load balancers. */
import * as z from 'zod';
import { Timestamp, WORLD_EPOCH, Tags } from '../../kit.js';

// Target group and load balancer names: 1–32 letters, digits and hyphens, no hyphen at either end.
export const ElbName = z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/, 'up to 32 letters, digits and hyphens');

export const Target = z.strictObject({
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

export const TargetGroup = z.strictObject({
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

export const LoadBalancer = z.strictObject({
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
