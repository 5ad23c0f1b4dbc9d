import type { EC2Client, IpPermission, SecurityGroup, Tag } from '@aws-sdk/client-ec2';
import * as z from 'zod';
import { isAwsError } from '../../core/errors.js';
import { defineAction, type ActionContext, type Change, type Check } from '../define.js';
import { describeInstance, InstanceId, sameSet, TAG, tagValue } from '../shared/ec2.js';
import { ec2Reads, once, stepTags, type TagStamp } from '../../cloud/batch.js';
import { incidentTagKey } from '../shared/incident-tags.js';
import { EC2 } from '../../cloud/sdk.js';

const Input = z.strictObject({
  instanceId: InstanceId,
  isolationGroupName: z.string().min(1).max(255).default('firebreak-isolation'),
  transitGroupName: z.string().min(1).max(255).default('firebreak-isolation-transit'),
});
type Input = z.infer<typeof Input>;

interface Iface {
  networkInterfaceId: string;
  deviceIndex: number;
  groups: string[];
  /** Groups before Firebreak first isolated it (from the ENI's tag, else the current groups). */
  originalGroups: string[];
  taggedOriginal: boolean;
}
interface Facts {
  vpcId: string;
  isolationGroupId?: string;
  isolationGroupRules: number;
  transitGroupId?: string;
  /** Allow-all rules the existing transit group lacks (all four for a group created now). */
  transitMissing?: AllowAllRule[];
  interfaces: Iface[];
  /** This run's incident already holds the instance (its tag is there). */
  instanceTagged: boolean;
  /** The tag holding it was written by this run (an earlier attempt, or the step's shared tag write): undo still releases it. */
  heldByThisRun?: boolean;
  /** When it was first isolated, if an incident already holds it. */
  isolatedAt?: string;
}
export interface IsolateOutput {
  instanceId: string;
  vpcId: string;
  isolationGroupId: string;
  interfaces: Array<{ networkInterfaceId: string; originalGroups: string[] }>;
  /** The incident whose tag this run added, and the run (absent when the incident already held the instance). */
  incident?: string;
  run?: string;
}

/**
 * The tags an apply writes: the original groups on each interface that swaps (so a later run knows
 * them), and the incident holding the instance with the time it was first isolated. The time is
 * stamped when the call is sent, so one value covers every instance of the call (in a fleet step,
 * the step's first swaps: see StepTags).
 */
function tagsToWrite(ctx: ActionContext, input: Input, f: Facts): Array<{ resource: string; tags: Tag[]; stamp?: TagStamp }> {
  return [
    ...swapping(f)
      .filter((i) => !i.taggedOriginal && i.originalGroups.length > 0)
      .map((i) => ({ resource: i.networkInterfaceId, tags: [{ Key: TAG.originalGroups, Value: i.originalGroups.join(',') }] })),
    ...(f.instanceTagged
      ? []
      : [
          {
            resource: input.instanceId,
            tags: [{ Key: incidentTagKey(ctx.run.incident), Value: ctx.run.id }],
            ...(f.isolatedAt ? {} : { stamp: { key: TAG.isolatedAt, now: () => ctx.clock.now() } }),
          },
        ]),
  ];
}

/** The interfaces not yet in the isolation group alone. */
const swapping = (f: Facts) => f.interfaces.filter((i) => !(f.isolationGroupId && sameSet(i.groups, [f.isolationGroupId])));

const ruleCount = (g: SecurityGroup | undefined) => (g?.IpPermissions?.length ?? 0) + (g?.IpPermissionsEgress?.length ?? 0);

