import { describe, it, expect } from 'vitest';
import {
  DescribeInstancesCommand,
  DescribeInstanceAttributeCommand,
  ModifyInstanceAttributeCommand,
  DescribeNetworkInterfacesCommand,
  ModifyNetworkInterfaceAttributeCommand,
  DescribeRegionsCommand,
} from '@aws-sdk/client-ec2';
import { harness, rejection, demoWorld, WEB, DB, WEB_ETH0, WEB_ETH1, SG_WEB, SG_MGMT, SG_APP, VOL_ROOT, VOL_DATA, VPC } from './helpers.js';

const ids = (r: { Reservations?: Array<{ Instances?: Array<{ InstanceId?: string }> }> }) =>
  (r.Reservations ?? []).flatMap((x) => x.Instances ?? []).map((i) => i.InstanceId);

describe('DescribeInstances', () => {
  it.each([
    ['instance-id', [WEB], [WEB]],
    ['tag:Name', ['web-*'], [WEB]],
    ['tag:firebreak:protected', ['true'], [DB]],
    ['tag-key', ['firebreak:protected'], [DB]],
    ['image-id', ['ami-0c55b159cbfafe1f0'], [WEB, DB]],
    ['instance-state-name', ['running'], [WEB, DB]],
    ['instance-state-name', ['stopped'], []],
    ['vpc-id', [VPC], [WEB, DB]],
    ['network-interface.network-interface-id', [WEB_ETH1], [WEB]],
    ['instance.group-id', [SG_APP], [DB]],
  ])('filters by %s = %j', async (Name, Values, expected) => {
    const { ec2 } = harness();
    expect(ids(await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name, Values }] })))).toEqual(expected);
  });

  it('returns AWS shapes: state, ENIs in device order, primary groups, block devices, profile', async () => {
    const { ec2 } = harness();
    const r = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [WEB] }));
    const i = r.Reservations![0]!.Instances![0]!;
    expect(i.State).toEqual({ Code: 16, Name: 'running' });
    expect(i.LaunchTime).toEqual(new Date('2025-11-20T09:00:00Z'));
    expect(i.NetworkInterfaces!.map((n) => [n.NetworkInterfaceId, n.Attachment!.DeviceIndex])).toEqual([
      [WEB_ETH0, 0],
      [WEB_ETH1, 1],
    ]);
    expect(i.SecurityGroups).toEqual([{ GroupId: SG_WEB, GroupName: 'web' }]);
    expect(i.BlockDeviceMappings!.map((b) => b.Ebs!.VolumeId)).toEqual([VOL_ROOT, VOL_DATA]);
    expect(i.IamInstanceProfile!.Arn).toBe('arn:aws:iam::111122223333:instance-profile/web-app-profile');
    expect(i.Tags).toContainEqual({ Key: 'Name', Value: 'web-1' });
  });

  it.each([
    [['i-0000000000000000a'], 'InvalidInstanceID.NotFound', "The instance ID 'i-0000000000000000a' does not exist"],
    [
      [WEB, 'i-0000000000000000a', 'i-0000000000000000b'],
      'InvalidInstanceID.NotFound',
      "The instance IDs 'i-0000000000000000a, i-0000000000000000b' do not exist",
    ],
    [['i-xyz'], 'InvalidInstanceID.Malformed', 'Invalid id: "i-xyz" (expecting "i-...")'],
  ])('rejects InstanceIds %j with %s', async (InstanceIds, code, message) => {
    const { ec2 } = harness();
    const err = await rejection(ec2.send(new DescribeInstancesCommand({ InstanceIds })));
    expect([err.name, err.message, err.$metadata.httpStatusCode, err.$fault]).toEqual([code, message, 400, 'client']);
  });

  it('rejects an unknown filter name', async () => {
    const { ec2 } = harness();
    const err = await rejection(ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'colour', Values: ['red'] }] })));
    expect([err.name, err.message]).toEqual(['InvalidParameterValue', "The filter 'colour' is invalid"]);
  });

  it('paginates with MaxResults and NextToken, and refuses MaxResults with InstanceIds', async () => {
    const { ec2 } = harness(
      demoWorld((w) => {
        for (let n = 0; n < 6; n++)
          w.ec2.instances.push({ ...structuredClone(w.ec2.instances[1]!), id: `i-00000000000000${String(n).padStart(3, '0')}`, tags: {} });
      }),
    );
    const first = await ec2.send(new DescribeInstancesCommand({ MaxResults: 5 }));
    expect(ids(first)).toHaveLength(5);
    const second = await ec2.send(new DescribeInstancesCommand({ MaxResults: 5, NextToken: first.NextToken! }));
    expect(ids(second)).toHaveLength(3);
    expect(second.NextToken).toBeUndefined();
    expect(new Set([...ids(first), ...ids(second)]).size).toBe(8);
    const err = await rejection(ec2.send(new DescribeInstancesCommand({ InstanceIds: [WEB], MaxResults: 5 })));
    expect(err.name).toBe('InvalidParameterCombination');
  });
});

