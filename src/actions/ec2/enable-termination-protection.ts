import * as z from 'zod';
import { defineAction } from '../define.js';
import { describeInstance, InstanceId } from '../shared/ec2.js';
import {
  checkTerminationProtection,
  planTerminationProtection,
  setTerminationProtection,
  terminationProtectionFallback,
  terminationProtectionOf,
} from '../shared/termination-protection.js';

const Input = z.strictObject({ instanceId: InstanceId });

export default defineAction({
  id: 'ec2.enable-termination-protection',
  summary: 'Turn on termination protection so the instance (and its evidence) cannot be terminated through the API',
  description:
    'Sets `DisableApiTermination`. It stops TerminateInstances from the API and console; it does not stop an Auto Scaling group from terminating the instance, which is why the containment playbook also detaches it from its group.',
  controls: ['CC8'],
  input: Input,
  mutating: true,
  permissions: ['ec2:DescribeInstances', 'ec2:DescribeInstanceAttribute', 'ec2:ModifyInstanceAttribute'],
  targets: (i) => [{ kind: 'instance', id: i.instanceId }],
  async plan(ctx, input) {
    const inst = await describeInstance(ctx.aws.ec2, input.instanceId);
    ctx.guard.assertNotProtected(input.instanceId, inst.Tags);
    return planTerminationProtection(input.instanceId, await terminationProtectionOf(ctx.aws.ec2, input.instanceId), true);
  },
  apply: (ctx, input, plan) => setTerminationProtection(ctx.aws.ec2, input.instanceId, plan.facts.current, true),
  verify: (ctx, input) => checkTerminationProtection(ctx.aws.ec2, input.instanceId, true),
  undo: { action: 'ec2.disable-termination-protection', input: (out) => ({ instanceId: out.instanceId }) },
  fallback: (i) => terminationProtectionFallback(i.instanceId, true),
});
