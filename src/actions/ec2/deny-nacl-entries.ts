import type { EC2Client } from '@aws-sdk/client-ec2';
import * as z from 'zod';
import { ActionFailed, InputError, isAwsError } from '../../core/errors.js';
import { defineAction, type ActionContext, type Change, type Check } from '../define.js';
import { DenyCidr, sameCidr } from '../shared/cidr.js';
import { InstanceId, SubnetId } from '../shared/ec2.js';
import {
  aclsForSubnets,
  cidrField,
  deniesAll,
  DIRECTIONS,
  entriesOf,
  formatRules,
  isEgress,
  lowestAllow,
  parseRules,
  RULES_TAG_PREFIX,
  STAR_RULE,
  subnetsOfInstance,
  type AclView,
  type Direction,
} from '../shared/nacl.js';
import { EC2 } from '../../cloud/sdk.js';

const Input = z
  .strictObject({
    cidrs: z.array(DenyCidr).min(1).max(10),
    /** The instance whose subnets (every interface's) to protect; or name the subnets. */
    instanceId: InstanceId.optional(),
    subnetIds: z.array(SubnetId).min(1).max(50).optional(),
    /** Your account's quota of rules per direction per ACL (default 20, adjustable to 40). */
    ruleLimit: z.number().int().min(1).max(40).default(20),
  })
  .refine((i) => (i.instanceId === undefined) !== (i.subnetIds === undefined), { message: 'give either instanceId or subnetIds' });
type Input = z.infer<typeof Input>;

export interface NaclEntryRef {
  networkAclId: string;
  egress: boolean;
  ruleNumber: number;
  cidr: string;
}
interface AclPlan {
  id: string;
  subnetIds: string[];
  /** Entries to create, with the rule numbers chosen. */
  create: NaclEntryRef[];
  /** Entries of this run already in place (an earlier attempt created them). */
  ours: NaclEntryRef[];
  /** Identical deny entries someone else placed: done, and not Firebreak's to remove. */
  existing: NaclEntryRef[];
  /** The run's record of rule numbers as it must read once the entries exist. */
  record: string;
  recordNow?: string;
}
interface Facts {
  acls: AclPlan[];
}
export interface DenyOutput {
  /** Entries this run created: what undo removes. */
  created: NaclEntryRef[];
  /** Identical deny entries that were already in place (not Firebreak's, or an earlier run's): left alone by undo. */
  existing: NaclEntryRef[];
  networkAclIds: string[];
  subnetIds: string[];
  runTag: string;
}

const dirName = (egress: boolean) => (egress ? 'egress' : 'ingress');

/** Rule numbers and quota for one ACL; throws before any change when a rule cannot be placed. */
function planAcl(ctx: ActionContext, acl: AclView, input: Input): AclPlan {
  const runKey = `${RULES_TAG_PREFIX}${ctx.run.id}`;
  const recorded = parseRules(acl.tags.find((t) => t.Key === runKey)?.Value);
  const plan: AclPlan = { id: acl.id, subnetIds: acl.subnetIds, create: [], ours: [], existing: [], record: '' };
  const record = { ingress: [] as number[], egress: [] as number[] };
  for (const d of DIRECTIONS) {
    const entries = entriesOf(acl, d);
    const first = lowestAllow(acl, d);
    const used = new Set(entries.map((e) => e.RuleNumber!));
    let next = first - 1;
    for (const cidr of input.cidrs) {
      // Only a deny evaluated before the first allow takes effect: one numbered after it is shadowed.
      const same = entries.find((e) => deniesAll(e, cidr) && e.RuleNumber! < first);
      if (same) {
        const ref = { networkAclId: acl.id, egress: isEgress(d), ruleNumber: same.RuleNumber!, cidr };
        if (recorded[d].includes(same.RuleNumber!)) {
          plan.ours.push(ref);
          record[d].push(same.RuleNumber!);
        } else plan.existing.push(ref);
        continue;
      }
      while (next >= 1 && used.has(next)) next--;
      if (next < 1) {
        throw new ActionFailed(
          `failed to plan a deny entry for ${cidr} in ${acl.id} (${d}): no free rule number below the first allow rule ${first}`,
          'NoFreeRuleNumber',
          { hint: `renumber the allow rules of ${acl.id} so that numbers below ${first} are free (AWS evaluates the lowest number first)` },
        );
      }
      used.add(next);
      plan.create.push({ networkAclId: acl.id, egress: isEgress(d), ruleNumber: next, cidr });
      record[d].push(next);
    }
    const adding = plan.create.filter((c) => c.egress === isEgress(d)).length;
    if (entries.length + adding > input.ruleLimit) {
      throw new ActionFailed(
        `failed to plan deny entries in ${acl.id}: its ${d} rules would number ${entries.length + adding}, over the quota of ${input.ruleLimit} per direction (${entries.length} in place, ${adding} to add; the '*' rule does not count)`,
        'NetworkAclEntryLimitExceeded',
        { hint: `remove unused ${d} rules of ${acl.id}, deny fewer ranges, or raise the quota "Rules per network ACL" and set ruleLimit` },
      );
    }
  }
  plan.record = formatRules(record);
  const now = acl.tags.find((t) => t.Key === runKey)?.Value;
  if (now !== undefined) plan.recordNow = now;
  return plan;
}

