/**
 * Durability: kill -9 the CLI at several points of a run, resume it, and compare with a run that
 * was never interrupted: the same world, every step completed once, and no step that had
 * completed before the kill applied again.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, journal, killWhen, ROOT, runIds, tempHome, world } from '../helpers/cli.js';

const INSTANCE = 'i-0abc123def4567890';

/** The demo world with a per-call latency, so a kill lands between calls rather than after the run. */
function slowWorld(home: string): string {
  const file = join(home, 'slow-world.yaml');
  writeFileSync(file, `${readFileSync(join(ROOT, 'worlds/demo.yaml'), 'utf8')}\nlatencyMs: 60\n`);
  return file;
}

const args = (worldFile: string) => ['run', 'ec2-instance-compromise', '--sim', worldFile, '--auto', '--input', `instanceId=${INSTANCE}`];

/** Start a run and SIGKILL it as soon as its journal has `lines` lines. Returns the run id. */
const killAfter = (home: string, worldFile: string, lines: number): Promise<string> =>
  killWhen(home, args(worldFile), (text) => text.split('\n').length - 1 >= lines);

/** The world without what legitimately differs between runs: times and run ids. */
function normalize(w: unknown, runId: string): unknown {
  return JSON.parse(JSON.stringify(w).split(runId).join('RUN'), (k, v) =>
    /(At|Time|time|Date)$/.test(k) || k === 'firebreak:isolated-at' ? undefined : v,
  );
}

function completedKeys(events: Array<{ type: string; [k: string]: any }>): string[] {
  return events.filter((e) => e.type === 'step.completed').map((e) => e.step);
}

describe('kill -9 at any point, then resume', () => {
  // 61: between CreateSnapshots and the snapshots' device tags; 79: the lifecycle policy created, not yet journaled.
  it.each([2, 6, 10, 16, 22, 30, 61, 79])(
    'killed once the journal has %i lines',
    async (lines) => {
      const baseHome = tempHome();
      const wf = slowWorld(baseHome);
      const base = await cli(args(wf), { home: baseHome });
      expect(base.code, base.stderr).toBe(3);
      const baseId = runIds(baseHome)[0]!;

      const home = tempHome();
      const id = await killAfter(home, slowWorld(home), lines);
      const before = journal(home, id);
      const doneBefore = new Set(completedKeys(before));
      expect(
        before.some((e) => e.type === 'run.waiting'),
        'the kill landed after the run had finished',
      ).toBe(false);

      const resumed = await cli(['resume', id, '--auto'], { home });
      expect(resumed.code, resumed.stdout + resumed.stderr).toBe(3);

      const after = journal(home, id);
      expect(normalize(world(home, id), id)).toEqual(normalize(world(baseHome, baseId), baseId));
      // Every step completed exactly once across both processes.
      const keys = completedKeys(after);
      expect(new Set(keys).size).toBe(keys.length);
      expect(keys.sort()).toEqual(completedKeys(journal(baseHome, baseId)).sort());
      // No step that had completed before the kill was applied by the resumed process.
      const resumedAt = after.findIndex((e) => e.type === 'run.resumed');
      const reapplied = after.slice(resumedAt).filter((e) => e.type === 'step.applied' && doneBefore.has(e.step));
      expect(reapplied).toEqual([]);
      const verify = await cli(['audit', 'verify', id], { home });
      expect(verify.code, verify.stdout).toBe(0);
      // Three runs of the whole containment, with 60 ms per AWS call.
    },
    180_000,
  );
});
