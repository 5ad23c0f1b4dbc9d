/**
 * Network ACL reads shared by the deny and remove actions: which ACL governs a subnet, which
 * entries are Firebreak's, and where a deny entry must sit to take effect.
 *
 * A subnet is governed by exactly one network ACL: the one it is associated with, or the VPC's
 * default ACL when it has no explicit association; AWS lists that implicit association on the
 * default ACL too, so the `association.subnet-id` filter finds both kinds. An ACL that is not
 * associated with a subnet filters nothing, whatever its entries say.
 */
import type { EC2Client, NetworkAclEntry, Tag } from '@aws-sdk/client-ec2';
import { ActionFailed } from '../../core/errors.js';
import { isIpv6Cidr, sameCidr } from './cidr.js';
import { describeInstance } from './ec2.js';
import { EC2 } from '../../cloud/sdk.js';

/** The `*` rule: implicit, last, not counted in the quota, never changed. */
export const STAR_RULE = 32767;
/** Per-run record of the entries Firebreak created on an ACL: `firebreak:deny-rules:<run>` = `in:90,89 eg:90,89`. */
export const RULES_TAG_PREFIX = 'firebreak:deny-rules:';

export type Direction = 'ingress' | 'egress';
export const DIRECTIONS: readonly Direction[] = ['ingress', 'egress'];
export const isEgress = (d: Direction) => d === 'egress';

export interface AclView {
  id: string;
  vpcId: string;
  isDefault: boolean;
  /** The requested subnets this ACL governs. */
  subnetIds: string[];
  /** Every subnet it governs (what a change to it reaches). */
  governs: number;
  entries: NetworkAclEntry[];
  tags: Tag[];
  /** Tags of the requested subnets it governs (for the protected-resource guardrail). */
  subnetTags: Record<string, Tag[]>;
}

export async function subnetsOfInstance(ec2: EC2Client, instanceId: string) {
  const [instance, enis] = await Promise.all([
    describeInstance(ec2, instanceId),
    ec2.send(new EC2.DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [instanceId] }] })),
  ]);
  // Every interface's subnet: an attacker reaching the instance through a second interface
  // (a management network) must be denied there too.
  const subnetIds = [...new Set((enis.NetworkInterfaces ?? []).map((n) => n.SubnetId!).filter(Boolean))];
  if (subnetIds.length === 0 && instance.SubnetId) subnetIds.push(instance.SubnetId);
  return { instance, subnetIds };
}

/** The ACL governing each subnet, grouped by ACL. Unknown subnets fail with AWS's own error. */
export async function aclsForSubnets(ec2: EC2Client, subnetIds: readonly string[]): Promise<AclView[]> {
  const [subnets, acls] = await Promise.all([
    ec2.send(new EC2.DescribeSubnetsCommand({ SubnetIds: [...subnetIds] })),
    ec2.send(new EC2.DescribeNetworkAclsCommand({ Filters: [{ Name: 'association.subnet-id', Values: [...subnetIds] }] })),
  ]);
  const views: AclView[] = [];
  for (const subnet of subnets.Subnets ?? []) {
    const acl = (acls.NetworkAcls ?? []).find((a) => a.Associations?.some((s) => s.SubnetId === subnet.SubnetId));
    if (!acl)
      throw new ActionFailed(
        `failed to find the network ACL of ${subnet.SubnetId}: DescribeNetworkAcls lists no ACL associated with it`,
        'NetworkAclNotFound',
      );
    let view = views.find((v) => v.id === acl.NetworkAclId);
    if (!view) {
      view = {
        id: acl.NetworkAclId!,
        vpcId: acl.VpcId!,
        isDefault: acl.IsDefault === true,
        subnetIds: [],
        governs: acl.Associations?.length ?? 0,
        entries: acl.Entries ?? [],
        tags: acl.Tags ?? [],
        subnetTags: {},
      };
      views.push(view);
    }
    view.subnetIds.push(subnet.SubnetId!);
    view.subnetTags[subnet.SubnetId!] = subnet.Tags ?? [];
  }
  return views;
}

export const entriesOf = (acl: AclView, d: Direction) => acl.entries.filter((e) => e.Egress === isEgress(d) && e.RuleNumber !== STAR_RULE);

/** The first allow rule of a direction: a deny must have a lower number to be evaluated before it. */
export function lowestAllow(acl: AclView, d: Direction): number {
  const allows = entriesOf(acl, d)
    .filter((e) => e.RuleAction === 'allow')
    .map((e) => e.RuleNumber!);
  return allows.length ? Math.min(...allows) : STAR_RULE;
}

export const entryCidr = (e: NetworkAclEntry) => e.CidrBlock ?? e.Ipv6CidrBlock;

/** A deny of every protocol for exactly this block. */
export const deniesAll = (e: NetworkAclEntry, cidr: string) =>
  e.RuleAction === 'deny' && e.Protocol === '-1' && sameCidr(entryCidr(e), cidr);

export const cidrField = (cidr: string) => (isIpv6Cidr(cidr) ? { Ipv6CidrBlock: cidr } : { CidrBlock: cidr });

export interface RuleRecord {
  ingress: number[];
  egress: number[];
}

export function parseRules(value: string | undefined): RuleRecord {
  const out: RuleRecord = { ingress: [], egress: [] };
  for (const part of (value ?? '').split(' ')) {
    const [dir, list] = part.split(':');
    const nums = (list ?? '')
      .split(',')
      .map(Number)
      .filter((n) => Number.isInteger(n) && n > 0);
    if (dir === 'in') out.ingress.push(...nums);
    if (dir === 'eg') out.egress.push(...nums);
  }
  return out;
}

export function formatRules(r: RuleRecord): string {
  return [r.ingress.length ? `in:${r.ingress.join(',')}` : '', r.egress.length ? `eg:${r.egress.join(',')}` : ''].filter(Boolean).join(' ');
}

/** Firebreak's rule records on an ACL, by tag key (one per run). */
export function ruleRecords(acl: AclView): Map<string, RuleRecord> {
  const out = new Map<string, RuleRecord>();
  for (const t of acl.tags) if (t.Key?.startsWith(RULES_TAG_PREFIX)) out.set(t.Key, parseRules(t.Value));
  return out;
}