describe('DescribeInstanceAttribute / ModifyInstanceAttribute', () => {
  it('reads and changes DisableApiTermination', async () => {
    const { ec2, world } = harness();
    await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: WEB, DisableApiTermination: { Value: true } }));
    const r = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: WEB, Attribute: 'disableApiTermination' }));
    expect(r.DisableApiTermination).toEqual({ Value: true });
    expect(world.ec2.instances[0]!.disableApiTermination).toBe(true);
  });

  it('changes InstanceInitiatedShutdownBehavior, also in the legacy Attribute/Value form', async () => {
    const { ec2, world } = harness();
    await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: WEB, InstanceInitiatedShutdownBehavior: { Value: 'terminate' } }));
    expect(world.ec2.instances[0]!.instanceInitiatedShutdownBehavior).toBe('terminate');
    await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: WEB, Attribute: 'instanceInitiatedShutdownBehavior', Value: 'stop' }));
    const r = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: WEB, Attribute: 'instanceInitiatedShutdownBehavior' }));
    expect(r.InstanceInitiatedShutdownBehavior).toEqual({ Value: 'stop' });
    const err = await rejection(
      ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: WEB, InstanceInitiatedShutdownBehavior: { Value: 'hibernate' } })),
    );
    expect(err.name).toBe('InvalidParameterValue');
    expect(world.ec2.instances[0]!.instanceInitiatedShutdownBehavior).toBe('stop');
  });

  it('keeps volumes at termination (DeleteOnTermination false) and reports them', async () => {
    const { ec2, world } = harness();
    await ec2.send(
      new ModifyInstanceAttributeCommand({
        InstanceId: WEB,
        BlockDeviceMappings: [
          { DeviceName: '/dev/xvda', Ebs: { DeleteOnTermination: false } },
          { DeviceName: '/dev/sdf', Ebs: { VolumeId: VOL_DATA, DeleteOnTermination: false } },
        ],
      }),
    );
    expect(world.ec2.instances[0]!.blockDevices.map((b) => b.deleteOnTermination)).toEqual([false, false]);
    const r = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: WEB, Attribute: 'blockDeviceMapping' }));
    expect(r.BlockDeviceMappings!.map((b) => [b.DeviceName, b.Ebs!.DeleteOnTermination])).toEqual([
      ['/dev/xvda', false],
      ['/dev/sdf', false],
    ]);
    const err = await rejection(
      ec2.send(
        new ModifyInstanceAttributeCommand({
          InstanceId: WEB,
          BlockDeviceMappings: [{ DeviceName: '/dev/sdz', Ebs: { DeleteOnTermination: false } }],
        }),
      ),
    );
    expect([err.name, err.message]).toEqual(['InvalidInstanceAttributeValue', 'No device is currently mapped at /dev/sdz']);
  });

  it('refuses Groups on an instance with several interfaces (InvalidInstanceID) and changes nothing', async () => {
    const { ec2, world } = harness();
    const err = await rejection(ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: WEB, Groups: [SG_MGMT] })));
    expect(err.name).toBe('InvalidInstanceID');
    expect(err.message).toBe(
      `There are multiple interfaces attached to instance '${WEB}'. Please specify an interface ID for the operation instead.`,
    );
    expect(err.$metadata.httpStatusCode).toBe(400);
    expect(world.ec2.networkInterfaces.map((e) => e.groups)).toEqual([[SG_WEB], [SG_MGMT], [SG_APP]]);
  });

  it('changes Groups of a single-interface instance on its interface', async () => {
    const { ec2, world } = harness(
      demoWorld((w) => {
        w.ec2.securityGroups.push({
          id: 'sg-0999999999999999a',
          name: 'app2',
          description: '',
          vpcId: VPC,
          ingress: [],
          egress: [],
          tags: {},
        });
      }),
    );
    await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: DB, Groups: ['sg-0999999999999999a'] }));
    expect(world.ec2.networkInterfaces[2]!.groups).toEqual(['sg-0999999999999999a']);
    const r = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: DB, Attribute: 'groupSet' }));
    expect(r.Groups).toEqual([{ GroupId: 'sg-0999999999999999a', GroupName: 'app2' }]);
  });

  it('changes one attribute per call, as AWS does', async () => {
    const { ec2, world } = harness();
    const err = await rejection(
      ec2.send(
        new ModifyInstanceAttributeCommand({
          InstanceId: WEB,
          DisableApiTermination: { Value: true },
          InstanceInitiatedShutdownBehavior: { Value: 'terminate' },
        }),
      ),
    );
    expect(err.name).toBe('InvalidParameterCombination');
    expect(world.ec2.instances[0]!.disableApiTermination).toBe(false);
  });

  it.each([
    ['DisableApiTermination', { DisableApiTermination: { Value: true } }],
    ['InstanceInitiatedShutdownBehavior', { InstanceInitiatedShutdownBehavior: { Value: 'terminate' } }],
    ['BlockDeviceMappings', { BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { DeleteOnTermination: false } }] }],
  ])('honours DryRun for %s: DryRunOperation (412) and nothing changes', async (_n, change) => {
    const { ec2, world, sim } = harness();
    const before = structuredClone(world.ec2);
    const err = await rejection(ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: WEB, DryRun: true, ...change })));
    expect([err.name, err.message, err.$metadata.httpStatusCode]).toEqual([
      'DryRunOperation',
      'Request would have succeeded, but DryRun flag is set.',
      412,
    ]);
    expect(world.ec2).toEqual(before);
    expect(sim.calls.at(-1)).toMatchObject({ operation: 'ModifyInstanceAttribute', dryRun: true, error: 'DryRunOperation' });
  });

  it('answers a DryRun that would fail with the real error, not DryRunOperation', async () => {
    const { ec2 } = harness();
    const err = await rejection(
      ec2.send(
        new ModifyInstanceAttributeCommand({ InstanceId: 'i-0000000000000000a', DryRun: true, DisableApiTermination: { Value: true } }),
      ),
    );
    expect(err.name).toBe('InvalidInstanceID.NotFound');
  });
});

