import type { Snapshot, Tag } from '@aws-sdk/client-ec2';
import * as z from 'zod';
import { ActionFailed, isAwsError } from '../../core/errors.js';
import { defineAction, type ActionContext, type Change, type Check } from '../define.js';
import { describeInstance, FORENSIC_PURPOSE, FORENSIC_TAG, InstanceId, tagValue, TAG } from '../shared/ec2.js';
import { coalesced, ec2Reads, grouped } from '../../cloud/batch.js';
import { EC2 } from '../../cloud/sdk.js';

const Input = z.strictObject({
  instanceId: InstanceId,
  /** Which snapshot set of this run this is: the playbook's loop counts rounds 1, 2, 3… */
  round: z.number().int().min(1).max(1000).default(1),
  excludeBootVolume: z.boolean().default(false),
  /** How often to try again while AWS refuses with ConcurrentSnapshotLimitExceeded. */
  maxAttempts: z.number().int().min(1).max(10).default(6),
});
type Input = z.infer<typeof Input>;

interface Volume {
  volumeId: string;
  deviceName: string;
}
interface Facts {
  volumes: Volume[];
  /** Snapshots of this run, instance and round that already exist (an earlier attempt made them). */
  existing: Array<{ snapshotId: string; volumeId: string; deviceTagged: boolean }>;
}
export interface ForensicOutput {
  instanceId: string;
  round: number;
  snapshotIds: string[];
  snapshots: Array<{ snapshotId: string; volumeId: string; deviceName: string }>;
}

const FIRST_BACKOFF_MS = 15_000;
const MAX_BACKOFF_MS = 120_000;

/**
 * This run's forensic snapshots of the instance for this round. The targets of a fleet step ask
 * together: one DescribeSnapshots per round lists them all, with the instance ids as tag values.
 */
function findExisting(ctx: ActionContext, input: Input): Promise<Snapshot[]> {
  const ec2 = ctx.aws.ec2;
  const load = coalesced<string, Snapshot[]>(ec2, `DescribeSnapshots ${ctx.run.id} ${input.round}`, 200, async (ids) => {
    const Filters = [
      { Name: `tag:${TAG.run}`, Values: [ctx.run.id] },
      { Name: `tag:${FORENSIC_TAG.instance}`, Values: ids },
      { Name: `tag:${FORENSIC_TAG.round}`, Values: [String(input.round)] },
      { Name: `tag:${FORENSIC_TAG.purpose}`, Values: [FORENSIC_PURPOSE] },
    ];
    const out: Snapshot[] = [];
    for await (const page of EC2.paginateDescribeSnapshots({ client: ec2 }, { OwnerIds: ['self'], Filters }))
      out.push(...(page.Snapshots ?? []));
    return grouped(out, (snap) => tagValue(snap.Tags, FORENSIC_TAG.instance));
  });
  return load(input.instanceId);
}

/**
 * CreateSnapshots, waiting and trying again while AWS reports too many snapshots in progress for
 * one of the volumes (a per-volume quota; it clears as earlier snapshots complete).
 */
async function createWithBackoff(ctx: ActionContext, input: Input, tags: Tag[], description: string): Promise<Snapshot[]> {
  let delay = FIRST_BACKOFF_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      const out = await ctx.aws.ec2.send(
        new EC2.CreateSnapshotsCommand({
          InstanceSpecification: { InstanceId: input.instanceId, ExcludeBootVolume: input.excludeBootVolume },
          Description: description,
          TagSpecifications: [{ ResourceType: 'snapshot', Tags: tags }],
        }),
      );
      return out.Snapshots ?? [];
    } catch (err) {
      if (!isAwsError(err, 'ConcurrentSnapshotLimitExceeded')) throw err;
      if (attempt >= input.maxAttempts) {
        throw new ActionFailed(
          `failed to create forensic snapshots of ${input.instanceId}: ${attempt} attempts refused with ConcurrentSnapshotLimitExceeded (too many snapshots in progress for one of its volumes)`,
          'ConcurrentSnapshotLimitExceeded',
          {
            cause: err,
            hint: 'wait for the pending snapshots to complete (aws ec2 describe-snapshots --filters Name=status,Values=pending), then firebreak resume the run',
          },
        );
      }
      ctx.log(`CreateSnapshots refused (ConcurrentSnapshotLimitExceeded); trying again in ${delay / 1000}s`, {
        attempt,
        of: input.maxAttempts,
      });
      await ctx.clock.sleep(delay, ctx.signal);
      delay = Math.min(delay * 2, MAX_BACKOFF_MS);
    }
  }
}

