import { describe, expect, it } from 'vitest';
import remove from '../../src/actions/ec2/remove-from-service.js';
import { SERVICE_TAG } from '../../src/actions/shared/service-state.js';
import { ActionFailed } from '../../src/core/errors.js';
import type { World } from '../../src/sim/index.js';
import { allOk, clone, harness, mutating, SOLO, WEB1 } from './ec2-harness.js';

const group = (w: World, name: string) => w.autoscaling.groups.find((g) => g.name === name)!;
const memberState = (w: World, id: string) =>
  w.autoscaling.groups.flatMap((g) => g.instances.map((i) => ({ g: g.name, ...i }))).find((i) => i.id === id);
/** Registrations that carry traffic (not draining), as `group:id:port`. */
const active = (w: World) =>
  w.elbv2.targetGroups
    .flatMap((tg) => tg.targets.filter((t) => t.deregisteredAt === undefined).map((t) => `${tg.name}:${t.id}:${t.port ?? tg.port}`))
    .sort();
const draining = (w: World) =>
  w.elbv2.targetGroups
    .flatMap((tg) => tg.targets.filter((t) => t.deregisteredAt !== undefined).map((t) => `${tg.name}:${t.id}:${t.port ?? tg.port}`))
    .sort();
/** The group as configured (sizes, members and their states), members sorted: attach appends. */
const shape = (w: World, name: string) => {
  const g = clone(group(w, name));
  return { ...g, instances: g.instances.sort((a, b) => a.id.localeCompare(b.id)) };
};