export default defineAction<Input, DenyOutput, Facts>({
  id: 'ec2.deny-nacl-entries',
  summary:
    'Deny address ranges at the subnet edge: deny entries, both directions, ahead of the allow rules of the network ACL that governs each subnet',
  description: [
    'CC8: "add explicit deny NACL entries for the subnets in the VPC". Network ACLs are stateless and apply to every',
    "instance in a subnet, so a deny stops the attacker's ranges even from reaching instances that are not isolated.",
    '',
    "For each subnet (every interface's subnet of `instanceId`, or `subnetIds`) the ACL *associated* with it is changed:",
    "a subnet without an explicit association uses the VPC's default ACL, which then governs every such subnet. An ACL",
    'that is created but not associated with the subnet blocks nothing, however strict its rules look (VPC User Guide,',
    '"Network ACL associations"); Firebreak never creates one.',
    '',
    'Rules are evaluated from the lowest number and the first match decides, so each deny entry (all protocols, the range',
    'as source on ingress and destination on egress; IPv6 ranges in `Ipv6CidrBlock`) gets a free number just below the',
    'first allow rule of its direction, counting down. An identical deny already placed before the first allow means done.',
    'The quota (20 rules per direction by default, `ruleLimit`) is checked before any call, naming the ACL and direction.',
    `The rule numbers created are recorded on the ACL (\`${RULES_TAG_PREFIX}<run>\`) before they are created, so`,
    '`ec2.remove-nacl-entries` removes exactly them. A /0 range is refused: that is isolating the whole subnet.',
  ].join('\n'),
  controls: ['CC8', 'CC18'],
  input: Input,
  mutating: true,
  permissions: [
    'ec2:DescribeInstances',
    'ec2:DescribeNetworkInterfaces',
    'ec2:DescribeSubnets',
    'ec2:DescribeNetworkAcls',
    'ec2:CreateNetworkAclEntry',
    'ec2:CreateTags',
  ],
  targets: (i) =>
    (i.subnetIds ?? []).map((id) => ({ kind: 'subnet', id })).concat(i.instanceId ? [{ kind: 'instance', id: i.instanceId }] : []),

  async plan(ctx, input) {
    const dupes = input.cidrs.filter((c, i) => input.cidrs.findIndex((d) => sameCidr(c, d)) !== i);
    if (dupes.length) throw new InputError(`the range ${dupes[0]} is given twice`, { field: 'cidrs' });
    let subnetIds = input.subnetIds ?? [];
    if (input.instanceId) {
      const found = await subnetsOfInstance(ctx.aws.ec2, input.instanceId);
      ctx.guard.assertNotProtected(input.instanceId, found.instance.Tags);
      subnetIds = found.subnetIds;
    }
    const acls = await aclsForSubnets(ctx.aws.ec2, subnetIds);
    // A deny reaches every instance of a subnet: a protected subnet is refused as a protected instance is.
    for (const acl of acls) for (const [subnet, tags] of Object.entries(acl.subnetTags)) ctx.guard.assertNotProtected(subnet, tags);
    const plans = acls.map((acl) => planAcl(ctx, acl, input));
    const changes: Change[] = [];
    const notes: string[] = [];
    for (const p of plans) {
      const acl = acls.find((a) => a.id === p.id)!;
      for (const c of p.create)
        changes.push({
          resource: `${p.id} (${p.subnetIds.join(', ')})`,
          field: `${dirName(c.egress)} rule ${c.ruleNumber}`,
          before: null,
          after: `deny all ${c.cidr}`,
        });
      if (p.create.length && p.recordNow !== p.record)
        changes.push({ resource: p.id, field: `tag ${RULES_TAG_PREFIX}${ctx.run.id}`, before: p.recordNow ?? null, after: p.record });
      if (acl.isDefault)
        notes.push(
          `${p.id} is the default ACL of ${acl.vpcId}: it governs every subnet without an ACL of its own (${acl.governs} subnet(s)), not only ${p.subnetIds.join(', ')}`,
        );
      else if (acl.governs > p.subnetIds.length)
        notes.push(`${p.id} also governs ${acl.governs - p.subnetIds.length} other subnet(s): the deny applies there too`);
      for (const d of ['ingress', 'egress'] as Direction[]) {
        const shadowed = entriesOf(acl, d).filter(
          (e) => e.RuleAction === 'deny' && e.RuleNumber! > lowestAllow(acl, d) && input.cidrs.some((c) => deniesAll(e, c)),
        );
        for (const e of shadowed)
          notes.push(
            `${p.id} ${d} rule ${e.RuleNumber} already denies ${e.CidrBlock ?? e.Ipv6CidrBlock} but comes after allow rule ${lowestAllow(acl, d)}, so it never applies`,
          );
      }
    }
    for (const e of plans.flatMap((p) => p.existing))
      notes.push(`${e.networkAclId} ${dirName(e.egress)} rule ${e.ruleNumber} already denies ${e.cidr}`);
    return { changes, alreadyDone: changes.length === 0, notes, facts: { acls: plans } };
  },

  async apply(ctx, _input, plan) {
    const ec2 = ctx.aws.ec2;
    const runTag = `${RULES_TAG_PREFIX}${ctx.run.id}`;
    await Promise.all(
      plan.facts.acls.map(async (p) => {
        if (p.create.length === 0) return;
        // The record first: whatever happens next, undo knows which numbers are this run's.
        if (p.recordNow !== p.record)
          await ec2.send(new EC2.CreateTagsCommand({ Resources: [p.id], Tags: [{ Key: runTag, Value: p.record }] }));
        await Promise.all(p.create.map((c) => createEntry(ec2, c)));
      }),
    );
    return {
      created: plan.facts.acls.flatMap((p) => [...p.ours, ...p.create]),
      existing: plan.facts.acls.flatMap((p) => p.existing),
      networkAclIds: plan.facts.acls.map((p) => p.id),
      subnetIds: plan.facts.acls.flatMap((p) => p.subnetIds),
      runTag,
    };
  },

  async verify(ctx, _input, output) {
    if (output.networkAclIds.length === 0) return [];
    const out = await ctx.aws.ec2.send(new EC2.DescribeNetworkAclsCommand({ NetworkAclIds: output.networkAclIds }));
    const checks: Check[] = [];
    for (const ref of [...output.created, ...output.existing]) {
      const acl = out.NetworkAcls?.find((a) => a.NetworkAclId === ref.networkAclId);
      const entry = acl?.Entries?.find((e) => e.Egress === ref.egress && e.RuleNumber === ref.ruleNumber);
      const allows = (acl?.Entries ?? [])
        .filter((e) => e.Egress === ref.egress && e.RuleAction === 'allow' && e.RuleNumber !== STAR_RULE)
        .map((e) => e.RuleNumber!);
      const first = allows.length ? Math.min(...allows) : STAR_RULE;
      checks.push({
        name: `${ref.networkAclId} ${dirName(ref.egress)} rule ${ref.ruleNumber} denies ${ref.cidr} before every allow`,
        ok: !!entry && deniesAll(entry, ref.cidr) && ref.ruleNumber < first,
        detail: entry ? `${entry.RuleAction} ${entry.Protocol} ${entry.CidrBlock ?? entry.Ipv6CidrBlock}; first allow ${first}` : 'missing',
      });
    }
    return checks;
  },

  undo: {
    action: 'ec2.remove-nacl-entries',
    input: (out) => ({ entries: out.created, runTag: out.runTag }),
  },

  fallback: (i) => [
    `aws ec2 describe-network-acls --filters Name=association.subnet-id,Values=${i.subnetIds ?? '<subnet-id>'} --query 'NetworkAcls[].[NetworkAclId,Entries]'`,
    '# pick a free rule number below the lowest allow rule of each direction, then for each range:',
    'aws ec2 create-network-acl-entry --network-acl-id <acl-id> --ingress --rule-number <n> --protocol -1 --rule-action deny --cidr-block <cidr>',
    'aws ec2 create-network-acl-entry --network-acl-id <acl-id> --egress --rule-number <n> --protocol -1 --rule-action deny --cidr-block <cidr>',
    '# IPv6 ranges: --ipv6-cidr-block <cidr> instead of --cidr-block',
  ],
});

