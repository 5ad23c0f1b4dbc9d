import type { NetworkAcl } from '@aws-sdk/client-ec2';
import * as z from 'zod';
import { isAwsError } from '../../core/errors.js';
import { defineAction, type Change, type Check } from '../define.js';
import { DenyCidr } from '../shared/cidr.js';
import { InstanceId, SubnetId } from '../shared/ec2.js';
import {
  aclsForSubnets,
  deniesAll,
  formatRules,
  parseRules,
  RULES_TAG_PREFIX,
  subnetsOfInstance,
  type AclView,
  type RuleRecord,
} from '../shared/nacl.js';
import { EC2 } from '../../cloud/sdk.js';

const AclId = z.string().regex(/^acl-[0-9a-f]{8,17}$/, 'a network ACL id such as acl-0123456789abcdef0');
const Entry = z.strictObject({ networkAclId: AclId, egress: z.boolean(), ruleNumber: z.number().int().min(1).max(32766), cidr: DenyCidr });

const Input = z
  .strictObject({
    /** Exactly these entries (the undo of one deny step). */
    entries: z.array(Entry).max(400).optional(),
    /** The tag that recorded them: `firebreak:deny-rules:<run>`. */
    runTag: z.string().startsWith(RULES_TAG_PREFIX).optional(),
    /** Or: the ranges to stop denying, in the ACLs of these subnets (or every subnet of the instance). */
    cidrs: z.array(DenyCidr).min(1).max(10).optional(),
    instanceId: InstanceId.optional(),
    subnetIds: z.array(SubnetId).min(1).max(50).optional(),
  })
  .refine((i) => (i.entries !== undefined) !== (i.cidrs !== undefined), {
    message: 'give either entries (from a deny step) or cidrs with instanceId or subnetIds',
  })
  .refine((i) => i.cidrs === undefined || (i.instanceId === undefined) !== (i.subnetIds === undefined), {
    message: 'with cidrs, give either instanceId or subnetIds',
  });
type Input = z.infer<typeof Input>;

type Ref = z.infer<typeof Entry>;
interface TagUpdate {
  networkAclId: string;
  key: string;
  /** The record once the entries are gone; undefined: delete the tag. */
  value?: string;
}
interface Facts {
  remove: Ref[];
  tags: TagUpdate[];
}

const dirName = (egress: boolean) => (egress ? 'egress' : 'ingress');

function without(rec: RuleRecord, gone: Ref[], aclId: string): RuleRecord {
  const drop = (egress: boolean) => (n: number) => !gone.some((g) => g.networkAclId === aclId && g.egress === egress && g.ruleNumber === n);
  return { ingress: rec.ingress.filter(drop(false)), egress: rec.egress.filter(drop(true)) };
}

function tagUpdate(aclId: string, key: string, rec: RuleRecord, gone: Ref[]): TagUpdate | undefined {
  if (!gone.some((g) => g.networkAclId === aclId)) return undefined;
  const rest = formatRules(without(rec, gone, aclId));
  return rest ? { networkAclId: aclId, key, value: rest } : { networkAclId: aclId, key };
}

