/** Simulated EC2: security groups and their rules. */
import type { SimHandler } from '../../service.js';
import type { SecurityGroupT, SgRuleT } from './schema.js';
import {
  applyFilters,
  derivedId,
  dryRun,
  ec2Of,
  find,
  findAll,
  invalidValue,
  missing,
  paginate,
  tagsFromSpecs,
  type Ctx,
  type Filter,
} from './common.js';
import { tagList } from '../../kit.js';
import { enforceConnections, normalizeSgProtocol, trackingSnapshot } from '../../connections.js';
import { isCidr4, isCidr6 } from '../../../core/net.js';

type Dir = 'ingress' | 'egress';

interface IpPermission {
  IpProtocol?: string;
  FromPort?: number;
  ToPort?: number;
  IpRanges?: Array<{ CidrIp?: string; Description?: string }>;
  Ipv6Ranges?: Array<{ CidrIpv6?: string; Description?: string }>;
  UserIdGroupPairs?: Array<{ GroupId?: string; GroupName?: string; UserId?: string; Description?: string }>;
  PrefixListIds?: Array<{ PrefixListId?: string; Description?: string }>;
}

const arnOf = (ctx: Ctx, id: string) => `arn:aws:ec2:${ctx.region}:${ctx.accountId}:security-group/${id}`;

/** Ports as AWS stores them: none for "all protocols" and protocols without ports. */
function portsOf(protocol: string, from?: number, to?: number): { fromPort?: number; toPort?: number } {
  if (protocol === 'tcp' || protocol === 'udp' || protocol === 'icmp' || protocol === 'icmpv6') {
    return { ...(from !== undefined ? { fromPort: from } : {}), ...(to !== undefined ? { toPort: to } : {}) };
  }
  return {};
}

function ruleKey(r: SgRuleT): string {
  const p = normalizeSgProtocol(r.protocol);
  const ports = portsOf(p, r.fromPort, r.toPort);
  return [p, ports.fromPort ?? '', ports.toPort ?? '', r.cidr ?? '', r.ipv6Cidr ?? '', r.groupId ?? '', r.prefixListId ?? ''].join('|');
}

function ruleIdOf(group: SecurityGroupT, dir: Dir, r: SgRuleT): string {
  return r.id ?? derivedId('sgr', `${group.id}/${dir}/${ruleKey(r)}`);
}

function peerText(r: SgRuleT): string {
  return r.cidr ?? r.ipv6Cidr ?? r.groupId ?? r.prefixListId ?? '';
}

/** Expand the API's IpPermissions (one protocol/port range, many peers) into one rule per peer. */
function expand(ctx: Ctx, perms: readonly IpPermission[], dir: Dir): SgRuleT[] {
  const w = ec2Of(ctx);
  const rules: SgRuleT[] = [];
  for (const p of perms) {
    if (p.IpProtocol === undefined || p.IpProtocol === '')
      ctx.fail('InvalidParameterValue', "Invalid value 'null' for IP protocol. Unknown protocol.");
    const protocol = normalizeSgProtocol(p.IpProtocol);
    const num = Number(protocol);
    if (!['-1', 'tcp', 'udp', 'icmp', 'icmpv6'].includes(protocol) && !(Number.isInteger(num) && num >= 0 && num <= 255)) {
      ctx.fail('InvalidParameterValue', `Invalid value '${p.IpProtocol}' for IP protocol. Unknown protocol.`);
    }
    if (protocol === 'tcp' || protocol === 'udp') {
      if (p.FromPort === undefined || p.ToPort === undefined)
        ctx.fail('InvalidParameterValue', `Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange.`);
      if (p.FromPort < 0 || p.ToPort > 65535 || p.FromPort > p.ToPort)
        ctx.fail('InvalidParameterValue', `Invalid port range: from port ${p.FromPort} to port ${p.ToPort}.`);
    }
    const ports = portsOf(protocol, p.FromPort, p.ToPort);
    const base = { protocol, ...ports };
    const before = rules.length;
    for (const r of p.IpRanges ?? []) {
      if (!r.CidrIp || !isCidr4(r.CidrIp)) ctx.fail('InvalidParameterValue', `CIDR block ${r.CidrIp ?? ''} is malformed`);
      rules.push({ ...base, cidr: r.CidrIp, ...(r.Description ? { description: r.Description } : {}) });
    }
    for (const r of p.Ipv6Ranges ?? []) {
      if (!r.CidrIpv6 || !isCidr6(r.CidrIpv6)) ctx.fail('InvalidParameterValue', `CIDR block ${r.CidrIpv6 ?? ''} is malformed`);
      rules.push({ ...base, ipv6Cidr: r.CidrIpv6, ...(r.Description ? { description: r.Description } : {}) });
    }
    for (const r of p.UserIdGroupPairs ?? []) {
      let id = r.GroupId;
      if (!id && r.GroupName) id = w.securityGroups.find((g) => g.name === r.GroupName && isDefaultVpc(ctx, g.vpcId))?.id;
      const group = find(ctx, 'group', w.securityGroups, id ?? r.GroupName);
      rules.push({ ...base, groupId: group.id, ...(r.Description ? { description: r.Description } : {}) });
    }
    for (const r of p.PrefixListIds ?? []) {
      if (!r.PrefixListId || !/^pl-[0-9a-f]+$/.test(r.PrefixListId))
        ctx.fail('InvalidPrefixListId.Malformed', `Invalid id: "${r.PrefixListId ?? ''}"`);
      rules.push({ ...base, prefixListId: r.PrefixListId, ...(r.Description ? { description: r.Description } : {}) });
    }
    if (rules.length === before) {
      ctx.fail(
        'InvalidParameterValue',
        `The request must name a ${dir === 'ingress' ? 'source' : 'destination'} for each permission (IpRanges, Ipv6Ranges, UserIdGroupPairs or PrefixListIds).`,
      );
    }
  }
  return rules;
}

