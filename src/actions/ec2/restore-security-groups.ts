import * as z from 'zod';
import { defineAction, type Change } from '../define.js';
import { InstanceId, NetworkInterfaceId, sameSet, SecurityGroupId, TAG } from '../shared/ec2.js';
import { EC2 } from '../../cloud/sdk.js';

const Input = z.strictObject({
  instanceId: InstanceId,
  interfaces: z.array(z.strictObject({ networkInterfaceId: NetworkInterfaceId, groups: z.array(SecurityGroupId).min(1).max(16) })).min(1),
});
type Input = z.infer<typeof Input>;
type Output = { instanceId: string; interfaces: Array<{ networkInterfaceId: string; groups: string[]; previousGroups: string[] }> };

export default defineAction<Input, Output, { current: Record<string, string[]> }>({
  id: 'ec2.restore-security-groups',
  summary: 'Put each network interface of an instance back into the security groups it had before isolation',
  description:
    'The undo of `ec2.isolate-instance`. Each interface is changed with ModifyNetworkInterfaceAttribute; the isolation group itself is left in place (other isolated instances may use it).',
  controls: ['CC8'],
  input: Input,
  mutating: true,
  permissions: ['ec2:DescribeNetworkInterfaces', 'ec2:ModifyNetworkInterfaceAttribute', 'ec2:DeleteTags'],
  targets: (i) => [{ kind: 'instance', id: i.instanceId }],
  async plan(ctx, input) {
    const out = await ctx.aws.ec2.send(
      new EC2.DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: input.interfaces.map((i) => i.networkInterfaceId) }),
    );
    const current: Record<string, string[]> = {};
    for (const n of out.NetworkInterfaces ?? []) current[n.NetworkInterfaceId!] = (n.Groups ?? []).map((g) => g.GroupId!);
    const changes: Change[] = input.interfaces
      .filter((i) => !sameSet(current[i.networkInterfaceId] ?? [], i.groups))
      .map((i) => ({
        resource: `${input.instanceId} ${i.networkInterfaceId}`,
        field: 'security groups',
        before: current[i.networkInterfaceId] ?? [],
        after: i.groups,
      }));
    return { changes, alreadyDone: changes.length === 0, notes: [], facts: { current } };
  },
  async apply(ctx, input, plan) {
    const ec2 = ctx.aws.ec2;
    const todo = input.interfaces.filter((i) => !sameSet(plan.facts.current[i.networkInterfaceId] ?? [], i.groups));
    await Promise.all(
      todo.map((i) =>
        ec2.send(new EC2.ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: i.networkInterfaceId, Groups: i.groups })),
      ),
    );
    if (todo.length > 0) {
      // The tag recorded the pre-isolation groups; once restored it would mislead a later isolation.
      await ec2.send(new EC2.DeleteTagsCommand({ Resources: todo.map((i) => i.networkInterfaceId), Tags: [{ Key: TAG.originalGroups }] }));
    }
    return {
      instanceId: input.instanceId,
      interfaces: input.interfaces.map((i) => ({ ...i, previousGroups: plan.facts.current[i.networkInterfaceId] ?? [] })),
    };
  },
  async verify(ctx, input) {
    const out = await ctx.aws.ec2.send(
      new EC2.DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: input.interfaces.map((i) => i.networkInterfaceId) }),
    );
    return input.interfaces.map((i) => {
      const now = (out.NetworkInterfaces?.find((n) => n.NetworkInterfaceId === i.networkInterfaceId)?.Groups ?? []).map((g) => g.GroupId!);
      return { name: `${i.networkInterfaceId} in ${i.groups.join(',')}`, ok: sameSet(now, i.groups), detail: now.join(',') };
    });
  },
  fallback: () => ['aws ec2 modify-network-interface-attribute --network-interface-id <eni> --groups <sg-1> <sg-2>'],
});
