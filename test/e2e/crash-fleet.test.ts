/**
 * Durability of a pipelined map step: kill -9 an unattended fleet containment while targets are
 * being isolated one by one, resume it, and check every target is isolated once and none that
 * had completed before the kill is applied again.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fleetWorld } from '../../bench/lib/worlds.js';
import { BIN, cli, cliEnv, journal, ROOT, runIds, tempHome, world } from '../helpers/cli.js';

const N = 30;

describe('kill -9 during a pipelined fleet step, then resume', () => {
  it('every target isolated exactly once; none completed before the kill applied again', async () => {
    const home = tempHome();
    const { file, instanceIds } = fleetWorld(home, { instances: N, latencyMs: 40, rateLimits: {} });
    const args = ['run', 'bench/playbooks/fleet-containment.yaml', '--sim', file, '--auto', '--input', 'tag=role=web'];
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: cliEnv(home), stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    let id: string | undefined;
    // Kill once three targets are done (up to a minute: a busy machine starts processes slowly).
    for (let i = 0; i < 12_000; i++) {
      await new Promise((r) => setTimeout(r, 5));
      id ??= runIds(home)[0];
      const f = id && join(home, 'runs', id, 'journal.jsonl');
      if (f && existsSync(f) && readFileSync(f, 'utf8').split('"type":"item.completed"').length - 1 >= 3) break;
    }
    child.kill('SIGKILL');
    await exited;

    const before = journal(home, id!);
    const doneBefore = new Set(before.filter((e) => e.type === 'item.completed').map((e) => e.index));
    expect(doneBefore.size).toBeGreaterThanOrEqual(3);
    expect(doneBefore.size, 'the kill landed after the step had finished').toBeLessThan(N);

    const resumed = await cli(['resume', id!, '--auto'], { home });
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);

    const after = journal(home, id!);
    const completed = after.filter((e) => e.type === 'item.completed').map((e) => e.index);
    expect(completed.sort((a, b) => a - b)).toEqual([...Array(N).keys()]);
    const resumedAt = after.findIndex((e) => e.type === 'run.resumed');
    expect(after.slice(resumedAt).filter((e) => e.type === 'step.applied' && doneBefore.has(e.item))).toEqual([]);

    const w = world(home, id!) as { ec2: { securityGroups: Array<{ id: string; name: string }>; networkInterfaces: Array<{ groups: string[]; attachment?: { instanceId: string } }> } };
    const isolation = w.ec2.securityGroups.find((g) => g.name === 'firebreak-isolation')!.id;
    expect(w.ec2.networkInterfaces.filter((n) => instanceIds.includes(n.attachment?.instanceId ?? '')).map((n) => n.groups)).toEqual(instanceIds.map(() => [isolation]));
    expect((await cli(['audit', 'verify', id!], { home })).code).toBe(0);
  }, 120_000);
});