/** The legacy single-rule form of AuthorizeSecurityGroupIngress (CidrIp, IpProtocol, ports). */
function permissionsOf(input: RuleInput): IpPermission[] {
  if (input.IpPermissions?.length) return input.IpPermissions;
  if (input.CidrIp !== undefined || input.IpProtocol !== undefined) {
    const p: IpPermission = { IpProtocol: input.IpProtocol ?? '-1', IpRanges: input.CidrIp ? [{ CidrIp: input.CidrIp }] : [] };
    if (input.FromPort !== undefined) p.FromPort = input.FromPort;
    if (input.ToPort !== undefined) p.ToPort = input.ToPort;
    return [p];
  }
  return [];
}

/** DescribeSecurityGroups groups rules that share a protocol and port range, as AWS does. */
function aggregate(rules: readonly SgRuleT[]) {
  const out = new Map<
    string,
    Required<Pick<IpPermission, 'IpRanges' | 'Ipv6Ranges' | 'UserIdGroupPairs' | 'PrefixListIds'>> & IpPermission
  >();
  for (const r of rules) {
    const p = normalizeSgProtocol(r.protocol);
    const ports = portsOf(p, r.fromPort, r.toPort);
    const k = `${p}|${ports.fromPort ?? ''}|${ports.toPort ?? ''}`;
    let perm = out.get(k);
    if (!perm) {
      perm = { IpProtocol: p, IpRanges: [], Ipv6Ranges: [], UserIdGroupPairs: [], PrefixListIds: [] };
      if (ports.fromPort !== undefined) perm.FromPort = ports.fromPort;
      if (ports.toPort !== undefined) perm.ToPort = ports.toPort;
      out.set(k, perm);
    }
    const d = r.description ? { Description: r.description } : {};
    if (r.cidr) perm.IpRanges.push({ CidrIp: r.cidr, ...d });
    else if (r.ipv6Cidr) perm.Ipv6Ranges.push({ CidrIpv6: r.ipv6Cidr, ...d });
    else if (r.groupId) perm.UserIdGroupPairs.push({ GroupId: r.groupId, ...d });
    else if (r.prefixListId) perm.PrefixListIds.push({ PrefixListId: r.prefixListId, ...d });
  }
  return [...out.values()];
}

