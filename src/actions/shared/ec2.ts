/** Shared EC2 reads, input types and tag keys for the EC2 actions. */
import type { EC2Client, Instance, Tag } from '@aws-sdk/client-ec2';
import * as z from 'zod';
import { ActionFailed } from '../../core/errors.js';
import { ec2Reads } from '../../cloud/batch.js';

export const InstanceId = z.string().regex(/^i-[0-9a-f]{8,17}$/, 'an EC2 instance id such as i-0abc123def4567890');
export const SecurityGroupId = z.string().regex(/^sg-[0-9a-f]{8,17}$/, 'a security group id such as sg-0123456789abcdef0');
export const SubnetId = z.string().regex(/^subnet-[0-9a-f]{8,17}$/, 'a subnet id such as subnet-0123456789abcdef0');
export const NetworkInterfaceId = z.string().regex(/^eni-[0-9a-f]{8,17}$/, 'a network interface id such as eni-0123456789abcdef0');

/** Tag keys Firebreak writes. One place, so undo and docs agree with apply. */
export const TAG = {
  incident: 'firebreak:incident',
  run: 'firebreak:run',
  isolatedAt: 'firebreak:isolated-at',
  originalGroups: 'firebreak:original-groups',
  managed: 'firebreak:managed',
} as const;

/** Tags of a forensic snapshot. DLM's own snapshots carry `aws:dlm:*` tags instead, never these. */
export const FORENSIC_TAG = {
  purpose: 'firebreak:purpose',
  instance: 'firebreak:instance-id',
  device: 'firebreak:device',
  round: 'firebreak:round',
} as const;
export const FORENSIC_PURPOSE = 'forensic';

/**
 * The instance, read through the run's batcher: the plans of a fleet step's targets read their
 * instances in one DescribeInstances. A filter (unlike InstanceIds) does not fail the whole batch
 * on one unknown id, so an instance EC2 does not list fails here with AWS's own code.
 */
export async function describeInstance(ec2: EC2Client, instanceId: string): Promise<Instance> {
  const inst = await ec2Reads(ec2).instance(instanceId);
  if (!inst)
    throw new ActionFailed(`failed to find instance ${instanceId}: not returned by DescribeInstances`, 'InvalidInstanceID.NotFound');
  if (inst.State?.Name === 'terminated' || inst.State?.Name === 'shutting-down') {
    throw new ActionFailed(`instance ${instanceId} is ${inst.State.Name}; there is nothing left to contain`, 'IncorrectInstanceState');
  }
  return inst;
}

export function tagValue(tags: Tag[] | undefined, key: string): string | undefined {
  return tags?.find((t) => t.Key === key)?.Value;
}

export const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x) => b.includes(x));