/** One of the four rules that make the transit group allow everything: direction × address family. */
type AllowAllRule = { direction: 'ingress' | 'egress'; cidr: '0.0.0.0/0' | '::/0' };
const ALLOW_ALL_RULES: AllowAllRule[] = [
  { direction: 'ingress', cidr: '0.0.0.0/0' },
  { direction: 'ingress', cidr: '::/0' },
  { direction: 'egress', cidr: '0.0.0.0/0' },
  { direction: 'egress', cidr: '::/0' },
];
/** What a group AWS has just created lacks of them: it comes with the allow-all IPv4 egress rule. */
const ALLOW_ALL_BEYOND_DEFAULT = ALLOW_ALL_RULES.filter((r) => !(r.direction === 'egress' && r.cidr === '0.0.0.0/0'));

/**
 * The allow-all rules an existing transit group lacks. Its rules are checked, not assumed: a run
 * stopped between CreateSecurityGroup and the authorizations leaves a transit group that allows
 * nothing, and swapping through it would leave tracked connections alive.
 */
function missingAllowAll(g: SecurityGroup): AllowAllRule[] {
  const has = (perms: IpPermission[] | undefined, cidr: string) =>
    (perms ?? []).some(
      (p) =>
        p.IpProtocol === '-1' &&
        (cidr === '::/0' ? p.Ipv6Ranges?.some((r) => r.CidrIpv6 === cidr) : p.IpRanges?.some((r) => r.CidrIp === cidr)),
    );
  return ALLOW_ALL_RULES.filter((r) => !has(r.direction === 'ingress' ? g.IpPermissions : g.IpPermissionsEgress, r.cidr));
}

/** The group's id, and whether this call created it (false: another run or target did meanwhile). */
async function ensureGroup(
  ec2: EC2Client,
  vpcId: string,
  name: string,
  description: string,
  incident: string,
): Promise<{ id: string; created: boolean }> {
  try {
    const out = await ec2.send(
      new EC2.CreateSecurityGroupCommand({
        GroupName: name,
        Description: description,
        VpcId: vpcId,
        TagSpecifications: [
          {
            ResourceType: 'security-group',
            Tags: [
              { Key: TAG.managed, Value: 'true' },
              { Key: TAG.incident, Value: incident },
            ],
          },
        ],
      }),
    );
    return { id: out.GroupId!, created: true };
  } catch (err) {
    // Another run, or another target of this fleet step, created it between our read and this
    // call. Its rules are then unknown: the caller reads them instead of assuming a new group's.
    if (!isAwsError(err, 'InvalidGroup.Duplicate')) throw err;
    const found = await ec2.send(
      new EC2.DescribeSecurityGroupsCommand({
        Filters: [
          { Name: 'vpc-id', Values: [vpcId] },
          { Name: 'group-name', Values: [name] },
        ],
      }),
    );
    return { id: found.SecurityGroups![0]!.GroupId!, created: false };
  }
}