function ruleShape(ctx: Ctx, group: SecurityGroupT, dir: Dir, r: SgRuleT) {
  const p = normalizeSgProtocol(r.protocol);
  const ports = portsOf(p, r.fromPort, r.toPort);
  return {
    SecurityGroupRuleId: ruleIdOf(group, dir, r),
    GroupId: group.id,
    GroupOwnerId: ctx.accountId,
    IsEgress: dir === 'egress',
    IpProtocol: p,
    // AWS reports -1 for the port range of rules without ports.
    FromPort: ports.fromPort ?? -1,
    ToPort: ports.toPort ?? -1,
    ...(r.cidr ? { CidrIpv4: r.cidr } : {}),
    ...(r.ipv6Cidr ? { CidrIpv6: r.ipv6Cidr } : {}),
    ...(r.groupId ? { ReferencedGroupInfo: { GroupId: r.groupId, UserId: ctx.accountId } } : {}),
    ...(r.prefixListId ? { PrefixListId: r.prefixListId } : {}),
    ...(r.description ? { Description: r.description } : {}),
    SecurityGroupRuleArn: `arn:aws:ec2:${ctx.region}:${ctx.accountId}:security-group-rule/${ruleIdOf(group, dir, r)}`,
    Tags: [],
  };
}

function isDefaultVpc(ctx: Ctx, vpcId: string): boolean {
  return ec2Of(ctx).vpcs.find((v) => v.id === vpcId)?.isDefault === true;
}

function defaultVpcId(ctx: Ctx): string {
  const v = ec2Of(ctx).vpcs.find((x) => x.isDefault);
  if (!v) ctx.fail('VPCIdNotSpecified', 'No default VPC for this user');
  return v.id;
}

/** A group named by GroupId, or by GroupName (which AWS resolves in the default VPC only). */
function resolveGroup(ctx: Ctx, input: { GroupId?: string; GroupName?: string }): SecurityGroupT {
  const w = ec2Of(ctx);
  if (input.GroupId !== undefined) return find(ctx, 'group', w.securityGroups, input.GroupId);
  if (input.GroupName === undefined) missing(ctx, 'groupId');
  const vpc = defaultVpcId(ctx);
  const g = w.securityGroups.find((x) => x.vpcId === vpc && x.name === input.GroupName);
  if (!g) ctx.fail('InvalidGroup.NotFound', `The security group '${input.GroupName}' does not exist in default VPC '${vpc}'`);
  return g;
}

function groupShape(ctx: Ctx, g: SecurityGroupT) {
  return {
    GroupId: g.id,
    GroupName: g.name,
    Description: g.description,
    VpcId: g.vpcId,
    OwnerId: ctx.accountId,
    SecurityGroupArn: arnOf(ctx, g.id),
    IpPermissions: aggregate(g.ingress),
    IpPermissionsEgress: aggregate(g.egress),
    Tags: tagList(g.tags),
  };
}

const ruleFields = (dir: Dir) => ({
  cidr: (g: SecurityGroupT) => g[dir].map((r) => r.cidr),
  'ipv6-cidr': (g: SecurityGroupT) => g[dir].map((r) => r.ipv6Cidr),
  'group-id': (g: SecurityGroupT) => g[dir].map((r) => r.groupId),
  protocol: (g: SecurityGroupT) => g[dir].map((r) => normalizeSgProtocol(r.protocol)),
  'from-port': (g: SecurityGroupT) => g[dir].map((r) => r.fromPort),
  'to-port': (g: SecurityGroupT) => g[dir].map((r) => r.toPort),
});

const describeSecurityGroups: SimHandler = (
  ctx: Ctx,
  input: { GroupIds?: string[]; GroupNames?: string[]; Filters?: Filter[]; MaxResults?: number; NextToken?: string },
) => {
  const w = ec2Of(ctx);
  let list: SecurityGroupT[] = [...w.securityGroups];
  if (input.GroupIds?.length) list = findAll(ctx, 'group', w.securityGroups, input.GroupIds);
  if (input.GroupNames?.length) {
    list = input.GroupNames.map((name) => resolveGroup(ctx, { GroupName: name })).filter((g) => list.includes(g));
  }
  const fields: Record<string, (g: SecurityGroupT) => unknown> = {
    'group-id': (g) => g.id,
    'group-name': (g) => g.name,
    'vpc-id': (g) => g.vpcId,
    description: (g) => g.description,
    'owner-id': () => ctx.accountId,
  };
  for (const [k, f] of Object.entries(ruleFields('ingress'))) fields[`ip-permission.${k}`] = f;
  for (const [k, f] of Object.entries(ruleFields('egress'))) fields[`egress.ip-permission.${k}`] = f;
  list = applyFilters(ctx, list, input.Filters, fields as never, (g) => g.tags);
  const { page, NextToken } = paginate(ctx, list, input);
  return { SecurityGroups: page.map((g) => groupShape(ctx, g)), ...(NextToken ? { NextToken } : {}) };
};

