import { describe, it, expect } from 'vitest';
import {
  DescribeSecurityGroupsCommand,
  CreateSecurityGroupCommand,
  AuthorizeSecurityGroupIngressCommand,
  AuthorizeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  RevokeSecurityGroupEgressCommand,
  DeleteSecurityGroupCommand,
} from '@aws-sdk/client-ec2';
import { harness, rejection, demoWorld, SG_WEB, SG_MGMT, SG_APP, VPC } from './helpers.js';

const ssh = (cidr: string) => ({ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: cidr }] });

describe('DescribeSecurityGroups', () => {
  it.each([
    ['group-name', ['web'], [SG_WEB]],
    ['group-name', ['m*'], [SG_MGMT]],
    ['vpc-id', [VPC], [SG_WEB, SG_MGMT, SG_APP]],
    ['ip-permission.group-id', [SG_WEB], [SG_APP]],
  ])('filters by %s = %j', async (Name, Values, expected) => {
    const { ec2 } = harness();
    const r = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name, Values }] }));
    expect(r.SecurityGroups!.map((g) => g.GroupId)).toEqual(expected);
  });

  it('groups rules that share protocol and ports into one IpPermission, as AWS does', async () => {
    const { ec2 } = harness();
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: SG_WEB, IpPermissions: [ssh('10.0.0.0/8')] }));
    const r = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [SG_WEB] }));
    const g = r.SecurityGroups![0]!;
    expect(g.IpPermissions).toEqual([
      {
        IpProtocol: 'tcp',
        FromPort: 443,
        ToPort: 443,
        IpRanges: [{ CidrIp: '0.0.0.0/0', Description: 'HTTPS' }],
        Ipv6Ranges: [],
        UserIdGroupPairs: [],
        PrefixListIds: [],
      },
      {
        IpProtocol: 'tcp',
        FromPort: 22,
        ToPort: 22,
        IpRanges: [{ CidrIp: '0.0.0.0/0', Description: 'SSH (too open: how the attacker got in)' }, { CidrIp: '10.0.0.0/8' }],
        Ipv6Ranges: [],
        UserIdGroupPairs: [],
        PrefixListIds: [],
      },
    ]);
    expect(g.IpPermissionsEgress).toEqual([
      { IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }], Ipv6Ranges: [], UserIdGroupPairs: [], PrefixListIds: [] },
    ]);
    expect(g.SecurityGroupArn).toBe(`arn:aws:ec2:us-east-1:111122223333:security-group/${SG_WEB}`);
  });

  it('fails on unknown ids', async () => {
    const { ec2 } = harness();
    const err = await rejection(ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: ['sg-0000000000000000a'] })));
    expect([err.name, err.message]).toEqual(['InvalidGroup.NotFound', "The security group 'sg-0000000000000000a' does not exist"]);
  });
});

describe('CreateSecurityGroup', () => {
  it('creates a group with the default allow-all egress rule, tags and a deterministic id', async () => {
    const a = harness();
    const r = await a.ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: 'firebreak-isolation',
        Description: 'no traffic',
        VpcId: VPC,
        TagSpecifications: [{ ResourceType: 'security-group', Tags: [{ Key: 'firebreak:incident', Value: 'INC-1' }] }],
      }),
    );
    expect(r.GroupId).toMatch(/^sg-[0-9a-f]{17}$/);
    const g = a.world.ec2.securityGroups.find((x) => x.id === r.GroupId)!;
    expect(g).toMatchObject({ name: 'firebreak-isolation', vpcId: VPC, ingress: [], tags: { 'firebreak:incident': 'INC-1' } });
    expect(g.egress).toMatchObject([{ protocol: '-1', cidr: '0.0.0.0/0' }]);
    const b = harness();
    const again = await b.ec2.send(
      new CreateSecurityGroupCommand({ GroupName: 'firebreak-isolation', Description: 'no traffic', VpcId: VPC }),
    );
    expect(again.GroupId).toBe(r.GroupId);
  });

  it.each([
    [
      { GroupName: 'web', Description: 'x', VpcId: VPC },
      'InvalidGroup.Duplicate',
      "The security group 'web' already exists for VPC 'vpc-0a1b2c3d4e5f60718'",
    ],
    [{ GroupName: 'default', Description: 'x', VpcId: VPC }, 'InvalidParameterValue', /reserved security group name/],
    [{ GroupName: 'sg-1', Description: 'x', VpcId: VPC }, 'InvalidParameterValue', /sg-\*/],
    [{ GroupName: 'x', VpcId: VPC }, 'MissingParameter', /GroupDescription/],
    [{ GroupName: 'x', Description: 'x', VpcId: 'vpc-0000000000000000a' }, 'InvalidVpcID.NotFound', /does not exist/],
    [{ GroupName: 'x', Description: 'x' }, 'VPCIdNotSpecified', 'No default VPC for this user'],
    [{ GroupName: 'x', Description: 'x', VpcId: VPC, DryRun: true }, 'DryRunOperation', /DryRun flag is set/],
  ])('%j fails with %s and creates nothing', async (input, code, message) => {
    const { ec2, world } = harness();
    const err = await rejection(ec2.send(new CreateSecurityGroupCommand(input as never)));
    expect(err.name).toBe(code);
    expect(err.message).toMatch(message);
    expect(world.ec2.securityGroups).toHaveLength(3);
    expect(world.idCounter).toBe(0);
  });
});

