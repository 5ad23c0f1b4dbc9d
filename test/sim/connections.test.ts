/**
 * Connection tracking: whether isolating an instance really cuts an attacker's flow.
 * AWS: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/security-group-connection-tracking.html
 */
import { describe, it, expect } from 'vitest';
import {
  ModifyNetworkInterfaceAttributeCommand,
  ModifyInstanceAttributeCommand,
  CreateSecurityGroupCommand,
  RevokeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  AuthorizeSecurityGroupEgressCommand,
  CreateNetworkAclEntryCommand,
  DeleteNetworkAclEntryCommand,
  RevokeSecurityGroupIngressCommand,
} from '@aws-sdk/client-ec2';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { harness, rejection, demoWorld, WEB, DB, WEB_ETH0, SG_WEB, VPC, ACL_WEB, ACL_APP } from './helpers.js';

const ATTACKER = 'attacker-ssh';

/** A group with no rules at all (its default egress rule revoked): the isolation group. */
async function isolationGroup(ec2: EC2Client): Promise<string> {
  const { GroupId } = await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'isolation', Description: 'no traffic', VpcId: VPC }));
  await ec2.send(
    new RevokeSecurityGroupEgressCommand({ GroupId, IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }),
  );
  return GroupId!;
}

/** A group that allows all traffic from and to anywhere: flows through it are untracked. */
async function allowAllGroup(ec2: EC2Client): Promise<string> {
  const { GroupId } = await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'allow-all', Description: 'untrack flows', VpcId: VPC }));
  await ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId,
      IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }], Ipv6Ranges: [{ CidrIpv6: '::/0' }] }],
    }),
  );
  await ec2.send(
    new AuthorizeSecurityGroupEgressCommand({ GroupId, IpPermissions: [{ IpProtocol: '-1', Ipv6Ranges: [{ CidrIpv6: '::/0' }] }] }),
  );
  return GroupId!;
}

const swap = (ec2: EC2Client, groups: string[]) =>
  ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: WEB_ETH0, Groups: groups }));

describe('security group swaps', () => {
  it('a one-step swap to a no-rules group leaves the tracked attacker flow open', async () => {
    const { ec2, sim, world } = harness();
    await swap(ec2, [await isolationGroup(ec2)]);
    expect(world.ec2.networkInterfaces[0]!.groups).not.toContain(SG_WEB);
    expect(sim.isConnectionOpen(ATTACKER)).toBe(true);
  });

  it('swapping first to an allow-all group, then to the no-rules group, closes it', async () => {
    const { ec2, sim, world } = harness();
    const isolation = await isolationGroup(ec2);
    await swap(ec2, [await allowAllGroup(ec2)]);
    expect(sim.isConnectionOpen(ATTACKER)).toBe(true); // allowed, now untracked
    await swap(ec2, [isolation]);
    expect(sim.isConnectionOpen(ATTACKER)).toBe(false);
    expect(world.ec2.connections[0]).toMatchObject({ state: 'closed', closedAt: '2026-01-01T00:00:00.000Z' });
    expect(world.ec2.connections[0]!.closedBy).toMatch(
      /^ec2:ModifyNetworkInterfaceAttribute eni-0a1a1a1a1a1a1a1a1 \(untracked flow no longer allowed/,
    );
  });

  it('an untracked flow survives a swap to groups that still allow it', async () => {
    const { ec2, sim } = harness();
    await swap(ec2, [await allowAllGroup(ec2)]);
    await swap(ec2, [SG_WEB]); // SSH from anywhere is still allowed
    expect(sim.isConnectionOpen(ATTACKER)).toBe(true);
  });

  it('revoking rules cuts untracked flows only', async () => {
    const { ec2, sim } = harness();
    const allowAll = await allowAllGroup(ec2);
    await swap(ec2, [allowAll]);
    await ec2.send(
      new RevokeSecurityGroupIngressCommand({
        GroupId: allowAll,
        IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
      }),
    );
    expect(sim.isConnectionOpen(ATTACKER)).toBe(false);

    const tracked = harness();
    await tracked.ec2.send(
      new RevokeSecurityGroupIngressCommand({
        GroupId: SG_WEB,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
      }),
    );
    expect(tracked.sim.isConnectionOpen(ATTACKER)).toBe(true);
  });

  it('a refused DryRun swap cuts nothing', async () => {
    const { ec2, sim } = harness();
    await swap(ec2, [await allowAllGroup(ec2)]);
    const err = await rejection(
      ec2.send(
        new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: WEB_ETH0, Groups: [await isolationGroup(ec2)], DryRun: true }),
      ),
    );
    expect(err.name).toBe('DryRunOperation');
    expect(sim.isConnectionOpen(ATTACKER)).toBe(true);
  });

  it('ModifyInstanceAttribute Groups on a single-interface instance applies the same rules', async () => {
    const { ec2, sim } = harness();
    sim.openConnection({ id: 'db-flow', instanceId: DB, remoteIp: '10.0.1.10', localPort: 8080 });
    // The app group allows 8080 from members of the web group (10.0.1.10 is web-1's eth0).
    expect(sim.isConnectionOpen('db-flow')).toBe(true);
    await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: DB, Groups: [await isolationGroup(ec2)] }));
    expect(sim.isConnectionOpen('db-flow')).toBe(true); // tracked: survives
  });
});