const createSecurityGroup: SimHandler = (
  ctx: Ctx,
  input: { GroupName?: string; Description?: string; VpcId?: string; TagSpecifications?: never[]; DryRun?: boolean },
) => {
  const w = ec2Of(ctx);
  if (!input.GroupName) missing(ctx, 'GroupName');
  if (input.Description === undefined || input.Description === '') missing(ctx, 'GroupDescription');
  if (input.GroupName.length > 255) invalidValue(ctx, 'groupName', input.GroupName, 'Reason: The name is longer than 255 characters.');
  if (input.Description.length > 255)
    invalidValue(ctx, 'GroupDescription', input.Description, 'Reason: The description is longer than 255 characters.');
  if (/^sg-/i.test(input.GroupName)) ctx.fail('InvalidParameterValue', 'Group names may not be in the format sg-*.');
  if (input.GroupName === 'default')
    ctx.fail('InvalidParameterValue', "Invalid value 'default' for groupName. Reason: Cannot use reserved security group name: default");
  const vpcId = input.VpcId !== undefined ? find(ctx, 'vpc', w.vpcs, input.VpcId).id : defaultVpcId(ctx);
  if (w.securityGroups.some((g) => g.vpcId === vpcId && g.name === input.GroupName)) {
    ctx.fail('InvalidGroup.Duplicate', `The security group '${input.GroupName}' already exists for VPC '${vpcId}'`);
  }
  const tags = tagsFromSpecs(ctx, input.TagSpecifications, 'security-group');
  dryRun(ctx, input);
  const id = ctx.newId('sg');
  // AWS gives every new group one rule: all outbound traffic to 0.0.0.0/0.
  const group: SecurityGroupT = {
    id,
    name: input.GroupName,
    description: input.Description,
    vpcId,
    ingress: [],
    egress: [{ id: ctx.newId('sgr'), protocol: '-1', cidr: '0.0.0.0/0' }],
    tags,
  };
  w.securityGroups.push(group);
  ctx.changed();
  return { GroupId: id, SecurityGroupArn: arnOf(ctx, id), ...(Object.keys(tags).length ? { Tags: tagList(tags) } : {}) };
};

interface RuleInput {
  GroupId?: string;
  GroupName?: string;
  IpPermissions?: IpPermission[];
  SecurityGroupRuleIds?: string[];
  CidrIp?: string;
  IpProtocol?: string;
  FromPort?: number;
  ToPort?: number;
  DryRun?: boolean;
  TagSpecifications?: never[];
}

function authorize(dir: Dir): SimHandler {
  return (ctx: Ctx, input: RuleInput) => {
    const group = resolveGroup(ctx, input);
    const perms = permissionsOf(input);
    if (perms.length === 0) missing(ctx, 'ipPermissions');
    const rules = expand(ctx, perms, dir);
    const existing = new Set(group[dir].map(ruleKey));
    const seen = new Set<string>();
    for (const r of rules) {
      const k = ruleKey(r);
      if (existing.has(k) || seen.has(k)) {
        const p = normalizeSgProtocol(r.protocol);
        const ports = p === '-1' ? '' : `, from port: ${r.fromPort ?? -1}, to port: ${r.toPort ?? -1}`;
        ctx.fail(
          'InvalidPermission.Duplicate',
          `the specified rule "peer: ${peerText(r)}, ${p === '-1' ? 'ALL' : p.toUpperCase()}${ports}, ALLOW" already exists`,
        );
      }
      seen.add(k);
    }
    if (group[dir].length + rules.length > ec2Of(ctx).limits.rulesPerSecurityGroup) {
      ctx.fail('RulesPerSecurityGroupLimitExceeded', 'The maximum number of rules per security group has been reached.');
    }
    tagsFromSpecs(ctx, input.TagSpecifications, 'security-group-rule');
    dryRun(ctx, input);
    for (const r of rules) r.id = ctx.newId('sgr');
    group[dir].push(...rules);
    ctx.changed();
    return { Return: true, SecurityGroupRules: rules.map((r) => ruleShape(ctx, group, dir, r)) };
  };
}