describe('authorize and revoke', () => {
  it('authorizes ingress and egress rules and returns them with rule ids', async () => {
    const { ec2, world } = harness();
    const r = await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: SG_MGMT, IpPermissions: [ssh('192.0.2.0/24')] }));
    expect(r.Return).toBe(true);
    expect(r.SecurityGroupRules).toMatchObject([
      { GroupId: SG_MGMT, IsEgress: false, IpProtocol: 'tcp', FromPort: 22, ToPort: 22, CidrIpv4: '192.0.2.0/24' },
    ]);
    expect(r.SecurityGroupRules![0]!.SecurityGroupRuleId).toMatch(/^sgr-[0-9a-f]{17}$/);
    await ec2.send(
      new AuthorizeSecurityGroupEgressCommand({
        GroupId: SG_MGMT,
        IpPermissions: [{ IpProtocol: '6', FromPort: 443, ToPort: 443, UserIdGroupPairs: [{ GroupId: SG_APP }] }],
      }),
    );
    const g = world.ec2.securityGroups.find((x) => x.id === SG_MGMT)!;
    expect(g.ingress.map((x) => x.cidr)).toEqual(['10.0.0.0/16', '192.0.2.0/24']);
    expect(g.egress.at(-1)).toMatchObject({ protocol: 'tcp', fromPort: 443, toPort: 443, groupId: SG_APP });
  });

  it.each([
    [
      'an existing rule',
      [ssh('0.0.0.0/0')],
      'InvalidPermission.Duplicate',
      'the specified rule "peer: 0.0.0.0/0, TCP, from port: 22, to port: 22, ALLOW" already exists',
    ],
    ['the same rule twice', [ssh('192.0.2.0/24'), ssh('192.0.2.0/24')], 'InvalidPermission.Duplicate', /already exists/],
    ['TCP without ports', [{ IpProtocol: 'tcp', IpRanges: [{ CidrIp: '192.0.2.0/24' }] }], 'InvalidParameterValue', /ports/],
    ['a malformed CIDR', [ssh('192.0.2.0/33')], 'InvalidParameterValue', 'CIDR block 192.0.2.0/33 is malformed'],
    ['no source', [{ IpProtocol: '-1' }], 'InvalidParameterValue', /source/],
    [
      'an unknown source group',
      [{ IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: 'sg-0000000000000000a' }] }],
      'InvalidGroup.NotFound',
      /does not exist/,
    ],
  ])('refuses %s and adds nothing', async (_n, IpPermissions, code, message) => {
    const { ec2, world } = harness();
    const before = structuredClone(world.ec2.securityGroups);
    const err = await rejection(ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: SG_WEB, IpPermissions })));
    expect(err.name).toBe(code);
    expect(err.message).toMatch(message);
    expect(world.ec2.securityGroups).toEqual(before);
  });

  it('enforces the rules-per-group limit', async () => {
    const { ec2, world } = harness(
      demoWorld((w) => {
        w.ec2.limits.rulesPerSecurityGroup = 2;
      }),
    );
    const err = await rejection(
      ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: SG_WEB, IpPermissions: [ssh('192.0.2.0/24')] })),
    );
    expect(err.name).toBe('RulesPerSecurityGroupLimitExceeded');
    expect(world.ec2.securityGroups[0]!.ingress).toHaveLength(2);
  });

  it('revokes by properties and by rule id', async () => {
    const { ec2, world } = harness();
    const r = await ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: SG_WEB, IpPermissions: [ssh('0.0.0.0/0')] }));
    expect(r.Return).toBe(true);
    expect(r.RevokedSecurityGroupRules).toMatchObject([{ GroupId: SG_WEB, IpProtocol: 'tcp', FromPort: 22, CidrIpv4: '0.0.0.0/0' }]);
    expect(world.ec2.securityGroups[0]!.ingress.map((x) => x.fromPort)).toEqual([443]);
    const desc = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [SG_WEB] }));
    const egressRuleId = (
      await ec2.send(
        new RevokeSecurityGroupEgressCommand({ GroupId: SG_WEB, IpPermissions: desc.SecurityGroups![0]!.IpPermissionsEgress! }),
      )
    ).RevokedSecurityGroupRules![0]!.SecurityGroupRuleId;
    expect(egressRuleId).toMatch(/^sgr-/);
    expect(world.ec2.securityGroups[0]!.egress).toEqual([]);
    const added = await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: SG_WEB, IpPermissions: [ssh('192.0.2.0/24')] }));
    await ec2.send(
      new RevokeSecurityGroupIngressCommand({
        GroupId: SG_WEB,
        SecurityGroupRuleIds: [added.SecurityGroupRules![0]!.SecurityGroupRuleId!],
      }),
    );
    expect(world.ec2.securityGroups[0]!.ingress.map((x) => x.cidr)).toEqual(['0.0.0.0/0']);
  });

  it('fails on an unknown rule in a non-default VPC and revokes nothing', async () => {
    const { ec2, world } = harness();
    const err = await rejection(
      ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: SG_WEB, IpPermissions: [ssh('0.0.0.0/0'), ssh('192.0.2.0/24')] })),
    );
    expect([err.name, err.message]).toEqual(['InvalidPermission.NotFound', 'The specified rule does not exist in this security group.']);
    expect(world.ec2.securityGroups[0]!.ingress).toHaveLength(2);
  });

  it('in the default VPC, succeeds and reports unknown rules (AWS documents this difference)', async () => {
    const { ec2, world } = harness(
      demoWorld((w) => {
        w.ec2.vpcs[0]!.isDefault = true;
      }),
    );
    const r = await ec2.send(
      new RevokeSecurityGroupIngressCommand({ GroupName: 'web', IpPermissions: [ssh('0.0.0.0/0'), ssh('192.0.2.0/24')] }),
    );
    expect(r.UnknownIpPermissions).toMatchObject([{ IpProtocol: 'tcp', FromPort: 22, IpRanges: [{ CidrIp: '192.0.2.0/24' }] }]);
    expect(world.ec2.securityGroups[0]!.ingress.map((x) => x.fromPort)).toEqual([443]);
  });

  it('honours DryRun on authorize and revoke', async () => {
    const { ec2, world } = harness();
    const before = structuredClone(world.ec2.securityGroups);
    for (const cmd of [
      new AuthorizeSecurityGroupIngressCommand({ GroupId: SG_WEB, IpPermissions: [ssh('192.0.2.0/24')], DryRun: true }),
      new RevokeSecurityGroupIngressCommand({ GroupId: SG_WEB, IpPermissions: [ssh('0.0.0.0/0')], DryRun: true }),
      new RevokeSecurityGroupEgressCommand({
        GroupId: SG_WEB,
        IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
        DryRun: true,
      }),
    ]) {
      expect((await rejection(ec2.send(cmd as never))).name).toBe('DryRunOperation');
    }
    expect(world.ec2.securityGroups).toEqual(before);
  });
});

