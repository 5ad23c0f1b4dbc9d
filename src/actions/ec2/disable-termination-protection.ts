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
  id: 'ec2.disable-termination-protection',
  summary: 'Turn termination protection off again',
  controls: ['CC8'],
  input: Input,
  mutating: true,
  permissions: ['ec2:DescribeInstances', 'ec2:DescribeInstanceAttribute', 'ec2:ModifyInstanceAttribute'],
  targets: (i) => [{ kind: 'instance', id: i.instanceId }],
  async plan(ctx, input) {
    await describeInstance(ctx.aws.ec2, input.instanceId);
    return planTerminationProtection(input.instanceId, await terminationProtectionOf(ctx.aws.ec2, input.instanceId), false);
  },
  apply: (ctx, input, plan) => setTerminationProtection(ctx.aws.ec2, input.instanceId, plan.facts.current, false),
  verify: (ctx, input) => checkTerminationProtection(ctx.aws.ec2, input.instanceId, false),
  undo: { action: 'ec2.enable-termination-protection', input: (out) => ({ instanceId: out.instanceId }) },
  fallback: (i) => terminationProtectionFallback(i.instanceId, false),
});
