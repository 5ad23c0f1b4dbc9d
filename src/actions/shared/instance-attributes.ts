/**
 * The three instance attributes that decide whether evidence survives a termination or a
 * shutdown, read in one round trip and recorded in a tag before Firebreak changes them.
 */
import type { EC2Client, Instance } from '@aws-sdk/client-ec2';
import { describeInstance, tagValue } from './ec2.js';
import { EC2 } from '../../cloud/sdk.js';

export interface EvidenceAttributes {
  disableApiTermination: boolean;
  shutdownBehavior: 'stop' | 'terminate';
  /** DeleteOnTermination of each attached EBS volume, by device name. */
  volumes: Array<{ deviceName: string; volumeId: string; deleteOnTermination: boolean }>;
}

/** Tag on the instance holding the values before Firebreak first preserved it. */
export const PRESERVED_FROM_TAG = 'firebreak:preserved-from';

/** `pace` runs each DescribeInstanceAttribute call (a fleet step planning every target at once bounds them). */
export async function readEvidenceAttributes(
  ec2: EC2Client,
  instanceId: string,
  pace: <T>(call: () => Promise<T>) => Promise<T> = (call) => call(),
): Promise<{ instance: Instance; attrs: EvidenceAttributes }> {
  // DescribeInstances lists DeleteOnTermination per volume but not the two instance attributes,
  // which DescribeInstanceAttribute answers one per call.
  const [instance, termination, shutdown] = await Promise.all([
    describeInstance(ec2, instanceId),
    pace(() => ec2.send(new EC2.DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'disableApiTermination' }))),
    pace(() =>
      ec2.send(new EC2.DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'instanceInitiatedShutdownBehavior' })),
    ),
  ]);
  const volumes = (instance.BlockDeviceMappings ?? [])
    .filter((b) => b.Ebs?.VolumeId)
    .map((b) => ({ deviceName: b.DeviceName!, volumeId: b.Ebs!.VolumeId!, deleteOnTermination: b.Ebs!.DeleteOnTermination === true }));
  return {
    instance,
    attrs: {
      disableApiTermination: termination.DisableApiTermination?.Value === true,
      shutdownBehavior: shutdown.InstanceInitiatedShutdownBehavior?.Value === 'terminate' ? 'terminate' : 'stop',
      volumes,
    },
  };
}

/** `api-termination=off shutdown=terminate delete-on-termination=/dev/xvda,/dev/sdf` */
export function formatPreservedFrom(a: EvidenceAttributes): string {
  const dot = a.volumes.filter((v) => v.deleteOnTermination).map((v) => v.deviceName);
  return `api-termination=${a.disableApiTermination ? 'on' : 'off'} shutdown=${a.shutdownBehavior} delete-on-termination=${dot.join(',')}`;
}

/** The recorded values, or undefined when the instance carries no (readable) record. */
export function parsePreservedFrom(instance: Instance, current: EvidenceAttributes): EvidenceAttributes | undefined {
  const raw = tagValue(instance.Tags, PRESERVED_FROM_TAG);
  if (raw === undefined) return undefined;
  const fields = Object.fromEntries(raw.split(' ').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  if (
    !['on', 'off'].includes(fields['api-termination'] ?? '') ||
    !['stop', 'terminate'].includes(fields.shutdown ?? '') ||
    fields['delete-on-termination'] === undefined
  )
    return undefined;
  const dot = new Set(fields['delete-on-termination'].split(',').filter(Boolean));
  return {
    disableApiTermination: fields['api-termination'] === 'on',
    shutdownBehavior: fields.shutdown as 'stop' | 'terminate',
    volumes: current.volumes.map((v) => ({ ...v, deleteOnTermination: dot.has(v.deviceName) })),
  };
}
