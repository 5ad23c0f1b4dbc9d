/**
 * ec2-fleet-compromise on the simulated cloud, in-process on a simulated clock: the fleet found by
 * tag or AMI, each instance isolated, preserved, out of its Auto Scaling group and snapshotted.
 */
import { chooseBackend } from '../../src/backend/backend.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SimClock } from '../../src/core/clock.js';
import type { RunHost } from '../../src/engine/host.js';
import { startRun } from '../../src/engine/session.js';
import { journal, tempHome } from '../helpers/cli.js';

const WORLD = 'test/fixtures/worlds/ec2-response.yaml';
const WEB = ['i-0b1000000000000b1', 'i-0b2000000000000b2'];
const FLEET_STEPS = ['isolate', 'preserve', 'detach', 'snapshot'];

/** Approves what it is asked, confirms manual tasks; with `unseen`, approves policy-auto steps without their plan. */
function host(unseen: boolean): RunHost {
  return {
    kind: 'auto',
    ...(unseen ? { approvesUnseen: (p: 'auto' | 'required') => p === 'auto' } : {}),
    approve: async (view) => ({ decision: 'approve', by: view.policy === 'auto' ? 'policy' : 'alice', via: 'script' }),
    manual: async () => ({ decision: 'approve', by: 'alice', via: 'script' }),
  };
}

const run = (o: { inputs: Record<string, unknown>; unseen?: boolean; auto?: boolean; dryRun?: boolean }) => {
  const home = tempHome();
  const clock = new SimClock('2026-03-01T12:00:00Z');
  return startRun({
    run: {
      playbook: 'ec2-fleet-compromise',
      inputs: o.inputs,
      incident: 'IR-21',
      ...(o.auto ? { approvalOverrides: Object.fromEntries(FLEET_STEPS.map((s) => [s, 'auto' as const])) } : {}),
      ...(o.dryRun ? { dryRun: true } : {}),
    },
    backend: chooseBackend({ sim: WORLD, clock }),
    host: host(!!o.unseen),
    clock,
    home,
  })
    .then((h) => h.result)
    .then((out) => ({
      out,
      home,
      events: journal(home, out.runId),
      world: () => JSON.parse(readFileSync(join(home, 'runs', out.runId, 'world.json'), 'utf8')),
    }));
};

describe('ec2-fleet-compromise', () => {
  it('unattended: each instance of the fleet is isolated, preserved and snapshotted; a group at its minimum keeps one', async () => {
    const { out, events, world } = await run({ inputs: { tags: ['aws:autoscaling:groupName=web-asg'] }, unseen: true, auto: true });
    expect(out.status, JSON.stringify(events.filter((e) => /failed/.test(e.type)))).toBe('succeeded');
    expect(events.find((e) => e.type === 'step.completed' && e.step === 'find')?.output.instanceIds).toEqual(WEB);
    // Each target planned and applied in turn.
    expect(events.find((e) => e.type === 'step.planned' && e.step === 'isolate')?.pipelined).toBe(true);
    expect(events.filter((e) => e.type === 'item.planned' && e.step === 'isolate')).toHaveLength(2);

    const w = world();
    const isolation = w.ec2.securityGroups.find((g: any) => g.name === 'firebreak-isolation' && g.vpcId === 'vpc-0f1e2d3c4b5a69788').id;
    const enis = w.ec2.networkInterfaces.filter((n: any) => WEB.includes(n.attachment?.instanceId));
    expect(enis).toHaveLength(3);
    for (const n of enis) expect(n.groups).toEqual([isolation]);
    for (const id of WEB) {
      const i = w.ec2.instances.find((x: any) => x.id === id);
      expect([i.disableApiTermination, i.instanceInitiatedShutdownBehavior]).toEqual([true, 'stop']);
    }
    const forensic = w.ec2.snapshots.filter((s: any) => s.tags?.['firebreak:purpose'] === 'forensic');
    expect(forensic.map((s: any) => s.volumeId).sort()).toEqual([
      'vol-0a1100000000000a1',
      'vol-0a1200000000000a2',
      'vol-0a1300000000000a3',
      'vol-0a2100000000000b1',
    ]);
    // web-asg (minimum 1) lets one instance go and refuses the other: the step fails alone and the snapshots still run.
    expect(events.find((e) => e.type === 'step.failed' && e.step === 'detach')).toMatchObject({ handled: true });
    expect(w.autoscaling.groups.find((g: any) => g.name === 'web-asg').instances.filter((i: any) => WEB.includes(i.id))).toHaveLength(1);
    expect(events.find((e) => e.type === 'run.ended')?.outcome).toBe('success');
  });

  it("with a person approving, every step shows the whole fleet's plan before its first change", async () => {
    const { out, events } = await run({ inputs: { tags: ['aws:autoscaling:groupName=web-asg'] } });
    expect(out.status).toBe('succeeded');
    const planned = events.find((e) => e.type === 'step.planned' && e.step === 'isolate');
    expect(planned.pipelined).toBeUndefined();
    // Every instance's change (and the VPC's new isolation groups) in the one plan the person approves.
    expect(new Set(planned.plan.changes.map((c: any) => c.resource.split(' ')[0]).filter((r: string) => r.startsWith('i-')))).toEqual(
      new Set(WEB),
    );
    const firstWrite = events.find(
      (e) => e.type === 'aws.call' && e.step?.startsWith('isolate[') && e.operation === 'ModifyNetworkInterfaceAttribute',
    );
    expect(firstWrite.seq).toBeGreaterThan(events.find((e) => e.type === 'approval.answered' && e.step === 'isolate').seq);
    expect(events.find((e) => e.type === 'approval.answered' && e.step === 'isolate')?.by).toBe('alice');
  });

  it('by AMI: protected and terminated instances are left out (dry run: nothing changes)', async () => {
    const { out, events } = await run({ inputs: { imageIds: ['ami-0bad0bad0bad0bad0'] }, dryRun: true });
    expect(out.status).toBe('planned');
    const found = events.find((e) => e.type === 'step.completed' && e.step === 'find')?.output;
    expect(found).toEqual({
      instanceIds: ['i-0f1000000000000f1', 'i-0f2000000000000f2', 'i-0f3000000000000f3'],
      protected: ['i-0f4000000000000f4'],
    });
    expect(events.filter((e) => e.type === 'aws.call' && !/^(Describe|Get|List)/.test(e.operation))).toEqual([]);
  });

  it('nothing matches: ends with outcome no-targets and changes nothing', async () => {
    const { out, events } = await run({ inputs: { tags: ['app=nothing-here'] } });
    expect(out.status).toBe('succeeded');
    expect(events.find((e) => e.type === 'run.ended')?.outcome).toBe('no-targets');
    expect(events.filter((e) => e.type === 'aws.call' && !/^(Describe|Get|List)/.test(e.operation))).toEqual([]);
  });
});
