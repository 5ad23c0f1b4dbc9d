/**
 * Durability of a pipelined map step: kill -9 an unattended fleet containment while targets are
 * being isolated one by one, resume it, and check every target is isolated once and none that
 * had completed before the kill is applied again.
 */
import { describe, expect, it } from 'vitest';
import { fleetWorld } from '../../bench/lib/worlds.js';
import { cli, journal, killWhen, tempHome, world } from '../helpers/cli.js';

const N = 30;

describe('kill -9 during a pipelined fleet step, then resume', () => {
  it('every target isolated exactly once; none completed before the kill applied again', async () => {
    const home = tempHome();
    const { file, instanceIds } = fleetWorld(home, { instances: N, latencyMs: 40, rateLimits: {} });
    const args = ['run', 'bench/playbooks/fleet-containment.yaml', '--sim', file, '--auto', '--input', 'tag=role=web'];
    // Killed once three targets are done.
    const id = await killWhen(home, args, (text) => text.split('"type":"item.completed"').length - 1 >= 3);

    const before = journal(home, id);
    const doneBefore = new Set(before.filter((e) => e.type === 'item.completed').map((e) => e.index));
    expect(doneBefore.size).toBeGreaterThanOrEqual(3);
    expect(doneBefore.size, 'the kill landed after the step had finished').toBeLessThan(N);

    const resumed = await cli(['resume', id, '--auto'], { home });
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);

    const after = journal(home, id);
    const completed = after.filter((e) => e.type === 'item.completed').map((e) => e.index);
    expect(completed.sort((a, b) => a - b)).toEqual([...Array(N).keys()]);
    const resumedAt = after.findIndex((e) => e.type === 'run.resumed');
    expect(after.slice(resumedAt).filter((e) => e.type === 'step.applied' && doneBefore.has(e.item))).toEqual([]);

    const w = world(home, id) as {
      ec2: {
        securityGroups: Array<{ id: string; name: string }>;
        networkInterfaces: Array<{ groups: string[]; attachment?: { instanceId: string } }>;
      };
    };
    const isolation = w.ec2.securityGroups.find((g) => g.name === 'firebreak-isolation')!.id;
    expect(w.ec2.networkInterfaces.filter((n) => instanceIds.includes(n.attachment?.instanceId ?? '')).map((n) => n.groups)).toEqual(
      instanceIds.map(() => [isolation]),
    );
    expect((await cli(['audit', 'verify', id], { home })).code).toBe(0);
  }, 120_000);
});
