import { describe, expect, it } from 'vitest';
import {
  AttachInstancesCommand,
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  DescribeScalingActivitiesCommand,
  DetachInstancesCommand,
  EnterStandbyCommand,
  ExitStandbyCommand,
} from '@aws-sdk/client-auto-scaling';
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { schema } from '../../src/sim/services/autoscaling/index.js';
import { worldSchema } from '../../src/sim/index.js';
import { ACCOUNT, clientFor, createTestCloud, errorOf } from './services-harness.js';

const VPC = 'vpc-0a1b2c3d4e5f60718';
const SUBNET = 'subnet-0a1b2c3d4e5f60718';
const SG = 'sg-0a1b2c3d4e5f60718';
const WEB = 'i-0abc123def4567890';
const WEB2 = 'i-0abc123def4567891';
const SPARE = 'i-0abc123def4567892';
const TG_ARN = `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:targetgroup/web-tg/0123456789abcdef`;
const PROFILE_ARN = `arn:aws:iam::${ACCOUNT}:instance-profile/web-app-profile`;

function instance(id: string, vol: string, tags: Record<string, string>) {
  return {
    id,
    subnetId: SUBNET,
    instanceType: 't3.large',
    imageId: 'ami-0123456789abcdef0',
    blockDevices: [{ deviceName: '/dev/xvda', volumeId: vol }],
    tags,
  };
}

function world(group: Partial<{ minSize: number; maxSize: number; desiredCapacity: number }> = {}) {
  return {
    ec2: {
      vpcs: [{ id: VPC, cidrBlock: '10.0.0.0/16' }],
      subnets: [{ id: SUBNET, vpcId: VPC, cidrBlock: '10.0.1.0/24', availabilityZone: 'us-east-1b' }],
      securityGroups: [{ id: SG, name: 'web', vpcId: VPC }],
      instances: [
        instance(WEB, 'vol-0a1b2c3d4e5f60711', { Name: 'web', 'aws:autoscaling:groupName': 'web-asg', incident: 'IR-7' }),
        instance(WEB2, 'vol-0a1b2c3d4e5f60712', { Name: 'web', 'aws:autoscaling:groupName': 'web-asg' }),
        instance(SPARE, 'vol-0a1b2c3d4e5f60713', { Name: 'spare' }),
      ],
      volumes: [
        { id: 'vol-0a1b2c3d4e5f60711', size: 20, availabilityZone: 'us-east-1b' },
        { id: 'vol-0a1b2c3d4e5f60712', size: 20, availabilityZone: 'us-east-1b' },
        { id: 'vol-0a1b2c3d4e5f60713', size: 20, availabilityZone: 'us-east-1b' },
      ],
      networkInterfaces: [{ id: 'eni-0a1b2c3d4e5f60711', subnetId: SUBNET, groups: [SG], attachment: { instanceId: WEB, deviceIndex: 0 } }],
      iamInstanceProfileAssociations: [{ id: 'iip-assoc-0a1b2c3d4e5f60711', instanceId: WEB, instanceProfileArn: PROFILE_ARN }],
    },
    elbv2: {
      loadBalancers: [{ name: 'web-alb' }],
      targetGroups: [{ name: 'web-tg', arn: TG_ARN, vpcId: VPC, loadBalancers: ['web-alb'], targets: [{ id: WEB }, { id: WEB2 }] }],
    },
    autoscaling: {
      groups: [
        {
          name: 'web-asg',
          minSize: 1,
          maxSize: 3,
          desiredCapacity: 2,
          ...group,
          launchTemplate: { name: 'web-lt', version: '3' },
          targetGroups: ['web-tg'],
          vpcZoneIdentifier: SUBNET,
          instances: [{ id: WEB }, { id: WEB2 }],
          tags: { Name: 'web', team: 'platform' },
        },
      ],
    },
  };
}

function setup(group?: Parameters<typeof world>[0]) {
  const cloud = createTestCloud(world(group));
  return { cloud, asg: clientFor(cloud, AutoScalingClient), elb: clientFor(cloud, ElasticLoadBalancingV2Client) };
}

const group = (cloud: { world: any }) => cloud.world.autoscaling.groups[0];
const states = (cloud: { world: any }) =>
  Object.fromEntries(group(cloud).instances.map((i: { id: string; lifecycleState: string }) => [i.id, i.lifecycleState]));
const tgHealth = async (elb: ElasticLoadBalancingV2Client) =>
  Object.fromEntries(
    ((await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: TG_ARN }))).TargetHealthDescriptions ?? []).map((d) => [
      d.Target?.Id,
      d.TargetHealth?.State,
    ]),
  );

