/** Simulated EC2: VPCs, subnets, network ACLs and Regions. */
import type { SimHandler } from '../../service.js';
import type { NaclEntryT, NetworkAclT } from './schema.js';
import { applyFilters, derivedId, dryRun, ec2Of, find, findAll, invalidValue, missing, paginate, type Ctx, type Filter } from './common.js';
import { tagList } from '../../kit.js';
import { enforceConnections, trackingSnapshot } from '../../connections.js';
import { isCidr4, isCidr6 } from '../../../core/net.js';

const describeVpcs: SimHandler = (ctx: Ctx, input: { VpcIds?: string[]; Filters?: Filter[]; MaxResults?: number; NextToken?: string }) => {
  const w = ec2Of(ctx);
  let list = input.VpcIds?.length ? findAll(ctx, 'vpc', w.vpcs, input.VpcIds) : [...w.vpcs];
  list = applyFilters(
    ctx,
    list,
    input.Filters,
    {
      'vpc-id': (v) => v.id,
      cidr: (v) => v.cidrBlock,
      'cidr-block-association.cidr-block': (v) => v.cidrBlock,
      'is-default': (v) => v.isDefault,
      state: () => 'available',
      'owner-id': () => ctx.accountId,
    },
    (v) => v.tags,
  );
  const { page, NextToken } = paginate(ctx, list, input);
  return {
    Vpcs: page.map((v) => ({
      VpcId: v.id,
      CidrBlock: v.cidrBlock,
      CidrBlockAssociationSet: [
        { AssociationId: derivedId('vpc-cidr-assoc', v.id), CidrBlock: v.cidrBlock, CidrBlockState: { State: 'associated' } },
      ],
      IsDefault: v.isDefault,
      State: 'available',
      OwnerId: ctx.accountId,
      InstanceTenancy: 'default',
      DhcpOptionsId: derivedId('dopt', v.id),
      Tags: tagList(v.tags),
    })),
    ...(NextToken ? { NextToken } : {}),
  };
};

const describeSubnets: SimHandler = (
  ctx: Ctx,
  input: { SubnetIds?: string[]; Filters?: Filter[]; MaxResults?: number; NextToken?: string },
) => {
  const w = ec2Of(ctx);
  let list = input.SubnetIds?.length ? findAll(ctx, 'subnet', w.subnets, input.SubnetIds) : [...w.subnets];
  const az = (s: { availabilityZone?: string | undefined }) => s.availabilityZone ?? `${ctx.region}a`;
  list = applyFilters(
    ctx,
    list,
    input.Filters,
    {
      'subnet-id': (s) => s.id,
      'vpc-id': (s) => s.vpcId,
      'cidr-block': (s) => s.cidrBlock,
      'availability-zone': (s) => az(s),
      state: () => 'available',
      'owner-id': () => ctx.accountId,
    },
    (s) => s.tags,
  );
  const { page, NextToken } = paginate(ctx, list, input);
  return {
    Subnets: page.map((s) => ({
      SubnetId: s.id,
      VpcId: s.vpcId,
      CidrBlock: s.cidrBlock,
      AvailabilityZone: az(s),
      State: 'available',
      OwnerId: ctx.accountId,
      SubnetArn: `arn:aws:ec2:${ctx.region}:${ctx.accountId}:subnet/${s.id}`,
      MapPublicIpOnLaunch: false,
      DefaultForAz: false,
      Tags: tagList(s.tags),
    })),
    ...(NextToken ? { NextToken } : {}),
  };
};

