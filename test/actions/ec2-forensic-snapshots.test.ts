import { describe, expect, it } from 'vitest';
import forensic from '../../src/actions/ec2/forensic-snapshots.js';
import { ActionFailed } from '../../src/core/errors.js';
import { allOk, fixtureWorld, harness, mutating, VAULT, WEB1, WEB1_VOLUMES } from './ec2-harness.js';

const snapsOf = (h: ReturnType<typeof harness>, instance: string) =>
  h.world.ec2.snapshots.filter((s) => s.tags['firebreak:instance-id'] === instance);

describe('ec2.forensic-snapshots', () => {
  it('snapshots every volume in one crash-consistent call, tagged at creation, each with its device; converges', async () => {
    const h = harness();
    const r = await h.run(forensic, { instanceId: WEB1 });
    expect(allOk(r.checks)).toBe(true);
    expect(r.checks.map((c) => c.detail)).toEqual(['pending 0%', 'pending 0%', 'pending 0%']);
    const create = h.sim.calls.filter((c) => c.operation === 'CreateSnapshots');
    expect(create.length).toBe(1);
    expect(create[0]!.input).toMatchObject({
      InstanceSpecification: { InstanceId: WEB1, ExcludeBootVolume: false },
      TagSpecifications: [
        {
          ResourceType: 'snapshot',
          Tags: expect.arrayContaining([
            { Key: 'firebreak:purpose', Value: 'forensic' },
            { Key: 'firebreak:incident', Value: 'IR-7' },
          ]),
        },
      ],
    });
    expect((create[0]!.input as any).CopyTagsFromSource).toBeUndefined();
    const snaps = snapsOf(h, WEB1);
    expect(snaps.map((s) => [s.volumeId, s.tags['firebreak:device'], s.tags['firebreak:round'], s.state])).toEqual([
      [WEB1_VOLUMES[0], '/dev/xvda', '1', 'pending'],
      [WEB1_VOLUMES[1], '/dev/sdf', '1', 'pending'],
      [WEB1_VOLUMES[2], '/dev/sdg', '1', 'pending'],
    ]);
    // One start time: the set is one point in time.
    expect(new Set(snaps.map((s) => s.startTime)).size).toBe(1);
    expect(r.output.snapshotIds).toEqual(snaps.map((s) => s.id));

    const again = await h.run(forensic, { instanceId: WEB1 });
    expect(again.plan.alreadyDone).toBe(true);
    expect(mutating(again.calls)).toEqual([]);
    expect(again.output.snapshotIds).toEqual(r.output.snapshotIds);
    expect(snapsOf(h, WEB1).length).toBe(3);
  });

  it('a new round is a new set; the boot volume can be left out', async () => {
    const h = harness();
    await h.run(forensic, { instanceId: WEB1 });
    const r2 = await h.run(forensic, { instanceId: WEB1, round: 2, excludeBootVolume: true });
    expect(r2.output.snapshots.map((s: any) => s.deviceName)).toEqual(['/dev/sdf', '/dev/sdg']);
    expect(snapsOf(h, WEB1).length).toBe(5);
  });

  it('waits and tries again while AWS answers ConcurrentSnapshotLimitExceeded (bounded backoff on the run clock)', async () => {
    const h = harness();
    h.sim.faults.add({ operation: 'ec2:CreateSnapshots', error: 'ConcurrentSnapshotLimitExceeded', times: 2 });
    const start = h.clock.now().getTime();
    const r = await h.run(forensic, { instanceId: WEB1 });
    expect(allOk(r.checks)).toBe(true);
    expect(h.sim.calls.filter((c) => c.operation === 'CreateSnapshots').map((c) => c.error ?? 'ok')).toEqual([
      'ConcurrentSnapshotLimitExceeded',
      'ConcurrentSnapshotLimitExceeded',
      'ok',
    ]);
    expect(h.clock.now().getTime() - start).toBe(15_000 + 30_000);
    expect(h.notes.map((n) => n.message)).toEqual([
      'CreateSnapshots refused (ConcurrentSnapshotLimitExceeded); trying again in 15s',
      'CreateSnapshots refused (ConcurrentSnapshotLimitExceeded); trying again in 30s',
    ]);
  });

  it('succeeds once the pending snapshots that fill the quota complete', async () => {
    // Five snapshots of the data volume in progress, done 100 s from now: AWS refuses a sixth until then.
    const h = harness(
      fixtureWorld((w) => {
        for (let i = 0; i < 5; i++) {
          w.ec2.snapshots.push({
            id: `snap-0aaaa00000000000${i}`,
            volumeId: WEB1_VOLUMES[1]!,
            state: 'pending',
            startTime: w.time,
            completesAt: new Date(Date.parse(w.time) + 100_000).toISOString(),
            description: '',
            encrypted: false,
            tags: {},
          });
        }
      }),
    );
    const r = await h.run(forensic, { instanceId: WEB1 });
    expect(allOk(r.checks)).toBe(true);
    // 0 s refused, 15 s refused, 45 s refused, 105 s accepted.
    expect(h.sim.calls.filter((c) => c.operation === 'CreateSnapshots').map((c) => c.error ?? 'ok')).toEqual([
      'ConcurrentSnapshotLimitExceeded',
      'ConcurrentSnapshotLimitExceeded',
      'ConcurrentSnapshotLimitExceeded',
      'ok',
    ]);
  });

  it('gives up after maxAttempts with the AWS code and what to do, having created nothing', async () => {
    const h = harness();
    h.sim.faults.add({ operation: 'ec2:CreateSnapshots', error: 'ConcurrentSnapshotLimitExceeded' });
    const err = await h.run(forensic, { instanceId: WEB1, maxAttempts: 3 }).catch((e) => e);
    expect(err).toBeInstanceOf(ActionFailed);
    expect(err.code).toBe('ConcurrentSnapshotLimitExceeded');
    expect(err.hint).toMatch(/firebreak resume/);
    expect(h.sim.calls.filter((c) => c.operation === 'CreateSnapshots').length).toBe(3);
    expect(h.world.ec2.snapshots).toEqual([]);
  });

  it('does not wait on other errors', async () => {
    const h = harness();
    h.sim.faults.add({ operation: 'ec2:CreateSnapshots', error: 'UnauthorizedOperation' });
    await expect(h.run(forensic, { instanceId: WEB1 })).rejects.toMatchObject({ name: 'UnauthorizedOperation' });
    expect(h.sim.calls.filter((c) => c.operation === 'CreateSnapshots').length).toBe(1);
  });

  it('verification fails for a snapshot in error and passes for completed ones', async () => {
    const h = harness();
    const r = await h.run(forensic, { instanceId: WEB1 });
    h.world.ec2.snapshots[0]!.state = 'error';
    h.clock.advance(120_000);
    const checks = await forensic.verify(h.ctx, r.input, r.output);
    expect(checks.map((c) => [c.ok, c.detail])).toEqual([
      [false, 'error 0%'],
      [true, 'completed 100%'],
      [true, 'completed 100%'],
    ]);
  });

  it('keeps evidence: it has no undo, and refuses protected instances', async () => {
    expect(forensic.undo).toBeUndefined();
    expect(forensic.description).toMatch(/There is no undo: evidence is kept/);
    const h = harness();
    await expect(h.run(forensic, { instanceId: VAULT })).rejects.toThrow(/protected tag/);
    expect(mutating(h.callsSince(0))).toEqual([]);
  });
});
