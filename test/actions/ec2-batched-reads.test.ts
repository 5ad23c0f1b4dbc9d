/**
 * The run's read batcher (src/cloud/batch.ts): reads that targets' plans make at the same moment
 * go out as one call, each target gets its own part of the answer, and nothing is answered from
 * an earlier call (a plan after a write reads again).
 */
import { describe, expect, it } from 'vitest';
import isolate from '../../src/actions/ec2/isolate-instance.js';
import { harness, SOLO, WEB1, WEB2 } from './ec2-harness.js';

describe('batched reads', () => {
  it('three targets planned together: one DescribeInstances, one DescribeNetworkInterfaces, one DescribeSecurityGroups', async () => {
    const h = harness();
    const from = h.lastSeq();
    const plans = await Promise.all([WEB1, WEB2, SOLO].map((instanceId) => h.plan(isolate, { instanceId })));
    expect(h.callsSince(from).sort()).toEqual(['ec2:DescribeInstances', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSecurityGroups']);
    // Each target sees its own interfaces: web-1 has two, the others one.
    expect(plans.map((p) => p.facts.interfaces.length)).toEqual([2, 1, 1]);
  });

  it('one unknown instance fails alone, with AWS’s code; the others of its batch are planned', async () => {
    const h = harness();
    const [ok, missing] = await Promise.allSettled([
      h.plan(isolate, { instanceId: WEB1 }),
      h.plan(isolate, { instanceId: 'i-0fff0000000000fff' }),
    ]);
    expect(ok.status).toBe('fulfilled');
    expect(missing.status === 'rejected' && (missing.reason as { code?: string }).code).toBe('InvalidInstanceID.NotFound');
  });

  it('a read after a write is a new call (nothing is cached across turns)', async () => {
    const h = harness();
    const done = await h.run(isolate, { instanceId: WEB1 });
    expect(done.checks.every((c) => c.ok)).toBe(true);
    const from = h.lastSeq();
    const again = await h.plan(isolate, { instanceId: WEB1 });
    expect(again.alreadyDone).toBe(true);
    expect(h.callsSince(from)).toContain('ec2:DescribeNetworkInterfaces');
  });

  it('targets in a VPC without isolation groups create each group once, with no duplicate error', async () => {
    const h = harness();
    const from = h.lastSeq();
    const runs = await Promise.all([WEB1, WEB2].map((instanceId) => h.run(isolate, { instanceId })));
    for (const r of runs) expect(r.checks.every((c) => c.ok)).toBe(true);
    const calls = h.callsSince(from);
    expect(calls.filter((c) => c === 'ec2:CreateSecurityGroup')).toHaveLength(2);
    // Without the single flight the second target's CreateSecurityGroup failed InvalidGroup.Duplicate.
    expect(h.sim.calls.filter((c) => c.seq > from && c.error).map((c) => c.error)).toEqual([]);
  });
});
