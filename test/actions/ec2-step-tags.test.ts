/**
 * A fleet step's tags written once for the step (StepTags, src/cloud/batch.ts): one CreateTags per
 * tag set per 1,000 resources (the API's limit), sent only once every target of the step is planned,
 * and a failed call's targets told so (their retry asks again).
 */
import { describe, expect, it } from 'vitest';
import { fleetWorldDoc } from '../../bench/lib/fleet-world.js';
import { stepTags } from '../../src/cloud/batch.js';
import { withCallContext } from '../../src/cloud/call-context.js';
import { parseWorld } from '../../src/sim/world.js';
import { harness } from './ec2-harness.js';

const inStep = <T>(fn: () => Promise<T>) =>
  withCallContext({ step: 'isolate[0]', action: 'ec2.isolate-instance', permissions: new Set(['ec2:CreateTags']) }, fn);

function step() {
  let planned = () => {};
  const scope = { planned: new Promise<void>((res) => (planned = res)) };
  return { scope, planned: () => planned() };
}

describe('tags of a fleet step', () => {
  it('1,001 instances and 1,001 interfaces: 2 calls per tag set (1,000 ids, then 1), none before every target is planned', async () => {
    const doc = fleetWorldDoc(1001);
    const h = harness(parseWorld(JSON.stringify(doc), 'fleet.json'));
    const instances = doc.ec2.instances.map((i: { id: string }) => i.id);
    const enis = doc.ec2.networkInterfaces.map((n: { id: string }) => n.id);
    const s = step();
    const tags = stepTags(h.ctx.aws.ec2, s.scope);
    for (const id of instances) tags.need(id, [{ Key: 'firebreak:incident:IR-7', Value: 'run-1' }]);
    for (const id of enis) tags.need(id, [{ Key: 'firebreak:original-groups', Value: 'sg-1' }]);
    const from = h.lastSeq();
    const first = inStep(() => tags.written([instances[0]!, enis[0]!]));
    await new Promise((res) => setTimeout(res, 30));
    expect(h.callsSince(from)).toEqual([]);
    s.planned();
    await first;
    await inStep(() => tags.written([...instances, ...enis]));
    const calls = h.sim.calls.filter((c) => c.seq > from);
    expect(calls.map((c) => c.action)).toEqual(Array(4).fill('ec2:CreateTags'));
    const world = h.sim.world as unknown as { ec2: { instances: any[]; networkInterfaces: any[] } };
    for (const i of world.ec2.instances) expect(i.tags['firebreak:incident:IR-7']).toBe('run-1');
    for (const n of world.ec2.networkInterfaces) expect(n.tags['firebreak:original-groups']).toBe('sg-1');
  });

  it("a call that fails (one resource gone) fails every target in it with AWS's code; a retry's plan asks again and is written", async () => {
    const doc = fleetWorldDoc(2);
    const h = harness(parseWorld(JSON.stringify(doc), 'fleet.json'));
    const [a, b] = doc.ec2.instances.map((i: { id: string }) => i.id) as [string, string];
    const gone = 'i-0fff0000000000fff';
    const s = step();
    const tags = stepTags(h.ctx.aws.ec2, s.scope);
    for (const id of [a, gone]) tags.need(id, [{ Key: 'k', Value: 'v' }]);
    s.planned();
    const failed = await Promise.allSettled([inStep(() => tags.written([a])), inStep(() => tags.written([gone]))]);
    expect(failed.map((r) => r.status === 'rejected' && (r.reason as { name?: string }).name)).toEqual([
      'InvalidInstanceID.NotFound',
      'InvalidInstanceID.NotFound',
    ]);
    const from = h.lastSeq();
    tags.need(a, [{ Key: 'k', Value: 'v' }]);
    tags.need(b, [{ Key: 'k', Value: 'v' }]);
    await inStep(() => tags.written([a, b]));
    expect(h.callsSince(from)).toEqual(['ec2:CreateTags']);
    const world = h.sim.world as unknown as { ec2: { instances: any[] } };
    for (const i of world.ec2.instances) expect(i.tags.k).toBe('v');
  });
});
