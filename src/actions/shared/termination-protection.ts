/** Termination protection (`DisableApiTermination`): the read and write both of its actions share. */
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { Check, Plan } from '../define.js';
import { EC2 } from '../../cloud/sdk.js';

export async function terminationProtectionOf(ec2: EC2Client, instanceId: string): Promise<boolean> {
  const attr = await ec2.send(new EC2.DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'disableApiTermination' }));
  return attr.DisableApiTermination?.Value === true;
}

export function planTerminationProtection(instanceId: string, current: boolean, enabled: boolean): Plan<{ current: boolean }> {
  const changes = current === enabled ? [] : [{ resource: instanceId, field: 'DisableApiTermination', before: current, after: enabled }];
  return { changes, alreadyDone: changes.length === 0, notes: [], facts: { current } };
}

export async function setTerminationProtection(ec2: EC2Client, instanceId: string, current: boolean, enabled: boolean) {
  if (current !== enabled)
    await ec2.send(new EC2.ModifyInstanceAttributeCommand({ InstanceId: instanceId, DisableApiTermination: { Value: enabled } }));
  return { instanceId, previous: current };
}

export async function checkTerminationProtection(ec2: EC2Client, instanceId: string, enabled: boolean): Promise<Check[]> {
  const v = await terminationProtectionOf(ec2, instanceId);
  return [{ name: `termination protection ${enabled ? 'on' : 'off'}`, ok: v === enabled, detail: String(v) }];
}

export const terminationProtectionFallback = (instanceId: string | undefined, enabled: boolean) => [
  `aws ec2 modify-instance-attribute --instance-id ${instanceId ?? '<instance-id>'} --${enabled ? '' : 'no-'}disable-api-termination`,
];
