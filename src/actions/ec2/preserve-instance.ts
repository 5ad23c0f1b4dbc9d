import * as z from 'zod';
import { defineAction, type Change, type Check } from '../define.js';
import { InstanceId } from '../shared/ec2.js';
import {
  formatPreservedFrom,
  parsePreservedFrom,
  PRESERVED_FROM_TAG,
  readEvidenceAttributes,
  type EvidenceAttributes,
} from '../shared/instance-attributes.js';
import { ec2Reads, paced, stepTags } from '../../cloud/batch.js';
import { EC2 } from '../../cloud/sdk.js';

const Input = z.strictObject({ instanceId: InstanceId });
type Input = z.infer<typeof Input>;

interface Facts {
  current: EvidenceAttributes;
  /** The values to restore on undo: the recorded ones when a tag holds them, else the current ones. */
  previous: EvidenceAttributes;
  tagged: boolean;
}
export interface PreserveOutput {
  instanceId: string;
  previous: EvidenceAttributes;
}

const TARGET = { disableApiTermination: true, shutdownBehavior: 'stop' } as const;
/** DescribeInstanceAttribute calls of a fleet's plans in flight at once: two per target, as many targets as a step's applies (10). */
const ATTRIBUTE_READS_IN_FLIGHT = 20;

function pending(a: EvidenceAttributes) {
  return {
    termination: a.disableApiTermination !== TARGET.disableApiTermination,
    shutdown: a.shutdownBehavior !== TARGET.shutdownBehavior,
    volumes: a.volumes.filter((v) => v.deleteOnTermination),
  };
}