describe('network ACLs', () => {
  const denyAttacker = (NetworkAclId: string, Egress = false, RuleNumber = 90) =>
    new CreateNetworkAclEntryCommand({ NetworkAclId, RuleNumber, Protocol: '-1', RuleAction: 'deny', Egress, CidrBlock: '203.0.113.0/24' });

  it.each([[false], [true]])('a deny entry on the associated ACL closes the flow at once (egress=%s)', async (egress) => {
    const { ec2, sim, world } = harness();
    await ec2.send(denyAttacker(ACL_WEB, egress));
    expect(sim.isConnectionOpen(ATTACKER)).toBe(false);
    expect(world.ec2.connections[0]!.closedBy).toBe(
      `ec2:CreateNetworkAclEntry ${ACL_WEB} (network ACL ${ACL_WEB} ${egress ? 'egress' : 'ingress'} rule 90)`,
    );
  });

  it('a deny entry on an ACL not associated with the subnet does nothing', async () => {
    const { ec2, sim } = harness();
    await ec2.send(denyAttacker(ACL_APP));
    expect(sim.isConnectionOpen(ATTACKER)).toBe(true);
  });

  it('a deny entry numbered after the allow-all rule does nothing (lowest number wins)', async () => {
    const { ec2, sim } = harness();
    await ec2.send(denyAttacker(ACL_WEB, false, 200));
    expect(sim.isConnectionOpen(ATTACKER)).toBe(true);
  });

  it('removing the only allow rule leaves the * rule, which closes the flow', async () => {
    const { ec2, sim } = harness();
    await ec2.send(new DeleteNetworkAclEntryCommand({ NetworkAclId: ACL_WEB, RuleNumber: 100, Egress: true }));
    expect(sim.isConnectionOpen(ATTACKER)).toBe(false);
  });

  it('a port-specific deny that does not cover the flow does nothing', async () => {
    const { ec2, sim } = harness();
    await ec2.send(
      new CreateNetworkAclEntryCommand({
        NetworkAclId: ACL_WEB,
        RuleNumber: 90,
        Protocol: '6',
        RuleAction: 'deny',
        Egress: false,
        CidrBlock: '0.0.0.0/0',
        PortRange: { From: 3389, To: 3389 },
      }),
    );
    expect(sim.isConnectionOpen(ATTACKER)).toBe(true);
    await ec2.send(
      new CreateNetworkAclEntryCommand({
        NetworkAclId: ACL_WEB,
        RuleNumber: 91,
        Protocol: '6',
        RuleAction: 'deny',
        Egress: false,
        CidrBlock: '0.0.0.0/0',
        PortRange: { From: 22, To: 22 },
      }),
    );
    expect(sim.isConnectionOpen(ATTACKER)).toBe(false);
  });
});

describe('opening connections (tabletop injects)', () => {
  it('refuses a new flow the groups or the ACL block, and records why', async () => {
    const { ec2, sim, world } = harness();
    expect(sim.openConnection({ instanceId: WEB, remoteIp: '203.0.113.99', localPort: 3389 })).toMatchObject({
      id: 'conn-2',
      state: 'closed',
      closedBy: `refused by security groups ${SG_WEB}`,
    });
    expect(sim.openConnection({ instanceId: WEB, remoteIp: '203.0.113.99', localPort: 22 }).state).toBe('open');
    await ec2.send(
      new CreateNetworkAclEntryCommand({
        NetworkAclId: ACL_WEB,
        RuleNumber: 90,
        Protocol: '-1',
        RuleAction: 'deny',
        Egress: false,
        CidrBlock: '198.51.100.0/24',
      }),
    );
    expect(sim.openConnection({ instanceId: WEB, remoteIp: '198.51.100.7', localPort: 22 }).closedBy).toBe(
      `refused by network ACL ${ACL_WEB} ingress rule 90`,
    );
    expect(world.ec2.connections.map((c) => c.state)).toEqual(['open', 'closed', 'open', 'closed']);
  });

  it('saves the world after opening a connection and after each change', async () => {
    const saved: string[] = [];
    const { ec2, sim } = harness(demoWorld(), { onChange: (w) => saved.push(w.ec2.connections.map((c) => c.state).join(',')) });
    sim.openConnection({ instanceId: WEB, remoteIp: '203.0.113.99', localPort: 22 });
    await ec2.send(
      new CreateNetworkAclEntryCommand({
        NetworkAclId: ACL_WEB,
        RuleNumber: 90,
        Protocol: '-1',
        RuleAction: 'deny',
        Egress: false,
        CidrBlock: '203.0.113.0/24',
      }),
    );
    expect(saved).toEqual(['open,open', 'closed,closed']);
  });

  it('throws on unknown instances and unknown connection ids', () => {
    const { sim } = harness();
    expect(() => sim.openConnection({ instanceId: 'i-0000000000000000a', remoteIp: '203.0.113.1', localPort: 22 })).toThrow(/no instance/);
    expect(() => sim.isConnectionOpen('nope')).toThrow(/no connection 'nope'/);
  });
});
