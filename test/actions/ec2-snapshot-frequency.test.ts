import { describe, expect, it } from 'vitest';
import raise from '../../src/actions/ec2/raise-snapshot-frequency.js';
import forensic from '../../src/actions/ec2/forensic-snapshots.js';
import { runDlmSchedules } from '../../src/sim/services/dlm/index.js';
import { allOk, clone, fixtureWorld, harness, mutating, WEB1, WEB1_VOLUMES, WEB2 } from './ec2-harness.js';

const volumeTags = (h: ReturnType<typeof harness>) => clone(h.world.ec2.volumes.map((v) => ({ id: v.id, tags: v.tags })));

describe('ec2.raise-snapshot-frequency', () => {
  it("tags the instance's volumes and creates one policy for the incident; converges; undo deletes it and the tags", async () => {
    const h = harness();
    const tagsBefore = volumeTags(h);
    const r = await h.run(raise, { instanceId: WEB1, intervalHours: 2, retainCount: 12 });
    expect(allOk(r.checks)).toBe(true);
    expect(h.world.ec2.volumes.filter((v) => v.tags['firebreak:snapshot-schedule'] === 'IR-7').map((v) => v.id)).toEqual(WEB1_VOLUMES);
    const [policy] = h.world.dlm.policies;
    expect(h.world.dlm.policies.length).toBe(1);
    expect(policy).toMatchObject({
      state: 'ENABLED',
      executionRoleArn: 'arn:aws:iam::111122223333:role/AWSDataLifecycleManagerDefaultRole',
      policyDetails: {
        ResourceTypes: ['VOLUME'],
        TargetTags: [{ Key: 'firebreak:snapshot-schedule', Value: 'IR-7' }],
        Schedules: [
          {
            CreateRule: { Interval: 2, IntervalUnit: 'HOURS', Times: ['00:00'] },
            RetainRule: { Count: 12 },
            TagsToAdd: expect.arrayContaining([{ Key: 'firebreak:purpose', Value: 'scheduled' }]),
          },
        ],
      },
      tags: { 'firebreak:incident': 'IR-7', 'firebreak:run': h.ctx.run.id },
    });
    expect(r.output).toMatchObject({ policyId: policy!.id, createdPolicy: true, volumeIds: WEB1_VOLUMES });

    const again = await h.run(raise, { instanceId: WEB1, intervalHours: 2, retainCount: 12 });
    expect(again.plan.alreadyDone).toBe(true);
    expect(mutating(again.calls)).toEqual([]);

    const undone = await h.undo(raise, r);
    expect(allOk(undone.checks)).toBe(true);
    expect(h.world.dlm.policies).toEqual([]);
    expect(volumeTags(h)).toEqual(tagsBefore);
  });

  it.each([[0], [5], [10], [36]])(
    'rejects an interval of %s hours with an input error that points at the loop, before any call',
    async (intervalHours) => {
      const h = harness();
      const parsed = raise.input.safeParse({ instanceId: WEB1, intervalHours });
      expect(parsed.success).toBe(false);
      expect(parsed.error!.issues[0]!.message).toBe(
        "Data Lifecycle Manager schedules snapshots every 1, 2, 3, 4, 6, 8, 12, 24 hours only; for a shorter interval use the playbook's snapshot loop (wait, then ec2.forensic-snapshots)",
      );
      await expect(h.plan(raise, { instanceId: WEB1, intervalHours })).rejects.toThrow();
      expect(h.callsSince(0)).toEqual([]);
    },
  );

  it('uses a given execution role without asking STS', async () => {
    const h = harness();
    const role = 'arn:aws:iam::111122223333:role/ir-dlm';
    await h.run(raise, { instanceId: WEB1, intervalHours: 1, executionRoleArn: role });
    expect(h.world.dlm.policies[0]!.executionRoleArn).toBe(role);
    expect(h.sim.calls.some((c) => c.action === 'sts:GetCallerIdentity')).toBe(false);
  });

  it("updates an incident's existing policy, records its schedule, and undo puts that schedule back instead of deleting it", async () => {
    const h = harness(
      fixtureWorld((w) => {
        w.dlm.policies.push({
          id: 'policy-0123456789abcdef0',
          description: 'earlier',
          state: 'ENABLED',
          executionRoleArn: 'arn:aws:iam::111122223333:role/AWSDataLifecycleManagerDefaultRole',
          createdAt: w.time,
          lastRuns: {},
          tags: {},
          policyDetails: {
            PolicyType: 'EBS_SNAPSHOT_MANAGEMENT',
            ResourceTypes: ['VOLUME'],
            TargetTags: [{ Key: 'firebreak:snapshot-schedule', Value: 'IR-7' }],
            Schedules: [{ Name: 'daily', CreateRule: { Interval: 24, IntervalUnit: 'HOURS' }, RetainRule: { Count: 7 } }],
          },
        });
      }),
    );
    const before = clone(h.world.dlm.policies[0]!.policyDetails);
    const r = await h.run(raise, { instanceId: WEB1, intervalHours: 1, retainCount: 48 });
    expect(allOk(r.checks)).toBe(true);
    expect(h.world.dlm.policies[0]!.tags['firebreak:previous-schedule']).toBe('24h/7/ENABLED');
    expect(r.output).toMatchObject({ createdPolicy: false, previous: { intervalHours: 24, retainCount: 7, state: 'ENABLED' } });
    expect(mutating(r.calls).filter((c) => c.startsWith('dlm:'))).toEqual(['dlm:TagResource', 'dlm:UpdateLifecyclePolicy']);

    await h.undo(raise, r);
    const after = h.world.dlm.policies[0]!;
    expect(after.tags).toEqual({});
    expect(after.policyDetails.Schedules![0]).toMatchObject({
      CreateRule: { Interval: 24, IntervalUnit: 'HOURS' },
      RetainRule: { Count: 7 },
    });
    expect(after.policyDetails.TargetTags).toEqual(before.TargetTags);
  });

  it('keeps the policy while another instance of the incident still needs it', async () => {
    const h = harness();
    const r1 = await h.run(raise, { instanceId: WEB1, intervalHours: 1 });
    const r2 = await h.run(raise, { instanceId: WEB2, intervalHours: 1 });
    expect(r2.output.policyId).toBe(r1.output.policyId);
    expect(h.world.dlm.policies.length).toBe(1);
    const u1 = await h.undo(raise, r1);
    expect(u1.plan.notes[0]).toMatch(/is kept: 1 other volume\(s\) of incident IR-7 still carry the tag/);
    expect(h.world.dlm.policies.length).toBe(1);
    await h.undo(raise, r2);
    expect(h.world.dlm.policies).toEqual([]);
  });

  it('retention of the raised schedule deletes old scheduled snapshots, never the forensic ones', async () => {
    const h = harness();
    const evidence = await h.run(forensic, { instanceId: WEB1 });
    await h.run(raise, { instanceId: WEB1, intervalHours: 1, retainCount: 2 });
    const result = runDlmSchedules(h.world, new Date(Date.parse(h.world.time) + 6 * 3_600_000));
    expect(result.created.length).toBe(6 * 3);
    expect(result.deleted.length).toBe(4 * 3);
    const ids = h.world.ec2.snapshots.map((s) => s.id);
    for (const id of evidence.output.snapshotIds) expect(ids).toContain(id);
    const scheduled = h.world.ec2.snapshots.filter((s) => s.tags['firebreak:purpose'] === 'scheduled');
    expect(scheduled.length).toBe(2 * 3);
  });
});
