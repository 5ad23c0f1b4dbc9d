import * as z from 'zod';
import { defineAction, type Change, type Check } from '../define.js';
import { InstanceId } from '../shared/ec2.js';
import { PRESERVED_FROM_TAG, readEvidenceAttributes, type EvidenceAttributes } from '../shared/instance-attributes.js';
import { EC2 } from '../../cloud/sdk.js';

const VolumeId = z.string().regex(/^vol-[0-9a-f]{8,17}$/, 'a volume id such as vol-0123456789abcdef0');

const Input = z.strictObject({
  instanceId: InstanceId,
  disableApiTermination: z.boolean(),
  instanceInitiatedShutdownBehavior: z.enum(['stop', 'terminate']),
  volumes: z.array(z.strictObject({ deviceName: z.string().min(1), volumeId: VolumeId, deleteOnTermination: z.boolean() })).default([]),
});
type Input = z.infer<typeof Input>;

interface Facts {
  current: EvidenceAttributes;
  tagged: boolean;
}

/** The volumes whose flag differs from the wanted one and that are still attached where they were. */
function volumeWork(input: Input, current: EvidenceAttributes) {
  return input.volumes.filter((want) => {
    const now = current.volumes.find((v) => v.deviceName === want.deviceName && v.volumeId === want.volumeId);
    return now !== undefined && now.deleteOnTermination !== want.deleteOnTermination;
  });
}

export default defineAction<Input, { instanceId: string }, Facts>({
  id: 'ec2.restore-instance-attributes',
  summary: 'Put back termination protection, shutdown behaviour and DeleteOnTermination as they were before ec2.preserve-instance',
  description:
    'The undo of `ec2.preserve-instance`. A volume that is no longer attached at the recorded device is left alone (and named in the plan). Removes the `firebreak:preserved-from` record once the values are back.',
  controls: ['CC8'],
  input: Input,
  mutating: true,
  permissions: ['ec2:DescribeInstances', 'ec2:DescribeInstanceAttribute', 'ec2:ModifyInstanceAttribute', 'ec2:DeleteTags'],
  targets: (i) => [{ kind: 'instance', id: i.instanceId }],

  async plan(ctx, input) {
    const { instance, attrs } = await readEvidenceAttributes(ctx.aws.ec2, input.instanceId);
    ctx.guard.assertNotProtected(input.instanceId, instance.Tags);
    const tagged = (instance.Tags ?? []).some((t) => t.Key === PRESERVED_FROM_TAG);
    const changes: Change[] = [];
    if (attrs.disableApiTermination !== input.disableApiTermination)
      changes.push({
        resource: input.instanceId,
        field: 'DisableApiTermination',
        before: attrs.disableApiTermination,
        after: input.disableApiTermination,
      });
    if (attrs.shutdownBehavior !== input.instanceInitiatedShutdownBehavior)
      changes.push({
        resource: input.instanceId,
        field: 'InstanceInitiatedShutdownBehavior',
        before: attrs.shutdownBehavior,
        after: input.instanceInitiatedShutdownBehavior,
      });
    for (const v of volumeWork(input, attrs))
      changes.push({
        resource: `${input.instanceId} ${v.deviceName} (${v.volumeId})`,
        field: 'DeleteOnTermination',
        before: !v.deleteOnTermination,
        after: v.deleteOnTermination,
      });
    if (tagged) changes.push({ resource: input.instanceId, field: `tag ${PRESERVED_FROM_TAG}`, before: 'present', after: null });
    const notes = input.volumes
      .filter((want) => !attrs.volumes.some((v) => v.deviceName === want.deviceName && v.volumeId === want.volumeId))
      .map((v) => `${v.volumeId} is no longer attached at ${v.deviceName}: left as it is`);
    return { changes, alreadyDone: changes.length === 0, notes, facts: { current: attrs, tagged } };
  },

  async apply(ctx, input, plan) {
    const ec2 = ctx.aws.ec2;
    const { current } = plan.facts;
    const volumes = volumeWork(input, current);
    await Promise.all([
      current.disableApiTermination !== input.disableApiTermination
        ? ec2.send(
            new EC2.ModifyInstanceAttributeCommand({
              InstanceId: input.instanceId,
              DisableApiTermination: { Value: input.disableApiTermination },
            }),
          )
        : undefined,
      current.shutdownBehavior !== input.instanceInitiatedShutdownBehavior
        ? ec2.send(
            new EC2.ModifyInstanceAttributeCommand({
              InstanceId: input.instanceId,
              InstanceInitiatedShutdownBehavior: { Value: input.instanceInitiatedShutdownBehavior },
            }),
          )
        : undefined,
      volumes.length > 0
        ? ec2.send(
            new EC2.ModifyInstanceAttributeCommand({
              InstanceId: input.instanceId,
              BlockDeviceMappings: volumes.map((v) => ({
                DeviceName: v.deviceName,
                Ebs: { VolumeId: v.volumeId, DeleteOnTermination: v.deleteOnTermination },
              })),
            }),
          )
        : undefined,
    ]);
    // Removed last: if a call above failed, the record is still there for the next attempt.
    if (plan.facts.tagged)
      await ec2.send(new EC2.DeleteTagsCommand({ Resources: [input.instanceId], Tags: [{ Key: PRESERVED_FROM_TAG }] }));
    return { instanceId: input.instanceId };
  },

  async verify(ctx, input) {
    const { attrs } = await readEvidenceAttributes(ctx.aws.ec2, input.instanceId);
    const checks: Check[] = [
      {
        name: `DisableApiTermination ${input.disableApiTermination}`,
        ok: attrs.disableApiTermination === input.disableApiTermination,
        detail: String(attrs.disableApiTermination),
      },
      {
        name: `InstanceInitiatedShutdownBehavior ${input.instanceInitiatedShutdownBehavior}`,
        ok: attrs.shutdownBehavior === input.instanceInitiatedShutdownBehavior,
        detail: attrs.shutdownBehavior,
      },
    ];
    for (const want of input.volumes) {
      const now = attrs.volumes.find((v) => v.deviceName === want.deviceName && v.volumeId === want.volumeId);
      if (now)
        checks.push({
          name: `${want.deviceName} DeleteOnTermination ${want.deleteOnTermination}`,
          ok: now.deleteOnTermination === want.deleteOnTermination,
          detail: String(now.deleteOnTermination),
        });
    }
    return checks;
  },

  fallback: (i) => {
    const id = i.instanceId ?? '<instance-id>';
    return [
      `aws ec2 modify-instance-attribute --instance-id ${id} --no-disable-api-termination   # only if it was off before`,
      `aws ec2 modify-instance-attribute --instance-id ${id} --instance-initiated-shutdown-behavior <stop|terminate>`,
      `aws ec2 modify-instance-attribute --instance-id ${id} --block-device-mappings '[{"DeviceName":"<device>","Ebs":{"DeleteOnTermination":true}}]'`,
      `aws ec2 delete-tags --resources ${id} --tags Key=${PRESERVED_FROM_TAG}`,
    ];
  },
});
