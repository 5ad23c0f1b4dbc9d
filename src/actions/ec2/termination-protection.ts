/** Termination protection on and off: two actions from one definition, each the other's undo. */
import * as z from 'zod';
import { defineAction } from '../define.js';
import { describeInstance, InstanceId } from './common.js';
import { EC2 } from '../../cloud/sdk.js';

const Input = z.strictObject({ instanceId: InstanceId });
type Input = z.infer<typeof Input>;

function terminationProtection(enabled: boolean) {
  return defineAction<Input, { instanceId: string; previous: boolean }, { current: boolean }>({
    id: enabled ? 'ec2.enable-termination-protection' : 'ec2.disable-termination-protection',
    summary: enabled
      ? 'Turn on termination protection so the instance (and its evidence) cannot be terminated through the API'
      : 'Turn termination protection off again',
    description: enabled
      ? 'Sets `DisableApiTermination`. It stops TerminateInstances from the API and console; it does not stop an Auto Scaling group from terminating the instance, which is why the containment playbook also detaches it from its group.'
      : undefined,
    controls: ['CC8'],
    input: Input,
    mutating: true,
    permissions: ['ec2:DescribeInstances', 'ec2:DescribeInstanceAttribute', 'ec2:ModifyInstanceAttribute'],
    targets: (i) => [{ kind: 'instance', id: i.instanceId }],
    async plan(ctx, input) {
      const inst = await describeInstance(ctx.aws.ec2, input.instanceId);
      if (enabled) ctx.guard.assertNotProtected(input.instanceId, inst.Tags);
      const attr = await ctx.aws.ec2.send(
        new EC2.DescribeInstanceAttributeCommand({ InstanceId: input.instanceId, Attribute: 'disableApiTermination' }),
      );
      const current = attr.DisableApiTermination?.Value === true;
      const changes =
        current === enabled ? [] : [{ resource: input.instanceId, field: 'DisableApiTermination', before: current, after: enabled }];
      return { changes, alreadyDone: changes.length === 0, notes: [], facts: { current } };
    },
    async apply(ctx, input, plan) {
      if (plan.facts.current !== enabled) {
        await ctx.aws.ec2.send(
          new EC2.ModifyInstanceAttributeCommand({ InstanceId: input.instanceId, DisableApiTermination: { Value: enabled } }),
        );
      }
      return { instanceId: input.instanceId, previous: plan.facts.current };
    },
    async verify(ctx, input) {
      const attr = await ctx.aws.ec2.send(
        new EC2.DescribeInstanceAttributeCommand({ InstanceId: input.instanceId, Attribute: 'disableApiTermination' }),
      );
      const v = attr.DisableApiTermination?.Value === true;
      return [{ name: `termination protection ${enabled ? 'on' : 'off'}`, ok: v === enabled, detail: String(v) }];
    },
    undo: {
      action: enabled ? 'ec2.disable-termination-protection' : 'ec2.enable-termination-protection',
      input: (out) => ({ instanceId: out.instanceId }),
    },
    fallback: (i) => [
      `aws ec2 modify-instance-attribute --instance-id ${i.instanceId ?? '<instance-id>'} --${enabled ? '' : 'no-'}disable-api-termination`,
    ],
  });
}

export const enableTerminationProtection = terminationProtection(true);
export const disableTerminationProtection = terminationProtection(false);
