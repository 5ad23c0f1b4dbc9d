import { describe, it, expect } from 'vitest';
import {
  DescribeVolumesCommand,
  CreateSnapshotCommand,
  CreateSnapshotsCommand,
  DescribeSnapshotsCommand,
  DeleteSnapshotCommand,
} from '@aws-sdk/client-ec2';
import { SimClock } from '../../src/core/clock.js';
import { harness, rejection, demoWorld, WEB, DB, VOL_ROOT, VOL_DATA, VOL_DB } from './helpers.js';

const incidentTags = [{ ResourceType: 'snapshot' as const, Tags: [{ Key: 'firebreak:incident', Value: 'INC-7' }] }];

describe('DescribeVolumes', () => {
  it('shows attachments and filters by instance', async () => {
    const { ec2 } = harness();
    const r = await ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [WEB] }] }));
    expect(r.Volumes!.map((v) => [v.VolumeId, v.State, v.Attachments![0]!.Device, v.Size])).toEqual([
      [VOL_ROOT, 'in-use', '/dev/xvda', 8],
      [VOL_DATA, 'in-use', '/dev/sdf', 100],
    ]);
    const err = await rejection(ec2.send(new DescribeVolumesCommand({ VolumeIds: ['vol-0000000000000000a'] })));
    expect([err.name, err.message]).toEqual(['InvalidVolume.NotFound', "The volume 'vol-0000000000000000a' does not exist"]);
  });
});