function revoke(dir: Dir): SimHandler {
  return (ctx: Ctx, input: RuleInput) => {
    const group = resolveGroup(ctx, input);
    let targets: SgRuleT[];
    const unknown: SgRuleT[] = [];
    if (input.SecurityGroupRuleIds?.length) {
      targets = input.SecurityGroupRuleIds.map((id) => {
        const r = group[dir].find((x) => ruleIdOf(group, dir, x) === id);
        if (!r) ctx.fail('InvalidSecurityGroupRuleId.NotFound', `The security group rule ID '${id}' does not exist`);
        return r;
      });
    } else {
      const perms = permissionsOf(input);
      if (perms.length === 0) missing(ctx, 'ipPermissions');
      const byKey = new Map(group[dir].map((r) => [ruleKey(r), r]));
      targets = [];
      for (const r of expand(ctx, perms, dir)) {
        const found = byKey.get(ruleKey(r));
        if (found) targets.push(found);
        else unknown.push(r);
      }
      // AWS: in a non-default VPC an unmatched rule is an error and nothing is revoked;
      // in the default VPC the call succeeds and reports the unmatched rules.
      if (unknown.length && !isDefaultVpc(ctx, group.vpcId)) {
        ctx.fail('InvalidPermission.NotFound', 'The specified rule does not exist in this security group.');
      }
    }
    dryRun(ctx, input);
    const revoked = targets.map((r) => ruleShape(ctx, group, dir, r));
    if (targets.length) {
      const before = trackingSnapshot(ctx.world);
      group[dir] = group[dir].filter((r) => !targets.includes(r));
      enforceConnections(
        ctx.world,
        before,
        ctx.clock.now(),
        `ec2:RevokeSecurityGroup${dir === 'ingress' ? 'Ingress' : 'Egress'} ${group.id}`,
      );
      ctx.changed();
    }
    return {
      Return: true,
      ...(unknown.length ? { UnknownIpPermissions: aggregate(unknown) } : {}),
      RevokedSecurityGroupRules: revoked.map((r) => ({
        SecurityGroupRuleId: r.SecurityGroupRuleId,
        GroupId: r.GroupId,
        IsEgress: r.IsEgress,
        IpProtocol: r.IpProtocol,
        FromPort: r.FromPort,
        ToPort: r.ToPort,
        CidrIpv4: r.CidrIpv4,
        CidrIpv6: r.CidrIpv6,
        PrefixListId: r.PrefixListId,
        ReferencedSecurityGroupId: r.ReferencedGroupInfo?.GroupId,
        Description: r.Description,
      })),
    };
  };
}

const deleteSecurityGroup: SimHandler = (ctx: Ctx, input: { GroupId?: string; GroupName?: string; DryRun?: boolean }) => {
  const w = ec2Of(ctx);
  const group = resolveGroup(ctx, input);
  if (group.name === 'default') ctx.fail('CannotDelete', `the specified group: "${group.id}" name: "default" cannot be deleted by a user`);
  const inUse = w.networkInterfaces.some((e) => e.groups.includes(group.id));
  const referenced = w.securityGroups.some((g) => g.id !== group.id && [...g.ingress, ...g.egress].some((r) => r.groupId === group.id));
  if (inUse || referenced) ctx.fail('DependencyViolation', `resource ${group.id} has a dependent object`);
  dryRun(ctx, input);
  w.securityGroups = w.securityGroups.filter((g) => g !== group);
  ctx.changed();
  return { Return: true, GroupId: group.id };
};

export const securityGroupHandlers: Record<string, SimHandler> = {
  DescribeSecurityGroups: describeSecurityGroups,
  CreateSecurityGroup: createSecurityGroup,
  AuthorizeSecurityGroupIngress: authorize('ingress'),
  AuthorizeSecurityGroupEgress: authorize('egress'),
  RevokeSecurityGroupIngress: revoke('ingress'),
  RevokeSecurityGroupEgress: revoke('egress'),
  DeleteSecurityGroup: deleteSecurityGroup,
};
