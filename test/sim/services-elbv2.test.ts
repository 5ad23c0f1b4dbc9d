import { describe, expect, it } from 'vitest';
import {
  DeregisterTargetsCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { schema } from '../../src/sim/services/elbv2/index.js';
import { ACCOUNT, clientFor, createTestCloud, errorOf } from './services-harness.js';

const TG_ARN = `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:targetgroup/web-tg/0123456789abcdef`;
const LB_ARN = `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:loadbalancer/app/web-alb/fedcba9876543210`;
const WEB = 'i-0abc123def4567890';
const IDLE = 'i-0aaaaaaaaaaaaaaa1';
const STOPPED = 'i-0bbbbbbbbbbbbbbb2';
const OTHER_VPC = 'i-0ccccccccccccccc3';

function world() {
  return {
    ec2: {
      vpcs: [
        { id: 'vpc-0a1b2c3d4e5f60718', cidrBlock: '10.0.0.0/16' },
        { id: 'vpc-0ffffffffffffffff', cidrBlock: '10.1.0.0/16' },
      ],
      subnets: [
        { id: 'subnet-0a1b2c3d4e5f60718', vpcId: 'vpc-0a1b2c3d4e5f60718', cidrBlock: '10.0.1.0/24' },
        { id: 'subnet-0ffffffffffffffff', vpcId: 'vpc-0ffffffffffffffff', cidrBlock: '10.1.1.0/24' },
      ],
      instances: [
        { id: WEB, state: 'running', subnetId: 'subnet-0a1b2c3d4e5f60718' },
        { id: IDLE, state: 'running', subnetId: 'subnet-0a1b2c3d4e5f60718' },
        { id: STOPPED, state: 'stopped', subnetId: 'subnet-0a1b2c3d4e5f60718' },
        { id: OTHER_VPC, state: 'running', subnetId: 'subnet-0ffffffffffffffff' },
      ],
    },
    elbv2: {
      loadBalancers: [
        {
          name: 'web-alb',
          arn: LB_ARN,
          vpcId: 'vpc-0a1b2c3d4e5f60718',
          availabilityZones: [{ zoneName: 'us-east-1a', subnetId: 'subnet-0a1b2c3d4e5f60718' }],
        },
      ],
      targetGroups: [
        { name: 'web-tg', arn: TG_ARN, vpcId: 'vpc-0a1b2c3d4e5f60718', loadBalancers: ['web-alb'], targets: [{ id: WEB }] },
        { name: 'orphan-tg', vpcId: 'vpc-0a1b2c3d4e5f60718', targets: [{ id: WEB }] },
      ],
    },
  };
}

function setup() {
  const cloud = createTestCloud(world());
  return { cloud, elb: clientFor(cloud, ElasticLoadBalancingV2Client) };
}

const health = async (elb: ElasticLoadBalancingV2Client, arn = TG_ARN, Targets?: { Id: string; Port?: number }[]) =>
  (await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn, ...(Targets ? { Targets } : {}) }))).TargetHealthDescriptions?.map(
    (d) => [d.Target?.Id, d.Target?.Port, d.TargetHealth?.State, d.TargetHealth?.Reason],
  );

