import { describe, it, expect } from 'vitest';
import {
  DescribeVpcsCommand,
  DescribeSubnetsCommand,
  DescribeNetworkAclsCommand,
  CreateNetworkAclEntryCommand,
  DeleteNetworkAclEntryCommand,
  ReplaceNetworkAclEntryCommand,
} from '@aws-sdk/client-ec2';
import { harness, rejection, demoWorld, VPC, SUBNET_WEB, SUBNET_APP, ACL_WEB, ACL_APP } from './helpers.js';

const deny = (RuleNumber: number, cidr = '203.0.113.66/32', Egress = false) => ({
  NetworkAclId: ACL_WEB,
  RuleNumber,
  Protocol: '-1',
  RuleAction: 'deny' as const,
  Egress,
  CidrBlock: cidr,
});

describe('VPCs and subnets', () => {
  it('describes VPCs and subnets with filters', async () => {
    const { ec2 } = harness();
    const vpcs = await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'tag:Name', Values: ['prod'] }] }));
    expect(vpcs.Vpcs).toMatchObject([
      { VpcId: VPC, CidrBlock: '10.0.0.0/16', IsDefault: false, State: 'available', OwnerId: '111122223333' },
    ]);
    const subnets = await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [VPC] }] }));
    expect(subnets.Subnets!.map((s) => [s.SubnetId, s.CidrBlock, s.AvailabilityZone])).toEqual([
      [SUBNET_WEB, '10.0.1.0/24', 'us-east-1a'],
      [SUBNET_APP, '10.0.2.0/24', 'us-east-1a'],
    ]);
    const err = await rejection(ec2.send(new DescribeSubnetsCommand({ SubnetIds: ['subnet-0000000000000000a'] })));
    expect([err.name, err.message]).toEqual(['InvalidSubnetID.NotFound', "The subnet ID 'subnet-0000000000000000a' does not exist"]);
  });
});

describe('DescribeNetworkAcls', () => {
  it.each([
    ['association.subnet-id', [SUBNET_APP], [ACL_APP]],
    ['vpc-id', [VPC], [ACL_WEB, ACL_APP]],
    ['network-acl-id', [ACL_WEB], [ACL_WEB]],
  ])('filters by %s', async (Name, Values, expected) => {
    const { ec2 } = harness();
    const r = await ec2.send(new DescribeNetworkAclsCommand({ Filters: [{ Name, Values }] }));
    expect(r.NetworkAcls!.map((a) => a.NetworkAclId)).toEqual(expected);
  });

  it('shows entries with the implicit * rule and the subnet association', async () => {
    const { ec2 } = harness();
    const acl = (await ec2.send(new DescribeNetworkAclsCommand({ NetworkAclIds: [ACL_WEB] }))).NetworkAcls![0]!;
    expect(acl.Entries!.map((e) => [e.RuleNumber, e.Egress, e.RuleAction])).toEqual([
      [100, false, 'allow'],
      [100, true, 'allow'],
      [32767, false, 'deny'],
      [32767, true, 'deny'],
    ]);
    expect(acl.Associations).toEqual([
      { NetworkAclAssociationId: expect.stringMatching(/^aclassoc-[0-9a-f]{17}$/), NetworkAclId: ACL_WEB, SubnetId: SUBNET_WEB },
    ]);
  });

  it("lets the VPC's default ACL answer for subnets with no explicit association", async () => {
    const { ec2 } = harness(
      demoWorld((w) => {
        w.ec2.networkAcls[1]!.associations = [];
        w.ec2.networkAcls[1]!.isDefault = true;
      }),
    );
    const r = await ec2.send(new DescribeNetworkAclsCommand({ Filters: [{ Name: 'association.subnet-id', Values: [SUBNET_APP] }] }));
    expect(r.NetworkAcls!.map((a) => [a.NetworkAclId, a.IsDefault])).toEqual([[ACL_APP, true]]);
  });
});