describe('Auto Scaling descriptions', () => {
  it('DescribeAutoScalingGroups reports sizes, ARN, target group ARNs and instances', async () => {
    const { asg } = setup();
    const [g] = (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['web-asg'] }))).AutoScalingGroups!;
    expect(g).toMatchObject({
      AutoScalingGroupName: 'web-asg',
      MinSize: 1,
      MaxSize: 3,
      DesiredCapacity: 2,
      TargetGroupARNs: [TG_ARN],
      VPCZoneIdentifier: SUBNET,
    });
    expect(g!.AutoScalingGroupARN).toMatch(
      new RegExp(`^arn:aws:autoscaling:us-east-1:${ACCOUNT}:autoScalingGroup:[0-9a-f-]{36}:autoScalingGroupName/web-asg$`),
    );
    expect(g!.LaunchTemplate).toMatchObject({ LaunchTemplateName: 'web-lt', Version: '3' });
    expect(g!.Instances?.map((i) => [i.InstanceId, i.LifecycleState, i.HealthStatus, i.AvailabilityZone, i.InstanceType])).toEqual([
      [WEB, 'InService', 'Healthy', 'us-east-1b', 't3.large'],
      [WEB2, 'InService', 'Healthy', 'us-east-1b', 't3.large'],
    ]);
    expect((await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['nope'] }))).AutoScalingGroups).toEqual([]);
    expect(
      (await asg.send(new DescribeAutoScalingGroupsCommand({ Filters: [{ Name: 'tag:team', Values: ['platform'] }] }))).AutoScalingGroups,
    ).toHaveLength(1);
    expect(
      (await asg.send(new DescribeAutoScalingGroupsCommand({ Filters: [{ Name: 'tag:team', Values: ['data'] }] }))).AutoScalingGroups,
    ).toEqual([]);
  });

  it("DescribeAutoScalingInstances finds an instance's group (health in upper case) and omits instances in no group", async () => {
    const { asg } = setup();
    const out = await asg.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [WEB, SPARE] }));
    expect(out.AutoScalingInstances?.map((i) => [i.InstanceId, i.AutoScalingGroupName, i.LifecycleState, i.HealthStatus])).toEqual([
      [WEB, 'web-asg', 'InService', 'HEALTHY'],
    ]);
  });
});