describe('snapshots', () => {
  it('CreateSnapshot starts a pending snapshot that completes after the simulated delay', async () => {
    const clock = new SimClock('2026-01-01T00:00:00Z');
    const { ec2, world } = harness(demoWorld(), { clock });
    const s = await ec2.send(new CreateSnapshotCommand({ VolumeId: VOL_DATA, Description: 'forensics', TagSpecifications: incidentTags }));
    expect(s).toMatchObject({ VolumeId: VOL_DATA, State: 'pending', OwnerId: '111122223333', Description: 'forensics', VolumeSize: 100 });
    expect(s.Tags).toEqual([{ Key: 'firebreak:incident', Value: 'INC-7' }]);
    expect(s.StartTime).toEqual(new Date('2026-01-01T00:00:00Z'));
    clock.advance(119_000);
    let d = await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [s.SnapshotId!] }));
    expect(d.Snapshots![0]!.State).toBe('pending');
    clock.advance(1_000);
    d = await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [s.SnapshotId!] }));
    expect([d.Snapshots![0]!.State, d.Snapshots![0]!.Progress]).toEqual(['completed', '100%']);
    expect(world.ec2.snapshots.find((x) => x.id === s.SnapshotId)!.state).toBe('completed');
  });

  it('the completion delay is configurable', async () => {
    const clock = new SimClock('2026-01-01T00:00:00Z');
    const { ec2 } = harness(
      demoWorld((w) => {
        w.ec2.snapshotCompletionSeconds = 600;
      }),
      { clock },
    );
    const s = await ec2.send(new CreateSnapshotCommand({ VolumeId: VOL_DATA }));
    clock.advance(300_000);
    expect((await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [s.SnapshotId!] }))).Snapshots![0]!.State).toBe('pending');
    clock.advance(300_000);
    expect((await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [s.SnapshotId!] }))).Snapshots![0]!.State).toBe('completed');
  });

  it('CreateSnapshots snapshots every volume of the instance, tagged, copying volume tags on request', async () => {
    const { ec2, world } = harness();
    const r = await ec2.send(
      new CreateSnapshotsCommand({
        InstanceSpecification: { InstanceId: WEB },
        Description: 'INC-7',
        TagSpecifications: incidentTags,
        CopyTagsFromSource: 'volume',
      }),
    );
    expect(r.Snapshots!.map((s) => [s.VolumeId, s.State])).toEqual([
      [VOL_ROOT, 'pending'],
      [VOL_DATA, 'pending'],
    ]);
    expect(r.Snapshots![1]!.Tags).toEqual([
      { Key: 'Name', Value: 'web-1-data' },
      { Key: 'firebreak:incident', Value: 'INC-7' },
    ]);
    expect(world.ec2.snapshots).toHaveLength(2);
  });

  it('CreateSnapshots can leave out the boot volume', async () => {
    const { ec2 } = harness();
    const r = await ec2.send(new CreateSnapshotsCommand({ InstanceSpecification: { InstanceId: WEB, ExcludeBootVolume: true } }));
    expect(r.Snapshots!.map((s) => s.VolumeId)).toEqual([VOL_DATA]);
    expect(r.Snapshots![0]!.Tags).toEqual([]);
  });

  it('refuses a snapshot when the volume already has the limit of pending ones (ConcurrentSnapshotLimitExceeded)', async () => {
    const { ec2, world } = harness(
      demoWorld((w) => {
        w.ec2.limits.concurrentSnapshots = 2;
      }),
    );
    await ec2.send(new CreateSnapshotCommand({ VolumeId: VOL_DATA }));
    await ec2.send(new CreateSnapshotCommand({ VolumeId: VOL_DATA }));
    const err = await rejection(ec2.send(new CreateSnapshotCommand({ VolumeId: VOL_DATA })));
    expect(err.name).toBe('ConcurrentSnapshotLimitExceeded');
    const err2 = await rejection(ec2.send(new CreateSnapshotsCommand({ InstanceSpecification: { InstanceId: WEB } })));
    expect(err2.name).toBe('ConcurrentSnapshotLimitExceeded');
    expect(world.ec2.snapshots).toHaveLength(2); // the multi-volume request created nothing
    await ec2.send(new CreateSnapshotCommand({ VolumeId: VOL_DB })); // other volumes are not affected
  });

  it('uses the default limit of 5 pending snapshots per volume', async () => {
    const { ec2 } = harness();
    for (let n = 0; n < 5; n++) await ec2.send(new CreateSnapshotCommand({ VolumeId: VOL_DATA }));
    expect((await rejection(ec2.send(new CreateSnapshotCommand({ VolumeId: VOL_DATA })))).name).toBe('ConcurrentSnapshotLimitExceeded');
  });

  it.each([
    ['CreateSnapshot', () => new CreateSnapshotCommand({ VolumeId: VOL_DATA, DryRun: true })],
    ['CreateSnapshots', () => new CreateSnapshotsCommand({ InstanceSpecification: { InstanceId: DB }, DryRun: true })],
  ])('%s honours DryRun', async (_n, cmd) => {
    const { ec2, world } = harness();
    expect((await rejection(ec2.send(cmd() as never))).name).toBe('DryRunOperation');
    expect(world.ec2.snapshots).toEqual([]);
  });

  it('validates TagSpecifications resource types and volume ids', async () => {
    const { ec2, world } = harness();
    const err = await rejection(
      ec2.send(
        new CreateSnapshotCommand({
          VolumeId: VOL_DATA,
          TagSpecifications: [{ ResourceType: 'volume', Tags: [{ Key: 'a', Value: 'b' }] }],
        }),
      ),
    );
    expect(err.name).toBe('InvalidParameterValue');
    expect((await rejection(ec2.send(new CreateSnapshotCommand({ VolumeId: 'vol-0000000000000000a' })))).name).toBe(
      'InvalidVolume.NotFound',
    );
    expect(
      (await rejection(ec2.send(new CreateSnapshotsCommand({ InstanceSpecification: { InstanceId: 'i-0000000000000000a' } })))).name,
    ).toBe('InvalidInstanceID.NotFound');
    expect(world.ec2.snapshots).toEqual([]);
  });

  it('DescribeSnapshots filters by tag, volume and owner; DeleteSnapshot removes one', async () => {
    const { ec2, world } = harness();
    const a = await ec2.send(new CreateSnapshotCommand({ VolumeId: VOL_DATA, TagSpecifications: incidentTags }));
    await ec2.send(new CreateSnapshotCommand({ VolumeId: VOL_ROOT }));
    const byTag = await ec2.send(new DescribeSnapshotsCommand({ Filters: [{ Name: 'tag:firebreak:incident', Values: ['INC-7'] }] }));
    expect(byTag.Snapshots!.map((s) => s.SnapshotId)).toEqual([a.SnapshotId]);
    const byVolume = await ec2.send(
      new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: 'volume-id', Values: [VOL_ROOT] }] }),
    );
    expect(byVolume.Snapshots!.map((s) => s.VolumeId)).toEqual([VOL_ROOT]);
    expect((await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['999999999999'] }))).Snapshots).toEqual([]);
    await ec2.send(new DeleteSnapshotCommand({ SnapshotId: a.SnapshotId! }));
    expect(world.ec2.snapshots.map((s) => s.id)).not.toContain(a.SnapshotId);
    const err = await rejection(ec2.send(new DeleteSnapshotCommand({ SnapshotId: a.SnapshotId! })));
    expect([err.name, err.message]).toEqual(['InvalidSnapshot.NotFound', `The snapshot '${a.SnapshotId}' does not exist`]);
  });
});
