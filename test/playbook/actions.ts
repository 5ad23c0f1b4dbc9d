/** Action ids and input schemas the playbook tests load against (stand-ins for the registry). */
import { z } from 'zod';

export const ACTION_IDS: ReadonlySet<string> = new Set([
  'ec2.describe-instance',
  'ec2.isolate-instance',
  'ec2.snapshot-volumes',
  'ec2.deny-nacl-entry',
  'support.open-case',
]);

const InstanceId = z.string().regex(/^i-[0-9a-f]{8,17}$/, 'an instance id such as i-0123456789abcdef0');

const INPUTS: Record<string, z.ZodType> = {
  'ec2.describe-instance': z.strictObject({ instanceId: InstanceId }),
  'ec2.isolate-instance': z.strictObject({
    instanceId: InstanceId,
    reason: z.string().optional(),
    isolationGroupName: z.string().default('firebreak-isolation'),
  }),
  'ec2.snapshot-volumes': z.strictObject({
    instanceId: InstanceId,
    tags: z.array(z.strictObject({ Key: z.string(), Value: z.string() })).default([]),
  }),
  'ec2.deny-nacl-entry': z.strictObject({
    subnetId: z.string(),
    cidr: z.string(),
    ruleNumber: z.number().int().min(1).max(32766).optional(),
  }),
  'support.open-case': z.strictObject({
    subject: z.string(),
    severity: z.enum(['low', 'normal', 'high', 'urgent', 'critical']).default('high'),
  }),
};

export const actionInputs = (id: string): z.ZodType | undefined => INPUTS[id];

export const LOAD_OPTS = { actionIds: ACTION_IDS, actionInputs };