describe('network interfaces', () => {
  it('describes interfaces by attachment and changes their groups', async () => {
    const { ec2, world } = harness();
    const r = await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [WEB] }] }));
    expect(r.NetworkInterfaces!.map((n) => n.NetworkInterfaceId)).toEqual([WEB_ETH0, WEB_ETH1]);
    expect(r.NetworkInterfaces![1]!.Groups).toEqual([{ GroupId: SG_MGMT, GroupName: 'mgmt' }]);
    await ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: WEB_ETH1, Groups: [SG_WEB, SG_MGMT] }));
    expect(world.ec2.networkInterfaces[1]!.groups).toEqual([SG_WEB, SG_MGMT]);
  });

  it.each([
    [{ NetworkInterfaceId: 'eni-0000000000000000a', Groups: [SG_WEB] }, 'InvalidNetworkInterfaceID.NotFound'],
    [{ NetworkInterfaceId: 'eni-zz', Groups: [SG_WEB] }, 'InvalidNetworkInterfaceID.Malformed'],
    [{ NetworkInterfaceId: WEB_ETH0, Groups: ['sg-0000000000000000a'] }, 'InvalidGroup.NotFound'],
    [{ NetworkInterfaceId: WEB_ETH0, Groups: ['sg-nope'] }, 'InvalidGroupId.Malformed'],
    [{ NetworkInterfaceId: WEB_ETH0, DryRun: true, Groups: [SG_MGMT] }, 'DryRunOperation'],
  ])('ModifyNetworkInterfaceAttribute %j fails with %s and changes nothing', async (input, code) => {
    const { ec2, world } = harness();
    const err = await rejection(ec2.send(new ModifyNetworkInterfaceAttributeCommand(input)));
    expect(err.name).toBe(code);
    expect(world.ec2.networkInterfaces[0]!.groups).toEqual([SG_WEB]);
  });

  it('refuses a group from another VPC', async () => {
    const { ec2, world } = harness(
      demoWorld((w) => {
        w.ec2.vpcs.push({ id: 'vpc-0000000000000000b', cidrBlock: '172.16.0.0/16', isDefault: false, tags: {} });
        w.ec2.securityGroups.push({
          id: 'sg-0000000000000000b',
          name: 'other',
          description: '',
          vpcId: 'vpc-0000000000000000b',
          ingress: [],
          egress: [],
          tags: {},
        });
      }),
    );
    const err = await rejection(
      ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: WEB_ETH0, Groups: ['sg-0000000000000000b'] })),
    );
    expect(err.name).toBe('InvalidParameter');
    expect(world.ec2.networkInterfaces[0]!.groups).toEqual([SG_WEB]);
  });
});

describe('DescribeRegions', () => {
  it('lists Regions and narrows by name', async () => {
    const { ec2 } = harness();
    const all = await ec2.send(new DescribeRegionsCommand({}));
    expect(all.Regions!.map((r) => r.RegionName)).toContain('us-east-1');
    const one = await ec2.send(new DescribeRegionsCommand({ RegionNames: ['eu-west-1'] }));
    expect(one.Regions).toEqual([{ RegionName: 'eu-west-1', Endpoint: 'ec2.eu-west-1.amazonaws.com', OptInStatus: 'opt-in-not-required' }]);
  });
});
