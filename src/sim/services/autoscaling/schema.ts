/** The Auto Scaling slice of the world: groups, their instances and lifecycle states, scaling activities. */
import * as z from 'zod';
import type { Ec2World } from '../ec2/schema.js';
import type { WithElbv2 } from '../elbv2/index.js';
import { Timestamp, WORLD_EPOCH, Tags } from '../../kit.js';

export const LIFECYCLE_STATES = [
  'Pending',
  'Pending:Wait',
  'Pending:Proceed',
  'Quarantined',
  'InService',
  'Terminating',
  'Terminating:Wait',
  'Terminating:Proceed',
  'Terminated',
  'Detaching',
  'Detached',
  'EnteringStandby',
  'Standby',
] as const;

export const GroupInstance = z.strictObject({
  id: z.string().regex(/^i-[0-9a-f]{8}([0-9a-f]{9})?$/, 'an id such as i-0123456789abcdef0'),
  lifecycleState: z.enum(LIFECYCLE_STATES).default('InService'),
  healthStatus: z.enum(['Healthy', 'Unhealthy']).default('Healthy'),
  /** Default: the instance's subnet's zone in the EC2 slice, else the region's first zone. */
  availabilityZone: z.string().optional(),
  /** Default: the instance's type in the EC2 slice, else t3.micro. */
  instanceType: z.string().optional(),
  protectedFromScaleIn: z.boolean().default(false),
});

export const Group = z
  .strictObject({
    name: z.string().min(1).max(255),
    /** Defaults to an ARN derived from the name in the world's region and account. */
    arn: z.string().optional(),
    minSize: z.number().int().min(0),
    maxSize: z.number().int().min(0),
    /** How many instances the group keeps in service (Standby instances do not count). */
    desiredCapacity: z.number().int().min(0),
    launchTemplate: z.strictObject({ name: z.string(), id: z.string().optional(), version: z.string().default('$Default') }).optional(),
    /** Names or ARNs of the ELBv2 target groups the group registers its instances with. */
    targetGroups: z.array(z.string()).default([]),
    availabilityZones: z.array(z.string()).default([]),
    /** Comma-separated subnet ids, as AWS reports them. */
    vpcZoneIdentifier: z.string().optional(),
    healthCheckType: z.enum(['EC2', 'ELB']).default('EC2'),
    healthCheckGracePeriod: z.number().int().min(0).default(300),
    createdTime: Timestamp.default(WORLD_EPOCH),
    instances: z.array(GroupInstance).default([]),
    /** Group tags; each is propagated to the instances the group launches. */
    tags: Tags,
  })
  .refine((g) => g.minSize <= g.desiredCapacity && g.desiredCapacity <= g.maxSize, {
    message: 'desiredCapacity must lie between minSize and maxSize',
    path: ['desiredCapacity'],
  });

export const Activity = z.strictObject({
  id: z.string(),
  group: z.string(),
  description: z.string(),
  cause: z.string(),
  startTime: Timestamp,
  endTime: Timestamp.optional(),
  statusCode: z.enum([
    'PendingSpotBidPlacement',
    'WaitingForSpotInstanceRequestId',
    'WaitingForSpotInstanceId',
    'WaitingForInstanceId',
    'PreInService',
    'InProgress',
    'WaitingForELBConnectionDraining',
    'MidLifecycleAction',
    'WaitingForInstanceWarmup',
    'Successful',
    'Failed',
    'Cancelled',
    'WaitingForConnectionDraining',
  ]),
  progress: z.number().int().min(0).max(100),
  details: z.string().default('{}'),
});

export const schema = z
  .strictObject({
    groups: z.array(Group).default([]),
    /** Scaling activities, newest last (DescribeScalingActivities lists them newest first). */
    activities: z.array(Activity).default([]),
  })
  .superRefine((asg, check) => {
    const names = new Set<string>();
    const owner = new Map<string, string>();
    asg.groups.forEach((g, i) => {
      if (names.has(g.name)) check.addIssue({ code: 'custom', path: ['groups', i, 'name'], message: `duplicate group name '${g.name}'` });
      names.add(g.name);
      g.instances.forEach((inst, j) => {
        // An instance belongs to one Auto Scaling group at most.
        if (owner.has(inst.id))
          check.addIssue({
            code: 'custom',
            path: ['groups', i, 'instances', j, 'id'],
            message: `instance ${inst.id} is already in group ${owner.get(inst.id)}`,
          });
        owner.set(inst.id, g.name);
      });
    });
  })
  .prefault({});

export type AutoscalingWorld = z.infer<typeof schema>;
export type AsgGroup = z.infer<typeof Group>;
export type AsgInstance = z.infer<typeof GroupInstance>;
export type ActivityT = z.infer<typeof Activity>;
export interface WithAsg {
  autoscaling: AutoscalingWorld;
}
export type AnyWorld = WithAsg & Partial<WithElbv2> & { ec2?: Partial<Ec2World> };
