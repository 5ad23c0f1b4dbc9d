import { describe, expect, it } from 'vitest';
import preserve from '../../src/actions/ec2/preserve-instance.js';
import { PRESERVED_FROM_TAG } from '../../src/actions/shared/instance-attributes.js';
import { GuardrailRefusal } from '../../src/core/errors.js';
import { allOk, clone, fixtureWorld, harness, mutating, SOLO, VAULT, WEB1 } from './ec2-harness.js';

const inst = (h: ReturnType<typeof harness>, id: string) => h.world.ec2.instances.find((i) => i.id === id)!;

describe('ec2.preserve-instance', () => {
  it('plans every attribute that lets evidence be destroyed, and only those', async () => {
    const h = harness();
    const plan = await h.plan(preserve, { instanceId: WEB1 });
    expect(plan.alreadyDone).toBe(false);
    expect(plan.changes.map((c) => [c.resource, c.field, c.before, c.after])).toEqual([
      [WEB1, 'DisableApiTermination', false, true],
      [WEB1, 'InstanceInitiatedShutdownBehavior', 'terminate', 'stop'],
      [`${WEB1} /dev/xvda (vol-0a1100000000000a1)`, 'DeleteOnTermination', true, false],
      [`${WEB1} /dev/sdf (vol-0a1200000000000a2)`, 'DeleteOnTermination', true, false],
      [WEB1, `tag ${PRESERVED_FROM_TAG}`, null, 'api-termination=off shutdown=terminate delete-on-termination=/dev/xvda,/dev/sdf'],
    ]);
    expect(mutating(h.callsSince(0))).toEqual([]);
  });

  it('applies with one call per attribute (all volumes in one), converges, and undo restores the exact instance', async () => {
    const h = harness();
    const before = clone(inst(h, WEB1));
    const first = await h.run(preserve, { instanceId: WEB1 });
    expect(allOk(first.checks)).toBe(true);
    const web1 = inst(h, WEB1);
    expect(web1.disableApiTermination).toBe(true);
    expect(web1.instanceInitiatedShutdownBehavior).toBe('stop');
    expect(web1.blockDevices.map((b) => b.deleteOnTermination)).toEqual([false, false, false]);
    expect(mutating(first.calls).sort()).toEqual([
      'ec2:CreateTags',
      'ec2:ModifyInstanceAttribute',
      'ec2:ModifyInstanceAttribute',
      'ec2:ModifyInstanceAttribute',
    ]);
    const volumeCall = h.sim.calls.find((c) => c.operation === 'ModifyInstanceAttribute' && (c.input as any).BlockDeviceMappings);
    expect((volumeCall!.input as any).BlockDeviceMappings.map((m: any) => m.DeviceName)).toEqual(['/dev/xvda', '/dev/sdf']);

    const again = await h.run(preserve, { instanceId: WEB1 });
    expect(again.plan.alreadyDone).toBe(true);
    expect(again.plan.changes).toEqual([]);
    expect(mutating(again.calls)).toEqual([]);
    expect(allOk(again.checks)).toBe(true);

    const undone = await h.undo(preserve, first);
    expect(allOk(undone.checks)).toBe(true);
    expect(inst(h, WEB1)).toEqual(before);
  });

  it('after a run died half-way, takes the values to restore from its tag, not from the half-changed instance', async () => {
    const h = harness();
    const before = clone(inst(h, WEB1));
    // The second ModifyInstanceAttribute fails: the tag and one attribute are already changed.
    h.sim.faults.add({ operation: 'ec2:ModifyInstanceAttribute', error: 'InternalError', after: 1, times: 1 });
    await expect(h.run(preserve, { instanceId: WEB1 })).rejects.toMatchObject({ name: 'InternalError' });
    expect(inst(h, WEB1).tags[PRESERVED_FROM_TAG]).toBeDefined();

    const retried = await h.run(preserve, { instanceId: WEB1 });
    expect(retried.output.previous).toMatchObject({ disableApiTermination: false, shutdownBehavior: 'terminate' });
    expect(mutating(retried.calls)).not.toContain('ec2:CreateTags');
    await h.undo(preserve, retried);
    expect(inst(h, WEB1)).toEqual(before);
  });

  it('an instance already preserved by hand is done, and undo leaves it as it was', async () => {
    const h = harness(
      fixtureWorld((w) => {
        const solo = w.ec2.instances.find((i) => i.id === SOLO)!;
        solo.disableApiTermination = true;
        solo.blockDevices[0]!.deleteOnTermination = false;
      }),
    );
    const before = clone(inst(h, SOLO));
    const r = await h.run(preserve, { instanceId: SOLO });
    expect(r.plan.alreadyDone).toBe(true);
    expect(mutating(r.calls)).toEqual([]);
    const undone = await h.undo(preserve, r);
    expect(undone.plan.alreadyDone).toBe(true);
    expect(inst(h, SOLO)).toEqual(before);
  });

  it('refuses a protected instance before any change', async () => {
    const h = harness();
    await expect(h.run(preserve, { instanceId: VAULT })).rejects.toBeInstanceOf(GuardrailRefusal);
    expect(mutating(h.callsSince(0))).toEqual([]);
  });

  it.each([['web-1'], ['i-123'], [undefined]])('rejects instanceId %j before any call', async (instanceId) => {
    const h = harness();
    await expect(h.plan(preserve, { instanceId })).rejects.toThrow();
    expect(h.callsSince(0)).toEqual([]);
  });
});