describe('EnterStandby and ExitStandby', () => {
  it('EnterStandby with a decrement puts the instance in Standby, lowers desired capacity and drains it from the target group', async () => {
    const { cloud, asg, elb } = setup();
    const out = await asg.send(
      new EnterStandbyCommand({ AutoScalingGroupName: 'web-asg', InstanceIds: [WEB], ShouldDecrementDesiredCapacity: true }),
    );
    expect(out.Activities).toHaveLength(1);
    expect(out.Activities![0]).toMatchObject({
      AutoScalingGroupName: 'web-asg',
      Description: `Moving EC2 instance to Standby: ${WEB}`,
      Cause: `At 2026-01-01T00:00:00Z instance ${WEB} was moved to standby in response to a user request, shrinking the capacity from 2 to 1.`,
      StatusCode: 'InProgress',
      Progress: 50,
    });
    expect(states(cloud)).toEqual({ [WEB]: 'Standby', [WEB2]: 'InService' });
    expect(group(cloud).desiredCapacity).toBe(1);
    expect(await tgHealth(elb)).toEqual({ [WEB]: 'draining', [WEB2]: 'healthy' });
    expect(cloud.world.ec2.instances).toHaveLength(3);
  });

  it('EnterStandby without a decrement launches a replacement modelled on the instance, tagged only as the group tags it', async () => {
    const { cloud, asg, elb } = setup();
    await asg.send(new EnterStandbyCommand({ AutoScalingGroupName: 'web-asg', InstanceIds: [WEB], ShouldDecrementDesiredCapacity: false }));
    expect(group(cloud).desiredCapacity).toBe(2);
    const ids = Object.keys(states(cloud));
    expect(ids).toHaveLength(3);
    const replacement = ids.find((id) => id !== WEB && id !== WEB2)!;
    expect(states(cloud)).toEqual({ [WEB]: 'Standby', [WEB2]: 'InService', [replacement]: 'InService' });

    const ec2 = cloud.world.ec2;
    const launched = ec2.instances.find((i: { id: string }) => i.id === replacement);
    expect(launched).toMatchObject({
      state: 'running',
      instanceType: 't3.large',
      subnetId: SUBNET,
      imageId: 'ami-0123456789abcdef0',
      launchTime: '2026-01-01T00:00:00.000Z',
    });
    expect(launched.tags).toEqual({ Name: 'web', team: 'platform', 'aws:autoscaling:groupName': 'web-asg' });
    expect(launched.blockDevices).toHaveLength(1);
    expect(launched.blockDevices[0].volumeId).not.toBe('vol-0a1b2c3d4e5f60711');
    expect(ec2.volumes.map((v: { id: string }) => v.id)).toContain(launched.blockDevices[0].volumeId);
    expect(
      ec2.networkInterfaces
        .filter((e: { attachment?: { instanceId: string } }) => e.attachment?.instanceId === replacement)
        .map((e: { groups: string[] }) => e.groups),
    ).toEqual([[SG]]);
    expect(
      ec2.iamInstanceProfileAssociations
        .filter((a: { instanceId: string }) => a.instanceId === replacement)
        .map((a: { instanceProfileArn: string }) => a.instanceProfileArn),
    ).toEqual([PROFILE_ARN]);
    expect(await tgHealth(elb)).toEqual({ [WEB]: 'draining', [WEB2]: 'healthy', [replacement]: 'initial' });
    // The world with the replacement in it is one a world file could hold.
    expect(worldSchema.safeParse(cloud.world).error?.issues).toBeUndefined();
  });

  it.each([
    [
      'without ShouldDecrementDesiredCapacity',
      { InstanceIds: [WEB] },
      "1 validation error detected: Value null at 'shouldDecrementDesiredCapacity' failed to satisfy constraint: Member must not be null",
    ],
    [
      'for an instance not in the group',
      { InstanceIds: [SPARE], ShouldDecrementDesiredCapacity: true },
      `The instance ${SPARE} is not part of Auto Scaling group web-asg.`,
    ],
    [
      'for every instance, below the minimum size',
      { InstanceIds: [WEB, WEB2], ShouldDecrementDesiredCapacity: true },
      'AutoScalingGroup web-asg has min-size=1, max-size=3, and desired-size=2. To place into standby 2 instances, please update the AutoScalingGroup sizes appropriately.',
    ],
  ])('EnterStandby %s is a ValidationError and changes nothing', async (_what, input, message) => {
    const { cloud, asg } = setup();
    const before = structuredClone(cloud.world);
    const err = await errorOf(asg.send(new EnterStandbyCommand({ AutoScalingGroupName: 'web-asg', ...input })));
    expect([err.name, err.message, err.$metadata?.httpStatusCode]).toEqual(['ValidationError', message, 400]);
    expect(cloud.world).toEqual(before);
  });

  it('EnterStandby of an instance already in Standby is a ValidationError (it must be InService)', async () => {
    const { cloud, asg } = setup();
    await asg.send(new EnterStandbyCommand({ AutoScalingGroupName: 'web-asg', InstanceIds: [WEB], ShouldDecrementDesiredCapacity: true }));
    const before = structuredClone(cloud.world);
    const err = await errorOf(
      asg.send(new EnterStandbyCommand({ AutoScalingGroupName: 'web-asg', InstanceIds: [WEB], ShouldDecrementDesiredCapacity: true })),
    );
    expect([err.name, err.message]).toEqual(['ValidationError', `The instance ${WEB} is not in InService.`]);
    expect(cloud.world).toEqual(before);
  });

  it('EnterStandby on an unknown group is a ValidationError', async () => {
    const { asg } = setup();
    const err = await errorOf(
      asg.send(new EnterStandbyCommand({ AutoScalingGroupName: 'nope', InstanceIds: [WEB], ShouldDecrementDesiredCapacity: true })),
    );
    expect([err.name, err.message]).toEqual(['ValidationError', 'AutoScalingGroup name not found - AutoScalingGroup: nope not found']);
  });

  it('ExitStandby returns the instance to service, raises desired capacity and registers it again', async () => {
    const { cloud, asg, elb } = setup();
    await asg.send(new EnterStandbyCommand({ AutoScalingGroupName: 'web-asg', InstanceIds: [WEB], ShouldDecrementDesiredCapacity: true }));
    const out = await asg.send(new ExitStandbyCommand({ AutoScalingGroupName: 'web-asg', InstanceIds: [WEB] }));
    expect(out.Activities?.[0]).toMatchObject({
      Description: `Moving EC2 instance out of Standby: ${WEB}`,
      StatusCode: 'PreInService',
      Progress: 30,
    });
    expect(states(cloud)).toEqual({ [WEB]: 'InService', [WEB2]: 'InService' });
    expect(group(cloud).desiredCapacity).toBe(2);
    expect(await tgHealth(elb)).toEqual({ [WEB]: 'initial', [WEB2]: 'healthy' });
  });

  it('ExitStandby of an in-service instance, or past the maximum size, is a ValidationError', async () => {
    const { cloud, asg } = setup({ maxSize: 2 });
    const notStandby = await errorOf(asg.send(new ExitStandbyCommand({ AutoScalingGroupName: 'web-asg', InstanceIds: [WEB] })));
    expect([notStandby.name, notStandby.message]).toEqual(['ValidationError', `The instance ${WEB} is not in Standby.`]);
    // Without a decrement the group replaced the instance, so bringing it back would exceed max-size.
    await asg.send(new EnterStandbyCommand({ AutoScalingGroupName: 'web-asg', InstanceIds: [WEB], ShouldDecrementDesiredCapacity: false }));
    const before = structuredClone(cloud.world);
    const full = await errorOf(asg.send(new ExitStandbyCommand({ AutoScalingGroupName: 'web-asg', InstanceIds: [WEB] })));
    expect(full.message).toBe(
      'AutoScalingGroup web-asg has min-size=1, max-size=2, and desired-size=2. To exit standby 1 instance, please update the AutoScalingGroup sizes appropriately.',
    );
    expect(cloud.world).toEqual(before);
  });
});