describe('DeleteSecurityGroup', () => {
  it('deletes an unused group', async () => {
    const { ec2, world } = harness();
    const { GroupId } = await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'tmp', Description: 'tmp', VpcId: VPC }));
    const r = await ec2.send(new DeleteSecurityGroupCommand({ GroupId }));
    expect(r).toMatchObject({ Return: true, GroupId });
    expect(world.ec2.securityGroups.map((g) => g.id)).not.toContain(GroupId);
  });

  it.each([
    ['in use by an interface', SG_MGMT],
    ['referenced by another group', SG_WEB],
  ])('refuses a group %s with DependencyViolation', async (_n, GroupId) => {
    const { ec2, world } = harness();
    const err = await rejection(ec2.send(new DeleteSecurityGroupCommand({ GroupId })));
    expect([err.name, err.message]).toEqual(['DependencyViolation', `resource ${GroupId} has a dependent object`]);
    expect(world.ec2.securityGroups).toHaveLength(3);
  });

  it('refuses to delete a VPC default group', async () => {
    const { ec2 } = harness(
      demoWorld((w) => {
        w.ec2.securityGroups.push({
          id: 'sg-0d0d0d0d0d0d0d0d0',
          name: 'default',
          description: 'default VPC security group',
          vpcId: VPC,
          ingress: [],
          egress: [],
          tags: {},
        });
      }),
    );
    expect((await rejection(ec2.send(new DeleteSecurityGroupCommand({ GroupId: 'sg-0d0d0d0d0d0d0d0d0' })))).name).toBe('CannotDelete');
  });
});