describe('ec2.remove-from-service', () => {
  it.each([
    ['detach', 'autoscaling:DetachInstances', undefined, 'autoscaling:AttachInstances'],
    ['standby', 'autoscaling:EnterStandby', 'Standby', 'autoscaling:ExitStandby'],
  ] as const)(
    'mode %s: out of the group with the desired capacity decremented, out of unmanaged target groups; converges; undo restores',
    async (mode, call, stateAfter, undoCall) => {
      const h = harness();
      const groupBefore = shape(h.world, 'web-asg');
      const activeBefore = active(h.world);
      const tagsBefore = clone(h.world.ec2.instances.find((i) => i.id === WEB1)!.tags);
      const instancesBefore = h.world.ec2.instances.length;

      const plan = await h.plan(remove, { instanceId: WEB1, mode });
      expect(plan.changes.map((c) => [c.field, c.before, c.after]).slice(0, 4)).toEqual([
        ['lifecycle', 'InService', mode === 'standby' ? 'Standby' : 'Detached'],
        ['DesiredCapacity', 2, 1],
        ['registration', 'healthy', 'deregistered (draining)'],
        ['registration', 'healthy', 'deregistered (draining)'],
      ]);

      const r = await h.run(remove, { instanceId: WEB1, mode });
      expect(allOk(r.checks)).toBe(true);
      const sent = h.sim.calls.find((c) => c.action === call)!;
      expect(sent.input).toMatchObject({ AutoScalingGroupName: 'web-asg', InstanceIds: [WEB1], ShouldDecrementDesiredCapacity: true });
      expect(group(h.world, 'web-asg').desiredCapacity).toBe(1);
      expect(memberState(h.world, WEB1)?.lifecycleState).toBe(stateAfter);
      // No replacement: the group and the account have exactly the instances they had.
      expect(group(h.world, 'web-asg').instances.length).toBe(mode === 'standby' ? 2 : 1);
      expect(h.world.ec2.instances.length).toBe(instancesBefore);
      expect(draining(h.world)).toEqual([`admin-tg:${WEB1}:8443`, `admin-tg:${WEB1}:9443`, `web-tg:${WEB1}:443`]);
      expect(r.output).toMatchObject({ autoScalingGroup: 'web-asg', mode, targetGroups: [{ port: 8443 }, { port: 9443 }] });
      expect(h.sim.calls.filter((c) => c.action === 'elasticloadbalancing:DeregisterTargets').map((c) => (c.input as any).Targets)).toEqual(
        [
          [
            { Id: WEB1, Port: 8443 },
            { Id: WEB1, Port: 9443 },
          ],
        ],
      );

      const again = await h.run(remove, { instanceId: WEB1, mode });
      expect(again.plan.alreadyDone).toBe(true);
      expect(mutating(again.calls)).toEqual([]);
      expect(again.output).toEqual(r.output);

      const undone = await h.undo(remove, r);
      expect(allOk(undone.checks)).toBe(true);
      expect(mutating(undone.calls)).toContain(undoCall);
      expect(shape(h.world, 'web-asg')).toEqual(groupBefore);
      expect(active(h.world)).toEqual(activeBefore);
      expect(h.world.ec2.instances.find((i) => i.id === WEB1)!.tags).toEqual(tagsBefore);
    },
  );

  it('refuses a group at its minimum size in the plan, naming the fix, and changes nothing', async () => {
    const h = harness();
    const err = await h.plan(remove, { instanceId: SOLO }).catch((e) => e);
    expect(err).toBeInstanceOf(ActionFailed);
    expect(err.code).toBe('GroupAtMinimumSize');
    expect(err.message).toMatch(/solo-asg: the group is at its minimum size \(min 1, desired 1\)/);
    expect(err.hint).toMatch(/allowMinSizeChange: true \(MinSize 1 → 0/);
    expect(mutating(h.callsSince(0))).toEqual([]);
    expect(group(h.world, 'solo-asg')).toMatchObject({ minSize: 1, desiredCapacity: 1 });
  });

  it('with allowMinSizeChange lowers the minimum first, launches no replacement, and undo restores the minimum after re-attaching', async () => {
    const h = harness();
    const before = shape(h.world, 'solo-asg');
    const r = await h.run(remove, { instanceId: SOLO, allowMinSizeChange: true });
    expect(r.plan.changes.map((c) => [c.field, c.before, c.after])).toContainEqual(['MinSize', 1, 0]);
    expect(allOk(r.checks)).toBe(true);
    const order = mutating(r.calls);
    expect(order.indexOf('autoscaling:UpdateAutoScalingGroup')).toBeLessThan(order.indexOf('autoscaling:DetachInstances'));
    expect(group(h.world, 'solo-asg')).toMatchObject({ minSize: 0, desiredCapacity: 0, instances: [] });
    expect(r.output.previousMinSize).toBe(1);

    const undone = await h.undo(remove, r);
    expect(allOk(undone.checks)).toBe(true);
    const order2 = mutating(undone.calls);
    expect(order2.indexOf('autoscaling:AttachInstances')).toBeLessThan(order2.indexOf('autoscaling:UpdateAutoScalingGroup'));
    expect(shape(h.world, 'solo-asg')).toEqual(before);
  });

  it('after a run died between the detach and the deregistration, finishes from the tags and undo still knows the group', async () => {
    const h = harness();
    const groupBefore = shape(h.world, 'web-asg');
    const activeBefore = active(h.world);
    h.sim.faults.add({ operation: 'elasticloadbalancing:DeregisterTargets', error: 'InternalFailure', status: 500, times: 1 });
    await expect(h.run(remove, { instanceId: WEB1 })).rejects.toMatchObject({ name: 'InternalFailure' });
    expect(memberState(h.world, WEB1)).toBeUndefined();
    expect(h.world.ec2.instances.find((i) => i.id === WEB1)!.tags[SERVICE_TAG.group]).toBe('web-asg');

    const retried = await h.run(remove, { instanceId: WEB1 });
    expect(mutating(retried.calls)).toEqual(['elasticloadbalancing:DeregisterTargets']);
    expect(retried.output).toMatchObject({ autoScalingGroup: 'web-asg', mode: 'detach' });
    await h.undo(remove, retried);
    expect(shape(h.world, 'web-asg')).toEqual(groupBefore);
    expect(active(h.world)).toEqual(activeBefore);
  });

  it('an instance in no group and no target group is already done', async () => {
    const h = harness();
    const r = await h.run(remove, { instanceId: 'i-0f1000000000000f1' });
    expect(r.plan.alreadyDone).toBe(true);
    expect(r.plan.notes).toEqual(['not in an Auto Scaling group', 'not registered in any target group']);
    expect(mutating(r.calls)).toEqual([]);
    expect(r.output).toEqual({ instanceId: 'i-0f1000000000000f1', targetGroups: [] });
  });
});