export default defineAction<Input, IsolateOutput, Facts>({
  id: 'ec2.isolate-instance',
  summary:
    'Isolate an EC2 instance: move every network interface into a security group with no rules, in two steps so tracked connections end',
  description: [
    'Moves each network interface of the instance into a per-VPC isolation security group that has no inbound and no outbound rules.',
    '',
    'Security groups are stateful: a connection that is *tracked* survives a change of security group, so swapping straight to',
    "a no-rules group leaves an attacker's open session alive. Flows are untracked only while the rules allow all traffic in both",
    'directions, so Firebreak first moves each interface to an allow-all "transit" group (flows become untracked) and then to the',
    'isolation group, which ends them (AWS Security Incident Response Guide; EC2 User Guide, "Security group connection tracking").',
    '',
    'Each interface is changed with ModifyNetworkInterfaceAttribute: ModifyInstanceAttribute cannot change the groups of an',
    'instance with more than one network interface. The original groups are tagged on each interface',
    `(\`${TAG.originalGroups}\`) and journaled, so \`firebreak undo\` restores them.`,
  ].join('\n'),
  controls: ['CC8', 'CC18'],
  input: Input,
  mutating: true,
  permissions: [
    'ec2:DescribeInstances',
    'ec2:DescribeNetworkInterfaces',
    'ec2:DescribeSecurityGroups',
    'ec2:CreateSecurityGroup',
    'ec2:AuthorizeSecurityGroupIngress',
    'ec2:AuthorizeSecurityGroupEgress',
    'ec2:RevokeSecurityGroupIngress',
    'ec2:RevokeSecurityGroupEgress',
    'ec2:ModifyNetworkInterfaceAttribute',
    'ec2:CreateTags',
  ],
  targets: (i) => [{ kind: 'instance', id: i.instanceId }],
  batchedPlan: true,

  async plan(ctx, input) {
    const ec2 = ctx.aws.ec2;
    // Independent reads in one round trip: the instance, its interfaces (with their tags, which
    // DescribeInstances omits) and any Firebreak groups that already exist. Batched: the targets
    // of a fleet step planned together share one call of each kind.
    const reads = ec2Reads(ec2);
    const [inst, enis, isoNamed, transitNamed] = await Promise.all([
      describeInstance(ec2, input.instanceId),
      reads.interfacesOf(input.instanceId),
      reads.groupsNamed(input.isolationGroupName),
      reads.groupsNamed(input.transitGroupName),
    ]);
    ctx.guard.assertNotProtected(input.instanceId, inst.Tags);
    const vpcId = inst.VpcId!;
    const inVpc = (name: string) => [...isoNamed, ...transitNamed].find((g) => g.VpcId === vpcId && g.GroupName === name);
    const iso = inVpc(input.isolationGroupName);
    const transit = inVpc(input.transitGroupName);
    const managed = new Set([iso?.GroupId, transit?.GroupId].filter(Boolean) as string[]);

    const interfaces: Iface[] = enis
      .map((n) => {
        const groupsNow = (n.Groups ?? []).map((g) => g.GroupId!);
        const tagged = tagValue(n.TagSet, TAG.originalGroups);
        const original = tagged ? tagged.split(',').filter(Boolean) : groupsNow.filter((g) => !managed.has(g));
        return {
          networkInterfaceId: n.NetworkInterfaceId!,
          deviceIndex: n.Attachment?.DeviceIndex ?? 0,
          groups: groupsNow,
          originalGroups: original,
          taggedOriginal: tagged !== undefined,
        };
      })
      .sort((a, b) => a.deviceIndex - b.deviceIndex);

    const changes: Change[] = [];
    const notes: string[] = [];
    const isoLabel = iso?.GroupId ?? `${input.isolationGroupName} (new)`;
    const pending = interfaces.filter((i) => !(iso && sameSet(i.groups, [iso.GroupId!])));
    if (!iso)
      changes.push({
        resource: vpcId,
        field: `security group ${input.isolationGroupName}`,
        before: null,
        after: 'created with no inbound and no outbound rules',
      });
    else if (ruleCount(iso) > 0) changes.push({ resource: iso.GroupId!, field: 'rules', before: `${ruleCount(iso)} rules`, after: 'none' });
    if (pending.length > 0 && !transit) {
      changes.push({
        resource: vpcId,
        field: `security group ${input.transitGroupName}`,
        before: null,
        after: 'created allowing all traffic (used for seconds, to untrack connections)',
      });
    }
    const transitMissing = pending.length > 0 && transit ? missingAllowAll(transit) : [];
    if (transitMissing.length > 0) {
      changes.push({
        resource: transit!.GroupId!,
        field: 'rules',
        before: `lacks ${transitMissing.map((r) => `${r.direction} ${r.cidr}`).join(', ')}`,
        after: 'allows all traffic (to untrack connections)',
      });
    }
    for (const i of pending) {
      changes.push({
        resource: `${input.instanceId} ${i.networkInterfaceId} (device ${i.deviceIndex})`,
        field: 'security groups',
        before: i.groups,
        after: [isoLabel],
      });
    }
    // A second incident adds its own tag: the first incident's stays, so either's responders find the instance.
    const incidentKey = incidentTagKey(ctx.run.incident);
    const isolatedAt = tagValue(inst.Tags, TAG.isolatedAt);
    const instanceTagged = tagValue(inst.Tags, incidentKey) !== undefined && isolatedAt !== undefined;
    const heldByThisRun = tagValue(inst.Tags, incidentKey) === ctx.run.id;
    if (!instanceTagged)
      changes.push({
        resource: input.instanceId,
        field: 'tags',
        before: null,
        after: { [incidentKey]: ctx.run.id, ...(isolatedAt ? {} : { [TAG.isolatedAt]: '(the time of apply)' }) },
      });
    if (interfaces.length > 1)
      notes.push(
        `${interfaces.length} network interfaces: each is changed on its own (ModifyInstanceAttribute fails for instances with several)`,
      );
    if (pending.length > 0)
      notes.push(
        'two-step swap: allow-all transit group first (tracked connections become untracked), then the isolation group, which ends them',
      );
    for (const i of interfaces)
      if (!i.taggedOriginal && i.originalGroups.length === 0)
        notes.push(`${i.networkInterfaceId}: original groups unknown (already in a Firebreak group, no ${TAG.originalGroups} tag)`);

    const facts: Facts = {
      vpcId,
      ...(iso ? { isolationGroupId: iso.GroupId! } : {}),
      isolationGroupRules: ruleCount(iso),
      ...(transit ? { transitGroupId: transit.GroupId! } : {}),
      ...(transitMissing.length ? { transitMissing } : {}),
      interfaces,
      instanceTagged,
      ...(heldByThisRun ? { heldByThisRun } : {}),
      ...(isolatedAt ? { isolatedAt } : {}),
    };
    // In a fleet step the tags are written once for the step, from every target's plan (StepTags).
    if (ctx.step) {
      const shared = stepTags(ec2, ctx.step);
      for (const t of tagsToWrite(ctx, input, facts)) shared.need(t.resource, t.tags, t.stamp);
    }
    return { changes, alreadyDone: changes.length === 0, notes, facts };
  },

  async apply(ctx, input, plan) {
    const ec2 = ctx.aws.ec2;
    const reads = ec2Reads(ec2);
    const f = plan.facts;
    const pending = swapping(f);
    // Tags go out at once, beside the group work and the transit swap: the original groups are in
    // the journal (the plan's changes) before this first write, so the swap need not wait for the
    // tag that records them on the interface. In a fleet step, one write for the whole step; alone,
    // targets tagged alike within a batch window share one CreateTags.
    const toWrite = tagsToWrite(ctx, input, f);
    const tags = ctx.step
      ? stepTags(ec2, ctx.step).written(toWrite.map((t) => t.resource))
      : Promise.all(toWrite.map((t) => reads.tag(t.resource, t.tags, t.stamp)));
    // The groups of a VPC are made ready once per run, however many targets need them: the
    // first target's flight creates (or fixes) them, the others wait for it (no duplicate errors).
    const [iso, transit] = await Promise.all([
      f.isolationGroupId
        ? f.isolationGroupRules === 0
          ? f.isolationGroupId
          : once(ec2, `strip ${f.isolationGroupId}`, { remember: false }, async () => {
              await stripRules(ec2, f.isolationGroupId!, f.isolationGroupRules);
              return f.isolationGroupId!;
            })
        : once(ec2, `group ${f.vpcId} ${input.isolationGroupName}`, { remember: true }, async () => {
            const g = await ensureGroup(
              ec2,
              f.vpcId,
              input.isolationGroupName,
              'Firebreak isolation: no inbound, no outbound',
              ctx.run.incident,
            );
            await stripRules(ec2, g.id, g.created ? 'new' : 'unknown');
            return g.id;
          }),
      pending.length === 0
        ? undefined
        : f.transitGroupId
          ? (f.transitMissing ?? []).length === 0
            ? f.transitGroupId
            : once(ec2, `allow ${f.transitGroupId}`, { remember: false }, async () => {
                await allowAll(ec2, f.transitGroupId!, f.transitMissing ?? []);
                return f.transitGroupId!;
              })
          : once(ec2, `group ${f.vpcId} ${input.transitGroupName}`, { remember: true }, async () => {
              const g = await ensureGroup(
                ec2,
                f.vpcId,
                input.transitGroupName,
                'Firebreak isolation transit: allows all so tracked flows become untracked',
                ctx.run.incident,
              );
              // A transit group created now has AWS's default IPv4 egress rule and nothing else;
              // one created meanwhile by someone else has rules unknown.
              await allowAll(ec2, g.id, g.created ? ALLOW_ALL_BEYOND_DEFAULT : ALLOW_ALL_RULES);
              return g.id;
            }),
    ]);
    await Promise.all([
      tags,
      ...pending.map(async (i) => {
        await ec2.send(new EC2.ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: i.networkInterfaceId, Groups: [transit!] }));
        await ec2.send(new EC2.ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: i.networkInterfaceId, Groups: [iso] }));
      }),
    ]);
    return {
      instanceId: input.instanceId,
      vpcId: f.vpcId,
      isolationGroupId: iso,
      interfaces: f.interfaces.map((i) => ({ networkInterfaceId: i.networkInterfaceId, originalGroups: i.originalGroups })),
      ...(f.instanceTagged && !f.heldByThisRun ? {} : { incident: ctx.run.incident, run: ctx.run.id }),
    };
  },

  async verify(ctx, _input, output) {
    const reads = ec2Reads(ctx.aws.ec2);
    const [enis, iso] = await Promise.all([reads.interfacesOf(output.instanceId), reads.group(output.isolationGroupId)]);
    const checks: Check[] = output.interfaces.map((i) => {
      const n = enis.find((e) => e.NetworkInterfaceId === i.networkInterfaceId);
      const g = (n?.Groups ?? []).map((x) => x.GroupId!);
      return {
        name: `${i.networkInterfaceId} only in ${output.isolationGroupId}`,
        ok: n !== undefined && sameSet(g, [output.isolationGroupId]),
        detail: n ? g.join(',') : 'no longer attached',
      };
    });
    checks.push({ name: `${output.isolationGroupId} has no rules`, ok: ruleCount(iso) === 0, detail: `${ruleCount(iso)} rules` });
    return checks;
  },

  undo: {
    action: 'ec2.restore-security-groups',
    input: (out) => ({
      instanceId: out.instanceId,
      interfaces: out.interfaces
        .filter((i) => i.originalGroups.length > 0)
        .map((i) => ({ networkInterfaceId: i.networkInterfaceId, groups: i.originalGroups })),
      ...(out.incident && out.run ? { release: { incident: out.incident, run: out.run } } : {}),
    }),
  },

  fallback: (i) => [
    `aws ec2 describe-network-interfaces --filters Name=attachment.instance-id,Values=${i.instanceId} --query 'NetworkInterfaces[].[NetworkInterfaceId,Groups[].GroupId]'`,
    `aws ec2 create-security-group --group-name firebreak-isolation --description "isolation: no rules" --vpc-id <vpc-id>`,
    `aws ec2 revoke-security-group-egress --group-id <isolation-sg> --ip-permissions IpProtocol=-1,IpRanges=[{CidrIp=0.0.0.0/0}]`,
    `aws ec2 create-security-group --group-name firebreak-isolation-transit --description "allow-all transit" --vpc-id <vpc-id>`,
    `aws ec2 authorize-security-group-ingress --group-id <transit-sg> --ip-permissions 'IpProtocol=-1,IpRanges=[{CidrIp=0.0.0.0/0}],Ipv6Ranges=[{CidrIpv6=::/0}]'`,
    `aws ec2 authorize-security-group-egress --group-id <transit-sg> --ip-permissions 'IpProtocol=-1,Ipv6Ranges=[{CidrIpv6=::/0}]'`,
    `# for each interface: first the transit group, then the isolation group`,
    `aws ec2 modify-network-interface-attribute --network-interface-id <eni> --groups <transit-sg>`,
    `aws ec2 modify-network-interface-attribute --network-interface-id <eni> --groups <isolation-sg>`,
  ],
});