/** The subnets an ACL governs: its explicit associations, plus, for the default ACL, the unassociated ones. */
function associationsOf(ctx: Ctx, acl: NetworkAclT): Array<{ subnetId: string; id: string }> {
  const w = ec2Of(ctx);
  const out = acl.associations.map((a) => ({ subnetId: a.subnetId, id: a.id ?? derivedId('aclassoc', `${acl.id}/${a.subnetId}`) }));
  if (acl.isDefault) {
    const explicit = new Set(w.networkAcls.flatMap((a) => a.associations.map((s) => s.subnetId)));
    for (const s of w.subnets) {
      if (s.vpcId === acl.vpcId && !explicit.has(s.id)) out.push({ subnetId: s.id, id: derivedId('aclassoc', `${acl.id}/${s.id}`) });
    }
  }
  return out;
}

function entryShape(e: NaclEntryT) {
  return {
    RuleNumber: e.ruleNumber,
    Protocol: e.protocol,
    RuleAction: e.ruleAction,
    Egress: e.egress,
    ...(e.cidrBlock ? { CidrBlock: e.cidrBlock } : {}),
    ...(e.ipv6CidrBlock ? { Ipv6CidrBlock: e.ipv6CidrBlock } : {}),
    ...(e.portRange ? { PortRange: { From: e.portRange.from, To: e.portRange.to } } : {}),
    ...(e.icmpTypeCode ? { IcmpTypeCode: { Type: e.icmpTypeCode.type, Code: e.icmpTypeCode.code } } : {}),
  };
}

/** Every ACL ends with the `*` rule (32767) that denies what no other rule allowed. */
const STAR_RULES = [false, true].map((egress) => ({
  RuleNumber: 32767,
  Protocol: '-1',
  RuleAction: 'deny',
  Egress: egress,
  CidrBlock: '0.0.0.0/0',
}));

const describeNetworkAcls: SimHandler = (
  ctx: Ctx,
  input: { NetworkAclIds?: string[]; Filters?: Filter[]; MaxResults?: number; NextToken?: string },
) => {
  const w = ec2Of(ctx);
  let list = input.NetworkAclIds?.length ? findAll(ctx, 'acl', w.networkAcls, input.NetworkAclIds) : [...w.networkAcls];
  list = applyFilters(
    ctx,
    list,
    input.Filters,
    {
      'network-acl-id': (a) => a.id,
      'vpc-id': (a) => a.vpcId,
      default: (a) => a.isDefault,
      'association.subnet-id': (a) => associationsOf(ctx, a).map((s) => s.subnetId),
      'association.association-id': (a) => associationsOf(ctx, a).map((s) => s.id),
      'association.network-acl-id': (a) => a.id,
      'entry.rule-number': (a) => a.entries.map((e) => e.ruleNumber),
      'entry.rule-action': (a) => a.entries.map((e) => e.ruleAction),
      'entry.egress': (a) => a.entries.map((e) => e.egress),
      'entry.cidr': (a) => a.entries.map((e) => e.cidrBlock),
      'owner-id': () => ctx.accountId,
    },
    (a) => a.tags,
  );
  const { page, NextToken } = paginate(ctx, list, input);
  return {
    NetworkAcls: page.map((a) => ({
      NetworkAclId: a.id,
      VpcId: a.vpcId,
      IsDefault: a.isDefault,
      OwnerId: ctx.accountId,
      Entries: [
        ...[...a.entries].sort((x, y) => Number(x.egress) - Number(y.egress) || x.ruleNumber - y.ruleNumber).map(entryShape),
        ...STAR_RULES,
      ],
      Associations: associationsOf(ctx, a).map((s) => ({ NetworkAclAssociationId: s.id, NetworkAclId: a.id, SubnetId: s.subnetId })),
      Tags: tagList(a.tags),
    })),
    ...(NextToken ? { NextToken } : {}),
  };
};

interface EntryInput {
  NetworkAclId?: string;
  RuleNumber?: number;
  Protocol?: string;
  RuleAction?: string;
  Egress?: boolean;
  CidrBlock?: string;
  Ipv6CidrBlock?: string;
  PortRange?: { From?: number; To?: number };
  IcmpTypeCode?: { Code?: number; Type?: number };
  DryRun?: boolean;
}