export default defineAction<Input, ForensicOutput, Facts>({
  id: 'ec2.forensic-snapshots',
  summary: 'Take crash-consistent snapshots of every EBS volume of an instance, at the same moment, tagged as evidence',
  description: [
    'One CreateSnapshots call with an InstanceSpecification snapshots every attached EBS volume at the same point in time',
    '(crash-consistent across the volumes, EBS User Guide, "Multi-volume snapshots"): snapshots taken one CreateSnapshot at a',
    'time would each see the disks at a different moment, which breaks a database or a file system spread over volumes.',
    '',
    `The snapshots are tagged at creation (\`${TAG.incident}\`, \`${TAG.run}\`, \`${FORENSIC_TAG.instance}\`, \`${FORENSIC_TAG.round}\`,`,
    `\`${FORENSIC_TAG.purpose}=${FORENSIC_PURPOSE}\`), so they exist tagged or not at all; CreateSnapshots applies one tag set to every`,
    `snapshot, so the device name of each (\`${FORENSIC_TAG.device}\`) is added right after (at creation, when the set has one`,
    "volume). Volume tags are not copied: a volume's `firebreak:snapshot-schedule` tag on a forensic snapshot would make it look",
    'like a scheduled one.',
    '',
    'AWS limits the snapshots in progress per volume; while it answers ConcurrentSnapshotLimitExceeded, the action waits and',
    'tries again (15 s, doubling, at most 2 min between tries, `maxAttempts` tries). A snapshot set of this run, instance and',
    'round that already exists means the step is done. Verification accepts `pending` (snapshots complete in the',
    'background) and fails on `error`.',
    '',
    'There is no undo: evidence is kept. Delete forensic snapshots by hand, when the incident is closed and your retention',
    'rules allow it. Lifecycle policies never delete them: DLM retention only removes snapshots its own policy created.',
  ].join('\n'),
  controls: ['CC8', 'CC18'],
  input: Input,
  mutating: true,
  permissions: ['ec2:DescribeInstances', 'ec2:DescribeSnapshots', 'ec2:CreateSnapshots', 'ec2:CreateTags'],
  batchedPlan: true,
  targets: (i) => [{ kind: 'instance', id: i.instanceId }],

  async plan(ctx, input) {
    const [inst, snaps] = await Promise.all([describeInstance(ctx.aws.ec2, input.instanceId), findExisting(ctx, input)]);
    ctx.guard.assertNotProtected(input.instanceId, inst.Tags);
    const volumes: Volume[] = (inst.BlockDeviceMappings ?? [])
      .filter((b) => b.Ebs?.VolumeId && !(input.excludeBootVolume && b.DeviceName === inst.RootDeviceName))
      .map((b) => ({ volumeId: b.Ebs!.VolumeId!, deviceName: b.DeviceName! }));
    if (volumes.length === 0) {
      throw new ActionFailed(
        `failed to plan forensic snapshots of ${input.instanceId}: it has no EBS volume to snapshot${input.excludeBootVolume ? ' besides its boot volume' : ''}`,
        'NoVolumes',
      );
    }
    const existing = snaps.map((s) => ({
      snapshotId: s.SnapshotId!,
      volumeId: s.VolumeId!,
      deviceTagged: tagValue(s.Tags, FORENSIC_TAG.device) !== undefined,
    }));
    const changes: Change[] = [];
    const notes: string[] = [];
    if (existing.length === 0) {
      for (const v of volumes)
        changes.push({
          resource: `${input.instanceId} ${v.deviceName} (${v.volumeId})`,
          field: 'forensic snapshot',
          before: null,
          after: `round ${input.round}, crash-consistent with the other ${volumes.length - 1} volume(s)`,
        });
      notes.push(`${volumes.length} volume(s) in one crash-consistent set (CreateSnapshots)`);
    } else {
      notes.push(`round ${input.round} of this run already exists: ${existing.map((e) => e.snapshotId).join(', ')}`);
      for (const e of existing.filter((x) => !x.deviceTagged))
        changes.push({
          resource: e.snapshotId,
          field: `tag ${FORENSIC_TAG.device}`,
          before: null,
          after: volumes.find((v) => v.volumeId === e.volumeId)?.deviceName ?? 'detached',
        });
    }
    return { changes, alreadyDone: changes.length === 0, notes, facts: { volumes, existing } };
  },

  async apply(ctx, input, plan) {
    const ec2 = ctx.aws.ec2;
    const device = (volumeId: string) => plan.facts.volumes.find((v) => v.volumeId === volumeId)?.deviceName ?? 'detached';
    let made: Array<{ snapshotId: string; volumeId: string; deviceTagged: boolean }> = plan.facts.existing;
    if (made.length === 0) {
      const tags: Tag[] = [
        { Key: TAG.incident, Value: ctx.run.incident },
        { Key: TAG.run, Value: ctx.run.id },
        { Key: FORENSIC_TAG.instance, Value: input.instanceId },
        { Key: FORENSIC_TAG.round, Value: String(input.round) },
        { Key: FORENSIC_TAG.purpose, Value: FORENSIC_PURPOSE },
        { Key: 'Name', Value: `forensic ${input.instanceId} round ${input.round}` },
      ];
      // CreateSnapshots gives every snapshot of the set the same tags, so the device name can go in
      // at creation only when the set has one volume (most instances): no CreateTags at all then.
      const only = plan.facts.volumes.length === 1 ? plan.facts.volumes[0] : undefined;
      if (only) tags.push({ Key: FORENSIC_TAG.device, Value: only.deviceName });
      const description =
        `Firebreak forensic snapshot of ${input.instanceId}, incident ${ctx.run.incident}, run ${ctx.run.id}, round ${input.round}`.slice(
          0,
          255,
        );
      const snaps = await createWithBackoff(ctx, input, tags, description);
      // A volume attached since the plan got the wrong device name at creation: tagged again below.
      made = snaps.map((s) => ({ snapshotId: s.SnapshotId!, volumeId: s.VolumeId!, deviceTagged: s.VolumeId === only?.volumeId }));
    }
    await Promise.all(
      made
        .filter((s) => !s.deviceTagged)
        // Snapshots of the same device name across a fleet share one CreateTags.
        .map((s) => ec2Reads(ec2).tag(s.snapshotId, [{ Key: FORENSIC_TAG.device, Value: device(s.volumeId) }])),
    );
    const snapshots = made.map((s) => ({ snapshotId: s.snapshotId, volumeId: s.volumeId, deviceName: device(s.volumeId) }));
    return { instanceId: input.instanceId, round: input.round, snapshotIds: snapshots.map((s) => s.snapshotId), snapshots };
  },

  async verify(ctx, input, output) {
    // Read back through the same batched listing as plan: a snapshot that is not listed (gone, or
    // stripped of the tags it was created with) fails its check.
    const listed = await findExisting(ctx, input);
    const checks: Check[] = output.snapshots.map((want) => {
      const s = listed.find((x) => x.SnapshotId === want.snapshotId);
      // pending is fine: snapshots complete in the background and are usable as evidence once listed.
      const ok = s !== undefined && (s.State === 'pending' || s.State === 'completed');
      return {
        name: `${want.snapshotId} of ${want.deviceName} (${want.volumeId})`,
        ok,
        detail: s ? `${s.State}${s.Progress ? ` ${s.Progress}` : ''}` : 'not found',
      };
    });
    return checks;
  },

  fallback: (i) => [
    `aws ec2 create-snapshots --instance-specification InstanceId=${i.instanceId ?? '<instance-id>'} --description "forensic <incident>" --tag-specifications 'ResourceType=snapshot,Tags=[{Key=firebreak:purpose,Value=forensic},{Key=firebreak:incident,Value=<incident>}]'`,
    `aws ec2 describe-snapshots --owner-ids self --filters Name=tag:firebreak:purpose,Values=forensic --query 'Snapshots[].[SnapshotId,VolumeId,State,Progress]'`,
  ],
});