export default defineAction<Input, { removed: Ref[]; left: Ref[] }, Facts>({
  id: 'ec2.remove-nacl-entries',
  summary: 'Remove the deny entries Firebreak added to network ACLs, and only those',
  description: [
    'The undo of `ec2.deny-nacl-entries`: deletes exactly the recorded rule numbers, and each only while it still is the deny',
    'entry that was created (all protocols, the same range). An entry someone has since replaced or renumbered is left alone',
    'and named in the plan. With `cidrs` (and `instanceId` or `subnetIds`) instead of `entries`, it removes the deny entries for',
    `those ranges that any Firebreak run recorded (\`${RULES_TAG_PREFIX}<run>\` tags) in the ACLs governing the subnets —`,
    'entries people added by hand are never removed. The record tags are updated to match.',
  ].join('\n'),
  controls: ['CC8'],
  input: Input,
  mutating: true,
  permissions: [
    'ec2:DescribeInstances',
    'ec2:DescribeNetworkInterfaces',
    'ec2:DescribeSubnets',
    'ec2:DescribeNetworkAcls',
    'ec2:DeleteNetworkAclEntry',
    'ec2:CreateTags',
    'ec2:DeleteTags',
  ],
  targets: (i) =>
    [...new Set((i.entries ?? []).map((e) => e.networkAclId))]
      .map((id) => ({ kind: 'network-acl', id }))
      .concat((i.subnetIds ?? []).map((id) => ({ kind: 'subnet', id })))
      .concat(i.instanceId ? [{ kind: 'instance', id: i.instanceId }] : []),

  async plan(ctx, input) {
    const remove: Ref[] = [];
    const tags: TagUpdate[] = [];
    const notes: string[] = [];
    if (input.entries) {
      const ids = [...new Set(input.entries.map((e) => e.networkAclId))];
      // A filter rather than NetworkAclIds: an ACL deleted since simply has nothing left to remove.
      const out = ids.length
        ? await ctx.aws.ec2.send(new EC2.DescribeNetworkAclsCommand({ Filters: [{ Name: 'network-acl-id', Values: ids }] }))
        : { NetworkAcls: [] as NetworkAcl[] };
      for (const ref of input.entries) {
        const acl = out.NetworkAcls?.find((a) => a.NetworkAclId === ref.networkAclId);
        const entry = acl?.Entries?.find((e) => e.Egress === ref.egress && e.RuleNumber === ref.ruleNumber);
        if (entry && deniesAll(entry, ref.cidr)) remove.push(ref);
        else if (entry)
          notes.push(
            `${ref.networkAclId} ${dirName(ref.egress)} rule ${ref.ruleNumber} is no longer the deny of ${ref.cidr} (now ${entry.RuleAction} ${entry.Protocol} ${entry.CidrBlock ?? entry.Ipv6CidrBlock}): left alone`,
          );
      }
      // The record forgets every entry of this undo: removed now, gone already, or replaced by someone.
      for (const acl of out.NetworkAcls ?? []) {
        const tag = input.runTag ? acl.Tags?.find((t) => t.Key === input.runTag) : undefined;
        const u = tag ? tagUpdate(acl.NetworkAclId!, tag.Key!, parseRules(tag.Value), input.entries) : undefined;
        if (u && u.value !== tag!.Value) tags.push(u);
      }
    } else {
      let subnetIds = input.subnetIds ?? [];
      if (input.instanceId) {
        const found = await subnetsOfInstance(ctx.aws.ec2, input.instanceId);
        ctx.guard.assertNotProtected(input.instanceId, found.instance.Tags);
        subnetIds = found.subnetIds;
      }
      const acls: AclView[] = await aclsForSubnets(ctx.aws.ec2, subnetIds);
      for (const acl of acls) {
        const gone: Ref[] = [];
        const records = acl.tags.filter((t) => t.Key?.startsWith(RULES_TAG_PREFIX));
        for (const t of records) {
          const rec = parseRules(t.Value);
          for (const [egress, numbers] of [
            [false, rec.ingress],
            [true, rec.egress],
          ] as const) {
            for (const n of numbers) {
              const entry = acl.entries.find((e) => e.Egress === egress && e.RuleNumber === n);
              const cidr = input.cidrs!.find((c) => entry && deniesAll(entry, c));
              if (cidr && !gone.some((g) => g.egress === egress && g.ruleNumber === n))
                gone.push({ networkAclId: acl.id, egress, ruleNumber: n, cidr });
            }
          }
        }
        remove.push(...gone);
        for (const t of records) {
          const u = tagUpdate(acl.id, t.Key!, parseRules(t.Value), gone);
          if (u && u.value !== t.Value) tags.push(u);
        }
      }
      if (remove.length === 0)
        notes.push(`no deny entry recorded by Firebreak for ${input.cidrs!.join(', ')} in ${acls.map((a) => a.id).join(', ')}`);
    }
    const changes: Change[] = remove.map((r) => ({
      resource: r.networkAclId,
      field: `${dirName(r.egress)} rule ${r.ruleNumber}`,
      before: `deny all ${r.cidr}`,
      after: null,
    }));
    for (const t of tags) changes.push({ resource: t.networkAclId, field: `tag ${t.key}`, before: 'present', after: t.value ?? null });
    return { changes, alreadyDone: changes.length === 0, notes, facts: { remove, tags } };
  },

  async apply(ctx, input, plan) {
    const ec2 = ctx.aws.ec2;
    await Promise.all(
      plan.facts.remove.map((r) =>
        ec2
          .send(new EC2.DeleteNetworkAclEntryCommand({ NetworkAclId: r.networkAclId, Egress: r.egress, RuleNumber: r.ruleNumber }))
          .catch((err) => {
            // Gone between plan and apply (someone else removed it): the state sought is reached.
            if (!isAwsError(err, 'InvalidNetworkAclEntry.NotFound')) throw err;
          }),
      ),
    );
    // Records last, so a failure above leaves them naming what is still there.
    await Promise.all(
      plan.facts.tags.map((t) =>
        t.value === undefined
          ? ec2.send(new EC2.DeleteTagsCommand({ Resources: [t.networkAclId], Tags: [{ Key: t.key }] }))
          : ec2.send(new EC2.CreateTagsCommand({ Resources: [t.networkAclId], Tags: [{ Key: t.key, Value: t.value }] })),
      ),
    );
    const removed = plan.facts.remove;
    const left = (input.entries ?? []).filter(
      (e) => !removed.some((r) => r.networkAclId === e.networkAclId && r.egress === e.egress && r.ruleNumber === e.ruleNumber),
    );
    return { removed, left };
  },

  async verify(ctx, _input, output) {
    const ids = [...new Set(output.removed.map((r) => r.networkAclId))];
    if (ids.length === 0) return [];
    const out = await ctx.aws.ec2.send(new EC2.DescribeNetworkAclsCommand({ Filters: [{ Name: 'network-acl-id', Values: ids }] }));
    const checks: Check[] = output.removed.map((r) => {
      const entry = out.NetworkAcls?.find((a) => a.NetworkAclId === r.networkAclId)?.Entries?.find(
        (e) => e.Egress === r.egress && e.RuleNumber === r.ruleNumber,
      );
      return {
        name: `${r.networkAclId} ${dirName(r.egress)} rule ${r.ruleNumber} no longer denies ${r.cidr}`,
        ok: !entry || !deniesAll(entry, r.cidr),
        detail: entry ? `${entry.RuleAction} ${entry.CidrBlock ?? entry.Ipv6CidrBlock}` : 'removed',
      };
    });
    return checks;
  },

  fallback: () => [
    'aws ec2 describe-network-acls --network-acl-ids <acl-id> --query "NetworkAcls[].Tags"   # firebreak:deny-rules:<run> lists the rule numbers',
    'aws ec2 delete-network-acl-entry --network-acl-id <acl-id> --ingress --rule-number <n>',
    'aws ec2 delete-network-acl-entry --network-acl-id <acl-id> --egress --rule-number <n>',
  ],
});
