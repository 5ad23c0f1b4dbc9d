/**
 * Network flows to and from instances, and what security groups and network ACLs do to them.
 * This is what makes isolation honest: a responder who swaps an instance's security groups in
 * one step has NOT cut an attacker's established connection.
 *
 * AWS's rules (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/security-group-connection-tracking.html):
 *  - Security groups are stateful: a flow they allowed is tracked, and "when you change a security
 *    group rule, its tracked connections are not immediately interrupted" — packets keep flowing
 *    until the connection times out.
 *  - A TCP or UDP flow is *untracked* when the groups allow all traffic from 0.0.0.0/0 (or ::/0)
 *    inbound and all traffic to it outbound. Untracked flows are judged packet by packet, so a
 *    rule change stops them at once. Hence AWS's incident-response advice: first move the
 *    instance to an allow-all group (flows become untracked), then to the isolation group.
 *  - Network ACLs are stateless: an ACL entry that blocks either direction of a flow on the
 *    subnet's associated ACL breaks existing connections immediately.
 */
import type { World } from './world.js';
import type { ConnectionT, NetworkAclT, NetworkInterfaceT, SgRuleT } from './services/ec2/schema.js';
import { cidrContains, ipFamily } from '../core/net.js';

const PROTOCOL_NUMBER = { tcp: '6', udp: '17', icmp: '1' } as const;

/** The interface that carries a connection: the one named, or the instance's primary. */
export function interfaceOf(world: World, conn: ConnectionT): NetworkInterfaceT | undefined {
  const enis = world.ec2.networkInterfaces;
  if (conn.networkInterfaceId) return enis.find((e) => e.id === conn.networkInterfaceId);
  return enis.find((e) => e.attachment?.instanceId === conn.instanceId && e.attachment.deviceIndex === 0);
}

function ruleProtocolMatches(rule: SgRuleT, protocol: ConnectionT['protocol']): boolean {
  const p = normalizeSgProtocol(rule.protocol);
  return p === '-1' || p === protocol;
}

/** AWS stores tcp/udp/icmp by name and everything else by number; `-1` means all. */
export function normalizeSgProtocol(p: string): string {
  const v = p.toLowerCase();
  return ({ '6': 'tcp', '17': 'udp', '1': 'icmp', '58': 'icmpv6', all: '-1' } as Record<string, string>)[v] ?? v;
}

function rulePortMatches(rule: SgRuleT, port: number | undefined): boolean {
  const p = normalizeSgProtocol(rule.protocol);
  if (p !== 'tcp' && p !== 'udp') return true;
  if (port === undefined) return true;
  const from = rule.fromPort ?? 0;
  const to = rule.toPort ?? 65535;
  return from === -1 || (port >= from && port <= to);
}

function rulePeerMatches(world: World, rule: SgRuleT, ip: string): boolean {
  if (rule.cidr) return cidrContains(rule.cidr, ip);
  if (rule.ipv6Cidr) return cidrContains(rule.ipv6Cidr, ip);
  if (rule.groupId) {
    return world.ec2.networkInterfaces.some((e) => e.groups.includes(rule.groupId!) && e.privateIpAddress === ip);
  }
  return false;
}

function rulesOf(world: World, groupIds: readonly string[], dir: 'ingress' | 'egress'): SgRuleT[] {
  return world.ec2.securityGroups.filter((g) => groupIds.includes(g.id)).flatMap((g) => g[dir]);
}

/** Whether the groups would let this flow start (inbound rules for inbound flows, outbound for outbound). */
export function groupsAllow(world: World, groupIds: readonly string[], conn: ConnectionT): boolean {
  const dir = conn.direction === 'inbound' ? 'ingress' : 'egress';
  const port = conn.direction === 'inbound' ? conn.localPort : conn.remotePort;
  return rulesOf(world, groupIds, dir).some(
    (r) => ruleProtocolMatches(r, conn.protocol) && rulePortMatches(r, port) && rulePeerMatches(world, r, conn.remoteIp),
  );
}

