/**
 * A map step run unattended (`--auto`, policy auto) shows and records each target's plan as it is
 * made, then applies it: the progress, the journal and the incident report all name every target.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fleetWorld } from '../../bench/lib/worlds.js';
import { cli } from '../helpers/cli.js';

describe('fleet run, unattended', () => {
  it("plans, applies and verifies each target in turn; the report lists every target's change", async () => {
    const home = mkdtempSync(join(tmpdir(), 'fb-fleet-run-'));
    const { file, instanceIds } = fleetWorld(home, { instances: 3, latencyMs: 0, rateLimits: {} });
    const r = await cli(['run', 'bench/playbooks/fleet-containment.yaml', '--sim', file, '--auto', '--input', 'tag=role=web'], { home });
    const out = r.stdout + r.stderr;
    expect(r.code, out).toBe(0);
    expect(out).toContain('plan (3 targets): each target is planned, applied and verified in turn');
    for (const i of [0, 1, 2]) expect(out).toContain(`item ${i} plan:`);

    const runId = /run (\S+): succeeded/.exec(out)![1]!;
    const journal = readFileSync(join(home, 'runs', runId, 'journal.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const planned = journal.filter((e) => e.type === 'item.planned' && e.step === 'isolate');
    expect(planned).toHaveLength(3);
    // Every target's plan is in the journal before that target's first write.
    for (const p of planned) {
      const applied = journal.find((e) => e.type === 'step.applied' && e.step === 'isolate' && e.item === p.index);
      expect(applied.seq).toBeGreaterThan(p.seq);
    }
    const world = JSON.parse(readFileSync(join(home, 'runs', runId, 'world.json'), 'utf8'));
    const isolation = world.ec2.securityGroups.find((g: { name: string }) => g.name === 'firebreak-isolation').id;
    expect(world.ec2.networkInterfaces.map((n: { groups: string[] }) => n.groups)).toEqual(instanceIds.map(() => [isolation]));

    const report = await cli(['report', runId], { home });
    expect(report.code, report.stderr).toBe(0);
    // Each target's change, from its item.planned, in the report's table of changes.
    for (const id of instanceIds)
      expect(report.stdout).toMatch(new RegExp(`\\| \`${id} eni-[0-9a-f]+ \\(device 0\\)\` \\| security groups \\| \`sg-`));
    expect(report.stdout).toContain('planned target by target (3 targets)');
  });
});