const PROTOCOL_NAMES: Record<string, string> = { all: '-1', tcp: '6', udp: '17', icmp: '1', icmpv6: '58' };

function checkRuleNumber(ctx: Ctx, n: number | undefined): number {
  if (n === undefined) missing(ctx, 'ruleNumber');
  if (!Number.isInteger(n) || n < 1 || n > 32766) invalidValue(ctx, 'ruleNumber', n, 'Rule numbers must be between 1 and 32766.');
  return n;
}

/** Validate a CreateNetworkAclEntry/ReplaceNetworkAclEntry request into a stored entry. */
function entryFrom(ctx: Ctx, input: EntryInput): NaclEntryT {
  const ruleNumber = checkRuleNumber(ctx, input.RuleNumber);
  if (input.Egress === undefined) missing(ctx, 'egress');
  if (input.Protocol === undefined) missing(ctx, 'protocol');
  const protocol = PROTOCOL_NAMES[input.Protocol.toLowerCase()] ?? input.Protocol;
  const num = Number(protocol);
  if (protocol !== '-1' && !(Number.isInteger(num) && num >= 0 && num <= 255)) invalidValue(ctx, 'protocol', input.Protocol);
  if (input.RuleAction !== 'allow' && input.RuleAction !== 'deny') invalidValue(ctx, 'ruleAction', input.RuleAction);
  if ((input.CidrBlock === undefined) === (input.Ipv6CidrBlock === undefined)) {
    ctx.fail('InvalidParameterCombination', 'Exactly one of cidrBlock or ipv6CidrBlock must be specified.');
  }
  if (input.CidrBlock !== undefined && !isCidr4(input.CidrBlock)) invalidValue(ctx, 'cidrBlock', input.CidrBlock);
  if (input.Ipv6CidrBlock !== undefined && !isCidr6(input.Ipv6CidrBlock)) invalidValue(ctx, 'ipv6CidrBlock', input.Ipv6CidrBlock);
  const entry: NaclEntryT = { ruleNumber, egress: input.Egress, protocol, ruleAction: input.RuleAction };
  if (input.CidrBlock !== undefined) entry.cidrBlock = input.CidrBlock;
  if (input.Ipv6CidrBlock !== undefined) entry.ipv6CidrBlock = input.Ipv6CidrBlock;
  if (protocol === '6' || protocol === '17') {
    // AWS requires a port range for TCP and UDP entries.
    const from = input.PortRange?.From;
    const to = input.PortRange?.To;
    if (from === undefined || to === undefined) missing(ctx, 'portRange');
    if (from < 0 || to > 65535 || from > to) invalidValue(ctx, 'portRange', `${from}-${to}`);
    entry.portRange = { from, to };
  }
  if (protocol === '1' || protocol === '58') {
    if (input.IcmpTypeCode?.Type === undefined || input.IcmpTypeCode.Code === undefined) missing(ctx, 'icmpTypeCode');
    entry.icmpTypeCode = { type: input.IcmpTypeCode.Type, code: input.IcmpTypeCode.Code };
  }
  return entry;
}

/** Apply an entry change and cut the flows the ACL now blocks (ACLs are stateless). */
function changeEntries(ctx: Ctx, acl: NetworkAclT, change: () => void, cause: string): void {
  const before = trackingSnapshot(ctx.world);
  change();
  enforceConnections(ctx.world, before, ctx.clock.now(), `${cause} ${acl.id}`);
  ctx.changed();
}