/** True when the groups leave this flow untracked (see the AWS rules above). */
export function isUntracked(world: World, groupIds: readonly string[], conn: ConnectionT): boolean {
  if (conn.protocol !== 'tcp' && conn.protocol !== 'udp') return false;
  const everyone = ipFamily(conn.remoteIp) === 6 ? '::/0' : '0.0.0.0/0';
  const allOpen = (r: SgRuleT) => {
    const p = normalizeSgProtocol(r.protocol);
    const allPorts = p === '-1' || (p === conn.protocol && (r.fromPort ?? 0) <= 0 && (r.toPort ?? 65535) >= 65535);
    return allPorts && (r.cidr === everyone || r.ipv6Cidr === everyone);
  };
  return rulesOf(world, groupIds, 'ingress').some(allOpen) && rulesOf(world, groupIds, 'egress').some(allOpen);
}

/** The ACL that governs a subnet: its explicit association, else its VPC's default ACL. */
export function aclOfSubnet(world: World, subnetId: string): NetworkAclT | undefined {
  const acls = world.ec2.networkAcls;
  const explicit = acls.find((a) => a.associations.some((s) => s.subnetId === subnetId));
  if (explicit) return explicit;
  const vpcId = world.ec2.subnets.find((s) => s.id === subnetId)?.vpcId;
  return acls.find((a) => a.vpcId === vpcId && a.isDefault);
}

export interface AclVerdict {
  allowed: boolean;
  aclId?: string;
  /** The deciding rule number; 32767 is the implicit `*` deny. */
  rule?: number;
  egress?: boolean;
}

function aclDirection(acl: NetworkAclT, egress: boolean, conn: ConnectionT, port: number | undefined): { rule: number; allowed: boolean } {
  const entries = acl.entries.filter((e) => e.egress === egress).sort((a, b) => a.ruleNumber - b.ruleNumber);
  for (const e of entries) {
    if (e.protocol !== '-1' && e.protocol !== PROTOCOL_NUMBER[conn.protocol]) continue;
    const cidr = e.cidrBlock ?? e.ipv6CidrBlock!;
    if (!cidrContains(cidr, conn.remoteIp)) continue;
    // A port-specific entry matches a flow whose port the world does not record.
    if (
      e.portRange &&
      (e.protocol === '6' || e.protocol === '17') &&
      port !== undefined &&
      (port < e.portRange.from || port > e.portRange.to)
    )
      continue;
    return { rule: e.ruleNumber, allowed: e.ruleAction === 'allow' };
  }
  return { rule: 32767, allowed: false };
}

/** Stateless: both directions of the flow must pass the subnet's ACL. */
export function aclAllows(world: World, subnetId: string, conn: ConnectionT): AclVerdict {
  const acl = aclOfSubnet(world, subnetId);
  if (!acl) return { allowed: true };
  for (const egress of [false, true]) {
    // Inbound packets go to the instance's port, outbound packets to the remote's port.
    const port = egress ? conn.remotePort : conn.localPort;
    const v = aclDirection(acl, egress, conn, port);
    if (!v.allowed) return { allowed: false, aclId: acl.id, rule: v.rule, egress };
  }
  return { allowed: true, aclId: acl.id };
}

/** Which open flows are untracked right now: taken before a change, judged after it. */
export function trackingSnapshot(world: World): Map<string, boolean> {
  const untracked = new Map<string, boolean>();
  for (const c of world.ec2.connections) {
    if (c.state !== 'open') continue;
    const eni = interfaceOf(world, c);
    untracked.set(c.id, eni ? isUntracked(world, eni.groups, c) : false);
  }
  return untracked;
}

/**
 * After a change to security groups, their rules or network ACLs: close what AWS would cut.
 * `before` is the tracking snapshot taken before the change. Returns the closed connections.
 */