/**
 * Create one deny entry. The ACL is not locked by the run when it is reached through an instance,
 * so another change may have taken the number since the plan: the same deny there is the state
 * sought; anything else fails, naming the fix.
 */
async function createEntry(ec2: EC2Client, c: NaclEntryRef): Promise<void> {
  try {
    await ec2.send(
      new EC2.CreateNetworkAclEntryCommand({
        NetworkAclId: c.networkAclId,
        RuleNumber: c.ruleNumber,
        Egress: c.egress,
        Protocol: '-1',
        RuleAction: 'deny',
        ...cidrField(c.cidr),
      }),
    );
  } catch (err) {
    if (!isAwsError(err, 'NetworkAclEntryAlreadyExists')) throw err;
    const acl = (await ec2.send(new EC2.DescribeNetworkAclsCommand({ NetworkAclIds: [c.networkAclId] }))).NetworkAcls?.[0];
    const there = acl?.Entries?.find((e) => e.Egress === c.egress && e.RuleNumber === c.ruleNumber);
    if (there && deniesAll(there, c.cidr)) return;
    throw new ActionFailed(
      `failed to create ${dirName(c.egress)} rule ${c.ruleNumber} in ${c.networkAclId}: another change took that number since the plan`,
      'NetworkAclEntryAlreadyExists',
      {
        cause: err,
        hint: 'run the step again: it plans afresh and picks a free number',
      },
    );
  }
}