describe('ELBv2 target groups and load balancers', () => {
  it('DescribeTargetGroups lists groups with their load balancer ARNs; by name and by ARN', async () => {
    const { elb } = setup();
    const all = await elb.send(new DescribeTargetGroupsCommand({}));
    expect(all.TargetGroups?.map((g) => g.TargetGroupName)).toEqual(['web-tg', 'orphan-tg']);
    expect(all.TargetGroups?.[0]).toMatchObject({
      TargetGroupArn: TG_ARN,
      Protocol: 'HTTP',
      Port: 80,
      TargetType: 'instance',
      LoadBalancerArns: [LB_ARN],
      HealthCheckPath: '/',
    });
    // A group without an ARN in the world gets a stable derived one.
    expect(all.TargetGroups?.[1]?.TargetGroupArn).toMatch(
      new RegExp(`^arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:targetgroup/orphan-tg/[0-9a-f]{16}$`),
    );
    expect((await elb.send(new DescribeTargetGroupsCommand({ Names: ['web-tg'] }))).TargetGroups?.map((g) => g.TargetGroupArn)).toEqual([
      TG_ARN,
    ]);
    expect(
      (await elb.send(new DescribeTargetGroupsCommand({ LoadBalancerArn: LB_ARN }))).TargetGroups?.map((g) => g.TargetGroupName),
    ).toEqual(['web-tg']);
  });

  it.each([
    ['an unknown name', { Names: ['web-tg', 'nope'] }],
    ['an unknown ARN', { TargetGroupArns: [TG_ARN.replace('0123456789abcdef', '0000000000000000')] }],
  ])('DescribeTargetGroups with %s is TargetGroupNotFound', async (_what, input) => {
    const { elb } = setup();
    const err = await errorOf(elb.send(new DescribeTargetGroupsCommand(input)));
    expect([err.name, err.$metadata?.httpStatusCode]).toEqual(['TargetGroupNotFoundException', 400]);
  });

  it('DescribeLoadBalancers describes by name; an unknown one is LoadBalancerNotFound', async () => {
    const { elb } = setup();
    const out = await elb.send(new DescribeLoadBalancersCommand({ Names: ['web-alb'] }));
    expect(out.LoadBalancers?.[0]).toMatchObject({
      LoadBalancerArn: LB_ARN,
      LoadBalancerName: 'web-alb',
      Type: 'application',
      Scheme: 'internet-facing',
      State: { Code: 'active' },
    });
    expect(out.LoadBalancers?.[0]?.DNSName).toMatch(/^web-alb-\d+\.us-east-1\.elb\.amazonaws\.com$/);
    expect((await errorOf(elb.send(new DescribeLoadBalancersCommand({ Names: ['nope'] })))).name).toBe('LoadBalancerNotFoundException');
  });
});