export function enforceConnections(world: World, before: Map<string, boolean>, now: Date, cause: string): ConnectionT[] {
  const closed: ConnectionT[] = [];
  for (const c of world.ec2.connections) {
    if (c.state !== 'open') continue;
    const eni = interfaceOf(world, c);
    if (!eni) continue;
    const acl = aclAllows(world, eni.subnetId, c);
    let reason: string | undefined;
    if (!acl.allowed)
      reason = `${cause} (network ACL ${acl.aclId} ${acl.egress ? 'egress' : 'ingress'} rule ${acl.rule === 32767 ? '*' : acl.rule})`;
    else if (before.get(c.id) === true && !groupsAllow(world, eni.groups, c))
      reason = `${cause} (untracked flow no longer allowed by ${eni.groups.join(', ')})`;
    if (reason) {
      c.state = 'closed';
      c.closedAt = now.toISOString();
      c.closedBy = reason;
      closed.push(c);
    }
  }
  return closed;
}

export interface OpenConnectionSpec {
  id?: string;
  instanceId: string;
  networkInterfaceId?: string;
  remoteIp: string;
  remotePort?: number;
  localPort: number;
  protocol?: 'tcp' | 'udp' | 'icmp';
  direction?: 'inbound' | 'outbound';
}

/**
 * Try to open a flow (a tabletop inject: "the attacker reconnects"). It opens only if the
 * instance is running and its security groups and subnet ACL let it through; otherwise it is
 * recorded as refused (state 'closed', closedBy says why). Returns the recorded connection.
 */
export function openConnection(world: World, spec: OpenConnectionSpec, now: Date): ConnectionT {
  const inst = world.ec2.instances.find((i) => i.id === spec.instanceId);
  if (!inst) throw new Error(`failed to open connection: no instance '${spec.instanceId}' in the world`);
  const taken = new Set(world.ec2.connections.map((c) => c.id));
  let id = spec.id;
  if (id === undefined) {
    let n = world.ec2.connections.length + 1;
    while (taken.has(`conn-${n}`)) n++;
    id = `conn-${n}`;
  } else if (taken.has(id)) {
    throw new Error(`failed to open connection: id '${id}' is already used`);
  }
  const conn: ConnectionT = {
    id,
    instanceId: spec.instanceId,
    remoteIp: spec.remoteIp,
    localPort: spec.localPort,
    protocol: spec.protocol ?? 'tcp',
    direction: spec.direction ?? 'inbound',
    state: 'open',
    openedAt: now.toISOString(),
  };
  if (spec.networkInterfaceId) conn.networkInterfaceId = spec.networkInterfaceId;
  if (spec.remotePort !== undefined) conn.remotePort = spec.remotePort;
  if (ipFamily(conn.remoteIp) === undefined) throw new Error(`failed to open connection: '${spec.remoteIp}' is not an IP address`);
  const eni = interfaceOf(world, conn);
  if (!eni || eni.attachment?.instanceId !== conn.instanceId) {
    throw new Error(
      `failed to open connection: instance ${conn.instanceId} has no ${spec.networkInterfaceId ? `interface ${spec.networkInterfaceId}` : 'primary interface'}`,
    );
  }
  let refused: string | undefined;
  if (inst.state !== 'running') refused = `refused: instance is ${inst.state}`;
  else if (!groupsAllow(world, eni.groups, conn)) refused = `refused by security groups ${eni.groups.join(', ')}`;
  else {
    const acl = aclAllows(world, eni.subnetId, conn);
    if (!acl.allowed)
      refused = `refused by network ACL ${acl.aclId} ${acl.egress ? 'egress' : 'ingress'} rule ${acl.rule === 32767 ? '*' : acl.rule}`;
  }
  if (refused) {
    conn.state = 'closed';
    conn.closedAt = now.toISOString();
    conn.closedBy = refused;
  }
  world.ec2.connections.push(conn);
  return conn;
}

/** Whether a recorded connection is still open. Throws on an unknown id (a typo is not "closed"). */
export function isConnectionOpen(world: World, id: string): boolean {
  const c = world.ec2.connections.find((x) => x.id === id);
  if (!c) throw new Error(`no connection '${id}' in the world (known: ${world.ec2.connections.map((x) => x.id).join(', ') || 'none'})`);
  return c.state === 'open';
}
