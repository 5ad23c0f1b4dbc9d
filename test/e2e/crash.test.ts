/**
 * Durability: kill -9 the CLI at several points of a run, resume it, and compare with a run that
 * was never interrupted: the same world, every step completed once, and no step that had
 * completed before the kill applied again.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pLimit from 'p-limit';
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
  // Times inside strings too: a session revocation's policy document holds the instant it was applied.
  return JSON.parse(
    JSON.stringify(w)
      .split(runId)
      .join('RUN')
      .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, 'TIME'),
    (k, v) => (/(At|Time|time|Date)$/.test(k) || k === 'firebreak:isolated-at' ? undefined : v),
  );
}

function completedKeys(events: Array<{ type: string; [k: string]: any }>): string[] {
  return events.filter((e) => e.type === 'step.completed').map((e) => e.step);
}

/** What a create leaves in the world: counted, so a create applied twice after a resume shows. */
function created(w: any) {
  return {
    isolationGroups: w.ec2.securityGroups.filter((g: any) => g.name.startsWith('firebreak-isolation')).length,
    snapshots: w.ec2.snapshots.length,
    lifecyclePolicies: w.dlm.policies.length,
  };
}

/** No step (or map item) was applied twice in the journal: a resumed step that had converged is re-planned, not re-applied. */
function appliedTwice(events: Array<{ type: string; [k: string]: any }>): string[] {
  const keys = events.filter((e) => e.type === 'step.applied').map((e) => (e.item === undefined ? e.step : `${e.step}[${e.item}]`));
  return keys.filter((k, i) => keys.indexOf(k) !== i);
}

/**
 * The reference incident: the unattended run stops for a person's approval of revoke-role-sessions;
 * the person approves; the run is resumed and stops again at the manual Support case.
 */
async function finish(home: string, id: string, from: 'run' | 'resume') {
  if (from === 'run') {
    const resumed = await cli(['resume', id, '--auto'], { home });
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(3);
  }
  const last = lastStop(journal(home, id));
  if (last?.type === 'run.waiting' && last.step === 'revoke-role-sessions') {
    expect((await cli(['approve', id, 'revoke-role-sessions'], { home })).code).toBe(0);
    const resumed = await cli(['resume', id, '--auto'], { home });
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(3);
  }
  expect(lastStop(journal(home, id))).toMatchObject({ type: 'run.waiting', step: 'open-case', kind: 'manual' });
}

/** Where the run last stopped (a process that wrote nothing records who acted after its run.waiting). */
const lastStop = (events: Array<{ type: string; [k: string]: any }>) =>
  events.filter((e) => ['run.resumed', 'run.waiting', 'run.ended', 'run.interrupted'].includes(e.type)).at(-1);

let reference: Promise<{ home: string; id: string; firstRunLines: number; lines: number }> | undefined;
function referenceRun() {
  reference ??= (async () => {
    const home = tempHome();
    const wf = slowWorld(home);
    const first = await cli(args(wf), { home });
    expect(first.code, first.stderr).toBe(3);
    const id = runIds(home)[0]!;
    const firstRunLines = journal(home, id).length;
    await finish(home, id, 'resume');
    return { home, id, firstRunLines, lines: journal(home, id).length };
  })();
  return reference;
}

async function expectReferenceEnd(home: string, id: string, doneBefore: Set<string>, killedAt: number) {
  const ref = await referenceRun();
  const after = journal(home, id);
  expect(normalize(world(home, id), id)).toEqual(normalize(world(ref.home, ref.id), ref.id));
  expect(created(world(home, id))).toEqual(created(world(ref.home, ref.id)));
  // Every step completed exactly once across all processes.
  const keys = completedKeys(after);
  expect(new Set(keys).size).toBe(keys.length);
  expect(keys.sort()).toEqual(completedKeys(journal(ref.home, ref.id)).sort());
  expect(appliedTwice(after)).toEqual([]);
  // No step that had completed before the kill was applied by a resumed process.
  const resumedAt = after.findIndex((e) => e.type === 'run.resumed' && e.seq > killedAt);
  expect(after.slice(resumedAt).filter((e) => e.type === 'step.applied' && doneBefore.has(e.step))).toEqual([]);
  const verify = await cli(['audit', 'verify', id], { home });
  expect(verify.code, verify.stdout).toBe(0);
}

/**
 * Crash points: the first run is killed once its journal has N lines (every 4th line, and the
 * lines around a create: 61 between CreateSnapshots and the snapshots' tags, 79 the lifecycle
 * policy created but not journaled); the resume after the approval is killed at every 3rd line.
 * The kill is sent when the CLI has written N lines, with 60 ms per AWS call, so it lands at line
 * N or a line or two later (the journal before the kill is asserted not to be finished).
 */
const FIRST_RUN = [...new Set([...Array.from({ length: 26 }, (_, i) => 2 + 4 * i), 61, 79])].sort((a, b) => a - b);
const AFTER_APPROVAL = Array.from({ length: 8 }, (_, i) => 1 + 3 * i);

/** Two crash points at a time: each is three or four CLI processes against a world with per-call latency. */
const two = pLimit(2);

describe('kill -9 at any point of the reference incident, then resume', () => {
  it.concurrent.each(FIRST_RUN)(
    'the first run killed once its journal has %i lines',
    (lines) =>
      two(async () => {
        const ref = await referenceRun();
        expect(lines).toBeLessThan(ref.firstRunLines);
        const home = tempHome();
        const id = await killAfter(home, slowWorld(home), lines);
        const before = journal(home, id);
        expect(
          before.some((e) => e.type === 'run.waiting'),
          'the kill landed after the run had finished',
        ).toBe(false);
        await finish(home, id, 'run');
        await expectReferenceEnd(home, id, new Set(completedKeys(before)), before.length);
      }),
    900_000,
  );

  it.concurrent.each(AFTER_APPROVAL)(
    'the resume after the approval killed once it has written %i lines',
    (extra) =>
      two(async () => {
        const ref = await referenceRun();
        const home = tempHome();
        const first = await cli(args(slowWorld(home)), { home });
        expect(first.code, first.stderr).toBe(3);
        const id = runIds(home)[0]!;
        const at = journal(home, id).length + extra;
        expect(at).toBeLessThan(ref.lines);
        expect((await cli(['approve', id, 'revoke-role-sessions'], { home })).code).toBe(0);
        await killWhen(home, ['resume', id, '--auto'], (text) => text.split('\n').length - 1 >= at);
        const before = journal(home, id);
        expect(lastStop(before)?.step === 'open-case', 'the kill landed after the resume had finished').toBe(false);
        const resumed = await cli(['resume', id, '--auto'], { home });
        expect(resumed.code, resumed.stdout + resumed.stderr).toBe(3);
        await expectReferenceEnd(home, id, new Set(completedKeys(before)), before.length);
      }),
    900_000,
  );
});

describe('a manual task after a policy approval', () => {
  it('is still waiting for a person after a resume nobody answered (the approval is not replayed as its answer)', async () => {
    const home = tempHome();
    expect((await cli(args(join(ROOT, 'worlds/demo.yaml')), { home })).code).toBe(3);
    const id = runIds(home)[0]!;
    await finish(home, id, 'resume');
    const again = await cli(['resume', id, '--auto'], { home });
    expect(again.code, again.stdout + again.stderr).toBe(3);
    const events = journal(home, id);
    expect(lastStop(events)).toMatchObject({ type: 'run.waiting', step: 'open-case', kind: 'manual' });
    expect(events.filter((e) => e.type === 'step.completed' && e.step === 'open-case')).toEqual([]);
  }, 60_000);
});