describe('network ACL entries', () => {
  it('creates, replaces and deletes an entry', async () => {
    const { ec2, world } = harness();
    await ec2.send(new CreateNetworkAclEntryCommand(deny(90)));
    expect(world.ec2.networkAcls[0]!.entries).toContainEqual({
      ruleNumber: 90,
      egress: false,
      protocol: '-1',
      ruleAction: 'deny',
      cidrBlock: '203.0.113.66/32',
    });
    await ec2.send(new ReplaceNetworkAclEntryCommand({ ...deny(90, '203.0.113.0/24') }));
    expect(world.ec2.networkAcls[0]!.entries.find((e) => e.ruleNumber === 90 && !e.egress)!.cidrBlock).toBe('203.0.113.0/24');
    await ec2.send(
      new CreateNetworkAclEntryCommand({
        NetworkAclId: ACL_WEB,
        RuleNumber: 95,
        Protocol: 'tcp',
        RuleAction: 'deny',
        Egress: false,
        CidrBlock: '198.51.100.0/24',
        PortRange: { From: 22, To: 22 },
      }),
    );
    expect(world.ec2.networkAcls[0]!.entries.find((e) => e.ruleNumber === 95)).toMatchObject({
      protocol: '6',
      portRange: { from: 22, to: 22 },
    });
    await ec2.send(new DeleteNetworkAclEntryCommand({ NetworkAclId: ACL_WEB, RuleNumber: 90, Egress: false }));
    expect(world.ec2.networkAcls[0]!.entries.map((e) => e.ruleNumber)).toEqual([100, 100, 95]);
  });

  it.each([
    ['a rule number in use', deny(100), 'NetworkAclEntryAlreadyExists', 'The network acl entry identified by 100 already exists.'],
    ['rule number 0', deny(0), 'InvalidParameterValue', /between 1 and 32766/],
    ['rule number 32767 (the * rule)', deny(32767), 'InvalidParameterValue', /between 1 and 32766/],
    ['TCP without a port range', { ...deny(90), Protocol: '6' }, 'MissingParameter', /portRange/],
    ['no CIDR block', { ...deny(90), CidrBlock: undefined }, 'InvalidParameterCombination', /cidrBlock/],
    ['an unknown ACL', { ...deny(90), NetworkAclId: 'acl-0000000000000000a' }, 'InvalidNetworkAclID.NotFound', /does not exist/],
    ['DryRun', { ...deny(90), DryRun: true }, 'DryRunOperation', /DryRun flag is set/],
  ])('CreateNetworkAclEntry refuses %s and changes nothing', async (_n, input, code, message) => {
    const { ec2, world } = harness();
    const before = structuredClone(world.ec2.networkAcls);
    const err = await rejection(ec2.send(new CreateNetworkAclEntryCommand(input as never)));
    expect(err.name).toBe(code);
    expect(err.message).toMatch(message);
    expect(world.ec2.networkAcls).toEqual(before);
  });

  it('counts the per-direction limit without the * rule (NetworkAclEntryLimitExceeded)', async () => {
    const { ec2, world } = harness(
      demoWorld((w) => {
        w.ec2.limits.naclRulesPerDirection = 3;
      }),
    );
    await ec2.send(new CreateNetworkAclEntryCommand(deny(90, '192.0.2.1/32')));
    await ec2.send(new CreateNetworkAclEntryCommand(deny(91, '192.0.2.2/32')));
    const err = await rejection(ec2.send(new CreateNetworkAclEntryCommand(deny(92, '192.0.2.3/32'))));
    expect(err.name).toBe('NetworkAclEntryLimitExceeded');
    // The other direction has its own quota.
    await ec2.send(new CreateNetworkAclEntryCommand(deny(92, '192.0.2.3/32', true)));
    expect(world.ec2.networkAcls[0]!.entries.filter((e) => !e.egress)).toHaveLength(3);
  });

  it('counts the default limit of 20', async () => {
    const { ec2 } = harness();
    for (let n = 1; n <= 19; n++) await ec2.send(new CreateNetworkAclEntryCommand(deny(n, `192.0.2.${n}/32`)));
    expect((await rejection(ec2.send(new CreateNetworkAclEntryCommand(deny(20, '192.0.2.20/32'))))).name).toBe(
      'NetworkAclEntryLimitExceeded',
    );
  });

  it.each([
    ['DeleteNetworkAclEntry', () => new DeleteNetworkAclEntryCommand({ NetworkAclId: ACL_WEB, RuleNumber: 90, Egress: false })],
    ['ReplaceNetworkAclEntry', () => new ReplaceNetworkAclEntryCommand(deny(90))],
  ])('%s of a missing entry fails with InvalidNetworkAclEntry.NotFound', async (_n, cmd) => {
    const { ec2 } = harness();
    const err = await rejection(ec2.send(cmd() as never));
    expect([err.name, err.message]).toEqual(['InvalidNetworkAclEntry.NotFound', 'The network acl entry identified by 90 does not exist.']);
  });
});