async function stripRules(ec2: EC2Client, groupId: string, knownRules: number | 'new' | 'unknown'): Promise<void> {
  if (knownRules === 0) return;
  // Another target of the same fleet step (or another run) may revoke the same rule at the same
  // moment: a rule already gone is the goal. Outside a default VPC AWS answers
  // InvalidPermission.NotFound for it (in a default VPC, success listing UnknownIpPermissions).
  let raced = false;
  const gone = (e: unknown) => {
    if (!isAwsError(e, 'InvalidPermission.NotFound')) throw e;
    raced = true;
  };
  if (knownRules === 'new') {
    // A group AWS just created has exactly one rule, the default allow-all IPv4 egress: revoke it
    // without reading the group first (one round trip fewer on the way to isolation).
    await ec2
      .send(
        new EC2.RevokeSecurityGroupEgressCommand({
          GroupId: groupId,
          IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
        }),
      )
      .catch(gone);
    return;
  }
  // An existing group may have been edited. A revoke names several rules and fails whole when one
  // is already gone, so after such a race the group is read again (at most three passes).
  const strip = (p: IpPermission) => ({
    IpProtocol: p.IpProtocol,
    FromPort: p.FromPort,
    ToPort: p.ToPort,
    IpRanges: p.IpRanges,
    Ipv6Ranges: p.Ipv6Ranges,
    PrefixListIds: p.PrefixListIds,
    UserIdGroupPairs: p.UserIdGroupPairs,
  });
  for (let pass = 0; pass < 3; pass++) {
    raced = false;
    const g = (await ec2.send(new EC2.DescribeSecurityGroupsCommand({ GroupIds: [groupId] }))).SecurityGroups?.[0];
    if (!g?.IpPermissions?.length && !g?.IpPermissionsEgress?.length) return;
    await Promise.all([
      g.IpPermissions?.length
        ? ec2.send(new EC2.RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: g.IpPermissions.map(strip) })).catch(gone)
        : undefined,
      g.IpPermissionsEgress?.length
        ? ec2
            .send(new EC2.RevokeSecurityGroupEgressCommand({ GroupId: groupId, IpPermissions: g.IpPermissionsEgress.map(strip) }))
            .catch(gone)
        : undefined,
    ]);
    if (!raced) return;
  }
}

/**
 * Add the given allow-all rules, one call per rule, all at once (one round trip). AWS refuses a
 * whole call when any rule in it exists (InvalidPermission.Duplicate): with one rule per call a
 * duplicate means exactly that rule is there already (another run added it meanwhile).
 */
async function allowAll(ec2: EC2Client, groupId: string, rules: readonly AllowAllRule[]): Promise<void> {
  await Promise.all(
    rules.map((r) => {
      const IpPermissions: IpPermission[] = [
        r.cidr === '::/0' ? { IpProtocol: '-1', Ipv6Ranges: [{ CidrIpv6: r.cidr }] } : { IpProtocol: '-1', IpRanges: [{ CidrIp: r.cidr }] },
      ];
      const call =
        r.direction === 'ingress'
          ? ec2.send(new EC2.AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions }))
          : ec2.send(new EC2.AuthorizeSecurityGroupEgressCommand({ GroupId: groupId, IpPermissions }));
      return call.catch((e: unknown) => {
        if (!isAwsError(e, 'InvalidPermission.Duplicate')) throw e;
      });
    }),
  );
}