export default defineAction<Input, PreserveOutput, Facts>({
  id: 'ec2.preserve-instance',
  summary:
    'Keep an instance and its disks as evidence: termination protection on, shutdown stops (not terminates), EBS volumes survive termination',
  description: [
    'Three attributes decide whether the evidence outlives a mistake or a hostile command:',
    '',
    '- `DisableApiTermination` stops TerminateInstances from the API and the console. It does **not** stop an Auto Scaling',
    '  group from terminating the instance (EC2 User Guide, "Enable termination protection"), which is why the containment',
    '  playbook also takes the instance out of its group (`ec2.remove-from-service`).',
    '- `InstanceInitiatedShutdownBehavior=stop`: with `terminate`, a `shutdown -h now` from inside the instance (an attacker',
    '  covering tracks, or a well-meaning admin) terminates it, and termination protection does not apply to that path.',
    '- `DeleteOnTermination=false` on every attached EBS volume, so the disks survive even if the instance is terminated by',
    '  an Auto Scaling group or a person. Root volumes default to `true`.',
    '',
    'ModifyInstanceAttribute changes one attribute per call (AWS refuses several in one request), so this is three calls; the',
    'volumes go in one BlockDeviceMappings call. The values before the change are tagged on the instance',
    `(\`${PRESERVED_FROM_TAG}\`) and journaled, so \`ec2.restore-instance-attributes\` puts them back.`,
  ].join('\n'),
  controls: ['CC8', 'CC18'],
  input: Input,
  mutating: true,
  permissions: ['ec2:DescribeInstances', 'ec2:DescribeInstanceAttribute', 'ec2:ModifyInstanceAttribute', 'ec2:CreateTags'],
  targets: (i) => [{ kind: 'instance', id: i.instanceId }],

  // Planned together with the step's other targets: DescribeInstances is batched; DescribeInstanceAttribute,
  // which has no batched form (one instance, one attribute per call), is paced per client instead.
  batchedPlan: true,

  async plan(ctx, input) {
    const pace = paced(ctx.aws.ec2, 'DescribeInstanceAttribute', ATTRIBUTE_READS_IN_FLIGHT);
    const { instance, attrs } = await readEvidenceAttributes(ctx.aws.ec2, input.instanceId, pace);
    ctx.guard.assertNotProtected(input.instanceId, instance.Tags);
    const recorded = parsePreservedFrom(instance, attrs);
    const p = pending(attrs);
    const changes: Change[] = [];
    if (p.termination) changes.push({ resource: input.instanceId, field: 'DisableApiTermination', before: false, after: true });
    if (p.shutdown)
      changes.push({
        resource: input.instanceId,
        field: 'InstanceInitiatedShutdownBehavior',
        before: attrs.shutdownBehavior,
        after: 'stop',
      });
    for (const v of p.volumes)
      changes.push({
        resource: `${input.instanceId} ${v.deviceName} (${v.volumeId})`,
        field: 'DeleteOnTermination',
        before: true,
        after: false,
      });
    if (changes.length > 0 && !recorded)
      changes.push({ resource: input.instanceId, field: `tag ${PRESERVED_FROM_TAG}`, before: null, after: formatPreservedFrom(attrs) });
    const notes: string[] = [];
    if (attrs.volumes.length === 0)
      notes.push('no EBS volumes attached (instance store only): nothing on disk survives a stop or termination');
    if (attrs.volumes.length > 1) notes.push(`${attrs.volumes.length} EBS volumes: all set in one BlockDeviceMappings call`);
    if (recorded) notes.push(`values before preservation read from tag ${PRESERVED_FROM_TAG}`);
    // In a fleet step, the records of all its targets go in one CreateTags per record (StepTags).
    if (ctx.step && changes.length > 0 && !recorded)
      stepTags(ctx.aws.ec2, ctx.step).need(input.instanceId, [{ Key: PRESERVED_FROM_TAG, Value: formatPreservedFrom(attrs) }]);
    return {
      changes,
      alreadyDone: changes.length === 0,
      notes,
      facts: { current: attrs, previous: recorded ?? attrs, tagged: recorded !== undefined },
    };
  },

  async apply(ctx, input, plan) {
    const ec2 = ctx.aws.ec2;
    const { current, tagged } = plan.facts;
    const p = pending(current);
    const work = p.termination || p.shutdown || p.volumes.length > 0;
    // The record goes first: a run that dies between the calls still knows what to restore.
    // Instances of a fleet with the same record (device names, not volume ids) share one CreateTags.
    if (work && !tagged)
      await (ctx.step
        ? stepTags(ec2, ctx.step).written([input.instanceId])
        : ec2Reads(ec2).tag(input.instanceId, [{ Key: PRESERVED_FROM_TAG, Value: formatPreservedFrom(current) }]));
    await Promise.all([
      p.termination
        ? ec2.send(new EC2.ModifyInstanceAttributeCommand({ InstanceId: input.instanceId, DisableApiTermination: { Value: true } }))
        : undefined,
      p.shutdown
        ? ec2.send(
            new EC2.ModifyInstanceAttributeCommand({ InstanceId: input.instanceId, InstanceInitiatedShutdownBehavior: { Value: 'stop' } }),
          )
        : undefined,
      p.volumes.length > 0
        ? ec2.send(
            new EC2.ModifyInstanceAttributeCommand({
              InstanceId: input.instanceId,
              // The volume id pins each change to the disk the plan saw at that device.
              BlockDeviceMappings: p.volumes.map((v) => ({
                DeviceName: v.deviceName,
                Ebs: { VolumeId: v.volumeId, DeleteOnTermination: false },
              })),
            }),
          )
        : undefined,
    ]);
    return { instanceId: input.instanceId, previous: plan.facts.previous };
  },

  async verify(ctx, input) {
    const { attrs } = await readEvidenceAttributes(ctx.aws.ec2, input.instanceId);
    const checks: Check[] = [
      { name: 'termination protection on', ok: attrs.disableApiTermination, detail: String(attrs.disableApiTermination) },
      { name: 'shutdown from inside stops the instance', ok: attrs.shutdownBehavior === 'stop', detail: attrs.shutdownBehavior },
    ];
    for (const v of attrs.volumes)
      checks.push({
        name: `${v.deviceName} (${v.volumeId}) kept on termination`,
        ok: !v.deleteOnTermination,
        detail: `DeleteOnTermination=${v.deleteOnTermination}`,
      });
    return checks;
  },

  undo: {
    action: 'ec2.restore-instance-attributes',
    input: (out) => ({
      instanceId: out.instanceId,
      disableApiTermination: out.previous.disableApiTermination,
      instanceInitiatedShutdownBehavior: out.previous.shutdownBehavior,
      volumes: out.previous.volumes.map((v) => ({
        deviceName: v.deviceName,
        volumeId: v.volumeId,
        deleteOnTermination: v.deleteOnTermination,
      })),
    }),
  },

  fallback: (i) => {
    const id = i.instanceId ?? '<instance-id>';
    return [
      `aws ec2 modify-instance-attribute --instance-id ${id} --disable-api-termination`,
      `aws ec2 modify-instance-attribute --instance-id ${id} --instance-initiated-shutdown-behavior stop`,
      `aws ec2 describe-instances --instance-ids ${id} --query 'Reservations[].Instances[].BlockDeviceMappings[].[DeviceName,Ebs.VolumeId,Ebs.DeleteOnTermination]'`,
      `aws ec2 modify-instance-attribute --instance-id ${id} --block-device-mappings '[{"DeviceName":"<device>","Ebs":{"DeleteOnTermination":false}}]'`,
    ];
  },
});