const createNetworkAclEntry: SimHandler = (ctx: Ctx, input: EntryInput) => {
  const w = ec2Of(ctx);
  const acl = find(ctx, 'acl', w.networkAcls, input.NetworkAclId);
  const entry = entryFrom(ctx, input);
  if (acl.entries.some((e) => e.egress === entry.egress && e.ruleNumber === entry.ruleNumber)) {
    ctx.fail('NetworkAclEntryAlreadyExists', `The network acl entry identified by ${entry.ruleNumber} already exists.`);
  }
  // The quota counts the rules of one direction; the `*` rule does not count.
  if (acl.entries.filter((e) => e.egress === entry.egress).length >= w.limits.naclRulesPerDirection) {
    ctx.fail(
      'NetworkAclEntryLimitExceeded',
      `The maximum number of ${entry.egress ? 'egress' : 'ingress'} entries (${w.limits.naclRulesPerDirection}) for network ACL ${acl.id} has been reached.`,
    );
  }
  dryRun(ctx, input);
  changeEntries(ctx, acl, () => acl.entries.push(entry), 'ec2:CreateNetworkAclEntry');
  return {};
};

const replaceNetworkAclEntry: SimHandler = (ctx: Ctx, input: EntryInput) => {
  const acl = find(ctx, 'acl', ec2Of(ctx).networkAcls, input.NetworkAclId);
  const entry = entryFrom(ctx, input);
  const i = acl.entries.findIndex((e) => e.egress === entry.egress && e.ruleNumber === entry.ruleNumber);
  if (i < 0) ctx.fail('InvalidNetworkAclEntry.NotFound', `The network acl entry identified by ${entry.ruleNumber} does not exist.`);
  dryRun(ctx, input);
  changeEntries(
    ctx,
    acl,
    () => {
      acl.entries[i] = entry;
    },
    'ec2:ReplaceNetworkAclEntry',
  );
  return {};
};

const deleteNetworkAclEntry: SimHandler = (
  ctx: Ctx,
  input: { NetworkAclId?: string; RuleNumber?: number; Egress?: boolean; DryRun?: boolean },
) => {
  const acl = find(ctx, 'acl', ec2Of(ctx).networkAcls, input.NetworkAclId);
  const ruleNumber = checkRuleNumber(ctx, input.RuleNumber);
  if (input.Egress === undefined) missing(ctx, 'egress');
  const i = acl.entries.findIndex((e) => e.egress === input.Egress && e.ruleNumber === ruleNumber);
  if (i < 0) ctx.fail('InvalidNetworkAclEntry.NotFound', `The network acl entry identified by ${ruleNumber} does not exist.`);
  dryRun(ctx, input);
  changeEntries(
    ctx,
    acl,
    () => {
      acl.entries.splice(i, 1);
    },
    'ec2:DeleteNetworkAclEntry',
  );
  return {};
};

const REGIONS = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'ca-central-1',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-central-1',
  'eu-north-1',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-south-1',
  'sa-east-1',
];

const describeRegions: SimHandler = (ctx: Ctx, input: { RegionNames?: string[]; Filters?: Filter[]; AllRegions?: boolean }) => {
  const names = REGIONS.includes(ctx.region) ? REGIONS : [...REGIONS, ctx.region];
  const regions = names.map((n) => ({ RegionName: n, Endpoint: `ec2.${n}.amazonaws.com`, OptInStatus: 'opt-in-not-required' }));
  for (const n of input.RegionNames ?? []) {
    if (!names.includes(n)) ctx.fail('InvalidParameterValue', `Invalid region name: ${n}`);
  }
  let list = input.RegionNames?.length ? regions.filter((r) => input.RegionNames!.includes(r.RegionName)) : regions;
  list = applyFilters(ctx, list, input.Filters, {
    'region-name': (r) => r.RegionName,
    endpoint: (r) => r.Endpoint,
    'opt-in-status': (r) => r.OptInStatus,
  });
  return { Regions: list };
};

export const networkHandlers: Record<string, SimHandler> = {
  DescribeVpcs: describeVpcs,
  DescribeSubnets: describeSubnets,
  DescribeNetworkAcls: describeNetworkAcls,
  CreateNetworkAclEntry: createNetworkAclEntry,
  ReplaceNetworkAclEntry: replaceNetworkAclEntry,
  DeleteNetworkAclEntry: deleteNetworkAclEntry,
  DescribeRegions: describeRegions,
};