describe('DetachInstances and AttachInstances', () => {
  it('DetachInstances with a decrement removes the instance, lowers desired capacity and drains it; nothing is launched', async () => {
    const { cloud, asg, elb } = setup();
    const out = await asg.send(
      new DetachInstancesCommand({ AutoScalingGroupName: 'web-asg', InstanceIds: [WEB], ShouldDecrementDesiredCapacity: true }),
    );
    expect(out.Activities?.[0]).toMatchObject({
      Description: `Detaching EC2 instance: ${WEB}`,
      Cause: `At 2026-01-01T00:00:00Z instance ${WEB} was detached in response to a user request, shrinking the capacity from 2 to 1.`,
      StatusCode: 'InProgress',
    });
    expect(states(cloud)).toEqual({ [WEB2]: 'InService' });
    expect(group(cloud).desiredCapacity).toBe(1);
    expect(cloud.world.ec2.instances).toHaveLength(3);
    expect(cloud.world.ec2.instances.find((i: { id: string }) => i.id === WEB).state).toBe('running');
    expect(await tgHealth(elb)).toEqual({ [WEB]: 'draining', [WEB2]: 'healthy' });
  });

  it('DetachInstances without a decrement removes the instance and launches a replacement; desired capacity stays', async () => {
    const { cloud, asg, elb } = setup();
    await asg.send(
      new DetachInstancesCommand({ AutoScalingGroupName: 'web-asg', InstanceIds: [WEB], ShouldDecrementDesiredCapacity: false }),
    );
    expect(group(cloud).desiredCapacity).toBe(2);
    const ids = Object.keys(states(cloud));
    expect(ids).toHaveLength(2);
    expect(ids).not.toContain(WEB);
    const replacement = ids.find((id) => id !== WEB2)!;
    expect(replacement).toMatch(/^i-[0-9a-f]{17}$/);
    const launched = cloud.world.ec2.instances.find((i: { id: string }) => i.id === replacement);
    expect(launched).toMatchObject({ state: 'running', instanceType: 't3.large', subnetId: SUBNET });
    expect(launched.tags.incident).toBeUndefined();
    expect(worldSchema.safeParse(cloud.world).error?.issues).toBeUndefined();
    expect(await tgHealth(elb)).toEqual({ [WEB]: 'draining', [WEB2]: 'healthy', [replacement]: 'initial' });
    const activities = (await asg.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: 'web-asg' }))).Activities!;
    expect(activities.map((a) => [a.Description, a.StatusCode])).toEqual([
      [`Launching a new EC2 instance: ${replacement}`, 'Successful'],
      [`Detaching EC2 instance: ${WEB}`, 'Successful'],
    ]);
  });

  it.each([
    [
      'below the minimum size',
      { minSize: 2 },
      { InstanceIds: [WEB], ShouldDecrementDesiredCapacity: true },
      'AutoScalingGroup web-asg has min-size=2, max-size=3, and desired-size=2. To detach 1 instance, please update the AutoScalingGroup sizes appropriately.',
    ],
    [
      'an instance not in the group',
      {},
      { InstanceIds: [WEB, SPARE], ShouldDecrementDesiredCapacity: true },
      `The instance ${SPARE} is not part of Auto Scaling group web-asg.`,
    ],
    [
      'without ShouldDecrementDesiredCapacity',
      {},
      { InstanceIds: [WEB] },
      "1 validation error detected: Value null at 'shouldDecrementDesiredCapacity' failed to satisfy constraint: Member must not be null",
    ],
    [
      'more than 20 instances',
      {},
      {
        InstanceIds: Array.from({ length: 21 }, (_, i) => `i-0abc123def45678${(i + 10).toString(16).padStart(2, '0')}`),
        ShouldDecrementDesiredCapacity: true,
      },
      'List exceeds the maximum number of instances to detach. Please retry your request with fewer instances.',
    ],
  ])('DetachInstances %s is a ValidationError and changes nothing', async (_what, sizes, input, message) => {
    const { cloud, asg } = setup(sizes);
    const before = structuredClone(cloud.world);
    const err = await errorOf(asg.send(new DetachInstancesCommand({ AutoScalingGroupName: 'web-asg', ...input })));
    expect([err.name, err.message]).toEqual(['ValidationError', message]);
    expect(cloud.world).toEqual(before);
  });

  it('a Standby instance can be detached; with a decrement the desired capacity does not drop again', async () => {
    const { cloud, asg } = setup();
    await asg.send(new EnterStandbyCommand({ AutoScalingGroupName: 'web-asg', InstanceIds: [WEB], ShouldDecrementDesiredCapacity: true }));
    await asg.send(
      new DetachInstancesCommand({ AutoScalingGroupName: 'web-asg', InstanceIds: [WEB], ShouldDecrementDesiredCapacity: true }),
    );
    expect(states(cloud)).toEqual({ [WEB2]: 'InService' });
    expect(group(cloud).desiredCapacity).toBe(1);
  });

  it('AttachInstances adds a running instance, raises desired capacity and registers it with the target group', async () => {
    const { cloud, asg, elb } = setup();
    await asg.send(new AttachInstancesCommand({ AutoScalingGroupName: 'web-asg', InstanceIds: [SPARE] }));
    expect(states(cloud)).toEqual({ [WEB]: 'InService', [WEB2]: 'InService', [SPARE]: 'InService' });
    expect(group(cloud).desiredCapacity).toBe(3);
    expect((await tgHealth(elb))[SPARE]).toBe('initial');
  });

  it.each([
    ['an instance already in a group', {}, WEB, `The instance ${WEB} is already part of AutoScalingGroup web-asg.`],
    [
      'past the maximum size',
      { maxSize: 2 },
      SPARE,
      'AutoScalingGroup web-asg has min-size=1, max-size=2, and desired-size=2. To attach 1 instance, please update the AutoScalingGroup sizes appropriately.',
    ],
    ['an instance that does not exist', {}, 'i-0ffffffffffffffff', 'Instance i-0ffffffffffffffff is not in correct state'],
  ])('AttachInstances of %s is a ValidationError and changes nothing', async (_what, sizes, id, message) => {
    const { cloud, asg } = setup(sizes);
    const before = structuredClone(cloud.world);
    const err = await errorOf(asg.send(new AttachInstancesCommand({ AutoScalingGroupName: 'web-asg', InstanceIds: [id] })));
    expect([err.name, err.message]).toEqual(['ValidationError', message]);
    expect(cloud.world).toEqual(before);
  });
});

describe('Auto Scaling slice schema', () => {
  it.each([
    [
      'desired capacity outside min..max',
      { groups: [{ name: 'g', minSize: 2, maxSize: 3, desiredCapacity: 1 }] },
      'desiredCapacity must lie between minSize and maxSize',
    ],
    [
      'an instance in two groups',
      {
        groups: [
          { name: 'a', minSize: 0, maxSize: 1, desiredCapacity: 1, instances: [{ id: WEB }] },
          { name: 'b', minSize: 0, maxSize: 1, desiredCapacity: 1, instances: [{ id: WEB }] },
        ],
      },
      `instance ${WEB} is already in group a`,
    ],
    [
      'an unknown lifecycle state',
      { groups: [{ name: 'g', minSize: 0, maxSize: 1, desiredCapacity: 1, instances: [{ id: WEB, lifecycleState: 'Sleeping' }] }] },
      'Invalid option',
    ],
  ])('rejects %s', (_what, slice, message) => {
    const r = schema.safeParse(slice);
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain(message);
  });
});
