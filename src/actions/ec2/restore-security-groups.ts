import type { Tag } from '@aws-sdk/client-ec2';
import * as z from 'zod';
import { defineAction, type Change } from '../define.js';
import { describeInstance, InstanceId, NetworkInterfaceId, sameSet, SecurityGroupId, TAG, tagValue } from '../shared/ec2.js';
import { holders, incidentTagKey } from '../shared/incident-tags.js';
import { EC2 } from '../../cloud/sdk.js';

const Input = z.strictObject({
  instanceId: InstanceId,
  interfaces: z.array(z.strictObject({ networkInterfaceId: NetworkInterfaceId, groups: z.array(SecurityGroupId).min(1).max(16) })),
  /** The incident (and run) whose isolation this undoes: its tag comes off; the groups stay while another incident holds the instance. */
  release: z.strictObject({ incident: z.string().min(1), run: z.string().min(1) }).optional(),
});
type Input = z.infer<typeof Input>;
type Output = {
  instanceId: string;
  interfaces: Array<{ networkInterfaceId: string; groups: string[]; previousGroups: string[] }>;
  /** Tags taken off the instance. */
  removedTags?: string[];
  /** Other incidents still holding the instance: it stayed isolated. */
  keptFor?: string[];
};
interface Facts {
  current: Record<string, string[]>;
  removeTags: string[];
  keptFor: string[];
}

/** Which of the run's tags come off, and who else still holds the instance. */
function release(tags: Tag[] | undefined, r: NonNullable<Input['release']>): { removeTags: string[]; keptFor: string[] } {
  const own = incidentTagKey(r.incident);
  const others = holders(tags, own);
  // Another run of the same incident may have isolated it first: that run's tag is its to remove.
  const removeTags = tagValue(tags, own) === r.run ? [own] : [];
  if (others.length === 0 && tagValue(tags, TAG.isolatedAt) !== undefined) removeTags.push(TAG.isolatedAt);
  return { removeTags, keptFor: others.map((h) => `${h.key.slice(TAG.incident.length + 1)} (run ${h.run})`) };
}

export default defineAction<Input, Output, Facts>({
  id: 'ec2.restore-security-groups',
  summary: 'Put each network interface of an instance back into the security groups it had before isolation',
  description: [
    'The undo of `ec2.isolate-instance`. Each interface is changed with ModifyNetworkInterfaceAttribute; the isolation group itself',
    'is left in place (other isolated instances may use it). The incident tag the isolation added comes off, and `firebreak:isolated-at`',
    'with the last one. While another incident still holds the instance (its `firebreak:incident:<id>` tag), only this incident',
    "tag comes off and the instance stays isolated: the last incident's undo releases it.",
  ].join('\n'),
  controls: ['CC8'],
  input: Input,
  mutating: true,
  permissions: ['ec2:DescribeInstances', 'ec2:DescribeNetworkInterfaces', 'ec2:ModifyNetworkInterfaceAttribute', 'ec2:DeleteTags'],
  targets: (i) => [{ kind: 'instance', id: i.instanceId }],
  async plan(ctx, input) {
    const ec2 = ctx.aws.ec2;
    // An empty NetworkInterfaceIds would list every interface of the account.
    const [out, inst] = await Promise.all([
      input.interfaces.length
        ? ec2.send(new EC2.DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: input.interfaces.map((i) => i.networkInterfaceId) }))
        : { NetworkInterfaces: [] },
      input.release ? describeInstance(ec2, input.instanceId) : undefined,
    ]);
    const current: Record<string, string[]> = {};
    for (const n of out.NetworkInterfaces ?? []) current[n.NetworkInterfaceId!] = (n.Groups ?? []).map((g) => g.GroupId!);
    const { removeTags, keptFor } = input.release ? release(inst?.Tags, input.release) : { removeTags: [], keptFor: [] };
    const notes: string[] = [];
    const changes: Change[] = [];
    if (keptFor.length > 0) notes.push(`kept isolated: incident ${keptFor.join(', ')} still holds ${input.instanceId}`);
    else
      changes.push(
        ...input.interfaces
          .filter((i) => !sameSet(current[i.networkInterfaceId] ?? [], i.groups))
          .map((i) => ({
            resource: `${input.instanceId} ${i.networkInterfaceId}`,
            field: 'security groups',
            before: current[i.networkInterfaceId] ?? [],
            after: i.groups,
          })),
      );
    if (removeTags.length > 0)
      changes.push({
        resource: input.instanceId,
        field: 'tags',
        before: Object.fromEntries(removeTags.map((k) => [k, tagValue(inst?.Tags, k)])),
        after: null,
      });
    return { changes, alreadyDone: changes.length === 0, notes, facts: { current, removeTags, keptFor } };
  },
  async apply(ctx, input, plan) {
    const ec2 = ctx.aws.ec2;
    const { current, removeTags, keptFor } = plan.facts;
    const todo = keptFor.length > 0 ? [] : input.interfaces.filter((i) => !sameSet(current[i.networkInterfaceId] ?? [], i.groups));
    await Promise.all(
      todo.map((i) =>
        ec2.send(new EC2.ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: i.networkInterfaceId, Groups: i.groups })),
      ),
    );
    await Promise.all([
      // The tag recorded the pre-isolation groups; once restored it would mislead a later isolation.
      todo.length > 0
        ? ec2.send(new EC2.DeleteTagsCommand({ Resources: todo.map((i) => i.networkInterfaceId), Tags: [{ Key: TAG.originalGroups }] }))
        : undefined,
      removeTags.length > 0
        ? ec2.send(new EC2.DeleteTagsCommand({ Resources: [input.instanceId], Tags: removeTags.map((Key) => ({ Key })) }))
        : undefined,
    ]);
    return {
      instanceId: input.instanceId,
      interfaces: input.interfaces.map((i) => ({ ...i, previousGroups: current[i.networkInterfaceId] ?? [] })),
      ...(removeTags.length ? { removedTags: removeTags } : {}),
      ...(keptFor.length ? { keptFor } : {}),
    };
  },
  async verify(ctx, input, output) {
    if (output.keptFor?.length || input.interfaces.length === 0) return [];
    const out = await ctx.aws.ec2.send(
      new EC2.DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: input.interfaces.map((i) => i.networkInterfaceId) }),
    );
    return input.interfaces.map((i) => {
      const now = (out.NetworkInterfaces?.find((n) => n.NetworkInterfaceId === i.networkInterfaceId)?.Groups ?? []).map((g) => g.GroupId!);
      return { name: `${i.networkInterfaceId} in ${i.groups.join(',')}`, ok: sameSet(now, i.groups), detail: now.join(',') };
    });
  },
  fallback: () => [
    'aws ec2 modify-network-interface-attribute --network-interface-id <eni> --groups <sg-1> <sg-2>',
    'aws ec2 delete-tags --resources <instance-id> --tags Key=firebreak:incident:<incident> Key=firebreak:isolated-at',
  ],
});