describe('ELBv2 target registration and health', () => {
  it('DescribeTargetHealth reports registered targets; an unknown group is TargetGroupNotFound; a malformed ARN a ValidationError', async () => {
    const { elb } = setup();
    expect(await health(elb)).toEqual([[WEB, 80, 'healthy', undefined]]);
    const unknown = await errorOf(elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: TG_ARN.replace('web-tg', 'gone-tg') })));
    expect(unknown.name).toBe('TargetGroupNotFoundException');
    expect((await errorOf(elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: 'web-tg' })))).name).toBe('ValidationError');
  });

  it('a target asked about but not registered is unused (Target.NotRegistered)', async () => {
    const { elb } = setup();
    expect(await health(elb, TG_ARN, [{ Id: IDLE }])).toEqual([[IDLE, 80, 'unused', 'Target.NotRegistered']]);
  });

  it('targets of a group no load balancer uses are unused (Target.NotInUse)', async () => {
    const { cloud, elb } = setup();
    const arn = (await elb.send(new DescribeTargetGroupsCommand({ Names: ['orphan-tg'] }))).TargetGroups![0]!.TargetGroupArn!;
    expect(await health(elb, arn)).toEqual([[WEB, 80, 'unused', 'Target.NotInUse']]);
    expect(cloud.world.elbv2.targetGroups[1].targets).toHaveLength(1);
  });

  it('RegisterTargets adds a target that is initial until enough health checks pass (5 × 30 s), then healthy', async () => {
    const { cloud, elb } = setup();
    await elb.send(new RegisterTargetsCommand({ TargetGroupArn: TG_ARN, Targets: [{ Id: IDLE }] }));
    expect(cloud.world.elbv2.targetGroups[0].targets.map((t: { id: string }) => t.id)).toEqual([WEB, IDLE]);
    expect(await health(elb)).toEqual([
      [WEB, 80, 'healthy', undefined],
      [IDLE, 80, 'initial', 'Elb.RegistrationInProgress'],
    ]);
    cloud.clock.advance(150_000);
    expect((await health(elb))?.[1]).toEqual([IDLE, 80, 'healthy', undefined]);
    // Registering it again changes nothing.
    const changes = cloud.changes;
    await elb.send(new RegisterTargetsCommand({ TargetGroupArn: TG_ARN, Targets: [{ Id: IDLE }] }));
    expect(cloud.changes).toBe(changes);
  });

  it.each([
    [
      'an instance that does not exist',
      'i-0ddddddddddddddd4',
      'The specified target does not exist or is not in the same VPC as the target group.',
    ],
    ['an instance in another VPC', OTHER_VPC, 'The specified target does not exist or is not in the same VPC as the target group.'],
    ['a stopped instance', STOPPED, `The following targets are not in a running state and cannot be registered: '${STOPPED}'`],
    ['something that is not an instance id', 'web-1', 'The specified target does not exist or is not in the same VPC as the target group.'],
  ])('RegisterTargets with %s is InvalidTarget and registers nothing, not even the valid targets', async (_what, id, message) => {
    const { cloud, elb } = setup();
    const before = structuredClone(cloud.world.elbv2);
    const err = await errorOf(elb.send(new RegisterTargetsCommand({ TargetGroupArn: TG_ARN, Targets: [{ Id: IDLE }, { Id: id }] })));
    expect([err.name, err.message, err.$metadata?.httpStatusCode]).toEqual(['InvalidTargetException', message, 400]);
    expect(cloud.world.elbv2).toEqual(before);
  });

  it('RegisterTargets on an unknown group is TargetGroupNotFound', async () => {
    const { elb } = setup();
    const err = await errorOf(
      elb.send(new RegisterTargetsCommand({ TargetGroupArn: TG_ARN.replace('web-tg', 'gone-tg'), Targets: [{ Id: IDLE }] })),
    );
    expect(err.name).toBe('TargetGroupNotFoundException');
  });

  it('DeregisterTargets drains the target for the deregistration delay (300 s), after which it is gone', async () => {
    const { cloud, elb } = setup();
    await elb.send(new DeregisterTargetsCommand({ TargetGroupArn: TG_ARN, Targets: [{ Id: WEB }] }));
    expect(cloud.world.elbv2.targetGroups[0].targets[0].deregisteredAt).toBe('2026-01-01T00:00:00.000Z');
    expect(await health(elb)).toEqual([[WEB, 80, 'draining', 'Target.DeregistrationInProgress']]);
    cloud.clock.advance(299_000);
    expect(await health(elb)).toEqual([[WEB, 80, 'draining', 'Target.DeregistrationInProgress']]);
    cloud.clock.advance(1_000);
    expect(await health(elb)).toEqual([]);
    expect(await health(elb, TG_ARN, [{ Id: WEB }])).toEqual([[WEB, 80, 'unused', 'Target.NotRegistered']]);
  });

  it('DeregisterTargets naming another port succeeds and deregisters nothing, as AWS does', async () => {
    const { cloud, elb } = setup();
    await elb.send(new DeregisterTargetsCommand({ TargetGroupArn: TG_ARN, Targets: [{ Id: WEB, Port: 8080 }] }));
    expect(cloud.world.elbv2.targetGroups[0].targets[0].deregisteredAt).toBeUndefined();
    expect(await health(elb)).toEqual([[WEB, 80, 'healthy', undefined]]);
  });

  it('DeregisterTargets of an instance that does not exist is InvalidTarget', async () => {
    const { cloud, elb } = setup();
    const before = structuredClone(cloud.world.elbv2);
    const err = await errorOf(
      elb.send(new DeregisterTargetsCommand({ TargetGroupArn: TG_ARN, Targets: [{ Id: WEB }, { Id: 'i-0ddddddddddddddd4' }] })),
    );
    expect(err.name).toBe('InvalidTargetException');
    expect(cloud.world.elbv2).toEqual(before);
  });
});

describe('ELBv2 slice schema', () => {
  it('rejects a target group naming a load balancer the world lacks', () => {
    const r = schema.safeParse({ targetGroups: [{ name: 'tg', loadBalancers: ['nope'] }] });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain("no load balancer 'nope'");
  });
});
