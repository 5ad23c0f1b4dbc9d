/**
 * Durability: kill -9 the CLI after every line of the reference incident's journal — the first run
 * up to its wait for approval, the approval, and the resumed run — resume it, and compare with the
 * run that was never interrupted: the same world, every step completed once, no step applied twice,
 * and `audit verify` passing. The kill is exact: the journal's crash hook (FIREBREAK_CRASH_AFTER_LINE)
 * makes the process SIGKILL itself right after line N is written, before the head moves.
 */
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { describe, expect, it } from 'vitest';
import { cli, cliCrashingAfter, journal, ROOT, runIds, tempHome, world } from '../helpers/cli.js';

const INSTANCE = 'i-0abc123def4567890';
const args = (worldFile: string) => ['run', 'ec2-instance-compromise', '--sim', worldFile, '--auto', '--input', `instanceId=${INSTANCE}`];
const DEMO = join(ROOT, 'worlds/demo.yaml');
type Events = Array<{ type: string; [k: string]: any }>;
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

/**
 * The reference run, never interrupted, with copies of its FIREBREAK_HOME taken after the first run
 * and after the approval: a crash point in a later process starts from a copy of the state the
 * processes before it left (the run folder holds no absolute path of its home).
 */
async function referenceRun() {
  const home = tempHome();
  const first = await cli(args(DEMO), { home });
  expect(first.code, first.stderr).toBe(3);
  const id = runIds(home)[0]!;
  const afterRun = tempHome('fb-after-run-');
  cpSync(home, afterRun, { recursive: true });
  const runLines = journal(home, id).length;
  expect((await cli(['approve', id, 'revoke-role-sessions'], { home })).code).toBe(0);
  const afterApprove = tempHome('fb-after-approve-');
  cpSync(home, afterApprove, { recursive: true });
  const approveLines = journal(home, id).length;
  const resumed = await cli(['resume', id, '--auto'], { home });
  expect(resumed.code, resumed.stdout + resumed.stderr).toBe(3);
  return { home, id, afterRun, afterApprove, runLines, approveLines, lines: journal(home, id).length };
}

// Computed once, before the tests are collected: the crash points are the reference's lines.
const ref = await referenceRun();

async function expectReferenceEnd(home: string, id: string, before: Events) {
  const after = journal(home, id);
  expect(lastStop(after)).toMatchObject({ type: 'run.waiting', step: 'open-case', kind: 'manual' });
  expect(normalize(world(home, id), id)).toEqual(normalize(world(ref.home, ref.id), ref.id));
  expect(created(world(home, id))).toEqual(created(world(ref.home, ref.id)));
  // Every step completed exactly once across all processes.
  const keys = completedKeys(after);
  expect(new Set(keys).size).toBe(keys.length);
  expect(keys.sort()).toEqual(completedKeys(journal(ref.home, ref.id)).sort());
  expect(appliedTwice(after)).toEqual([]);
  // No step that had completed before the kill was applied by a resumed process.
  const doneBefore = new Set(completedKeys(before));
  const resumedAt = after.findIndex((e) => e.type === 'run.resumed' && e.seq > before.length);
  expect(resumedAt).toBeGreaterThan(0);
  expect(after.slice(resumedAt).filter((e) => e.type === 'step.applied' && doneBefore.has(e.step))).toEqual([]);
  const verify = await cli(['audit', 'verify', id], { home });
  expect(verify.code, verify.stdout + verify.stderr).toBe(0);
}

/** Kill the process `args` after journal line `line`; the journal then has exactly that many lines. */
async function crash(home: string, cmd: string[], line: number, id?: string): Promise<{ id: string; before: Events }> {
  const killed = await cliCrashingAfter(cmd, { home, line });
  expect(killed.signal, `the process ended with code ${killed.code} before line ${line}: ${killed.stderr}`).toBe('SIGKILL');
  const runId = id ?? runIds(home)[0]!;
  const before = journal(home, runId);
  expect(before.length).toBe(line);
  return { id: runId, before };
}

const copyOf = (state: string) => {
  const home = tempHome();
  cpSync(state, home, { recursive: true });
  return home;
};

const lines = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const IN_RUN = lines(1, ref.runLines);
const IN_APPROVE = lines(ref.runLines + 1, ref.approveLines);
const IN_RESUME = lines(ref.approveLines + 1, ref.lines);

/** Two crash points at a time: each is three to five CLI processes. */
const two = pLimit(2);
const TIMEOUT = 900_000;

describe('kill -9 after every line of the reference incident, then resume', () => {
  it('the crash points are every line of the reference journal: the run, the approval and the resume', () => {
    const events = journal(ref.home, ref.id);
    expect(events[ref.runLines - 1]).toMatchObject({ type: 'run.waiting', step: 'revoke-role-sessions' });
    expect(events.slice(ref.runLines, ref.approveLines).map((e) => e.type)).toEqual(['approval.answered']);
    expect(events.at(-1)).toMatchObject({ type: 'run.waiting', step: 'open-case', kind: 'manual' });
    expect([...IN_RUN, ...IN_APPROVE, ...IN_RESUME]).toEqual(lines(1, events.length));
  });

  it.concurrent.each(IN_RUN)(
    'the first run killed after line %i',
    (line) =>
      two(async () => {
        const home = tempHome();
        const { id, before } = await crash(home, args(DEMO), line);
        await finish(home, id, 'run');
        await expectReferenceEnd(home, id, before);
      }),
    TIMEOUT,
  );

  it.concurrent.each(IN_APPROVE)(
    'the approval killed after line %i',
    (line) =>
      two(async () => {
        const home = copyOf(ref.afterRun);
        const { id, before } = await crash(home, ['approve', ref.id, 'revoke-role-sessions'], line, ref.id);
        const resumed = await cli(['resume', id, '--auto'], { home });
        expect(resumed.code, resumed.stdout + resumed.stderr).toBe(3);
        await expectReferenceEnd(home, id, before);
      }),
    TIMEOUT,
  );

  it.concurrent.each(IN_RESUME)(
    'the resume after the approval killed after line %i',
    (line) =>
      two(async () => {
        const home = copyOf(ref.afterApprove);
        const { id, before } = await crash(home, ['resume', ref.id, '--auto'], line, ref.id);
        const resumed = await cli(['resume', id, '--auto'], { home });
        expect(resumed.code, resumed.stdout + resumed.stderr).toBe(3);
        await expectReferenceEnd(home, id, before);
      }),
    TIMEOUT,
  );
});

describe('a manual task after a policy approval', () => {
  it('is still waiting for a person after a resume nobody answered (the approval is not replayed as its answer)', async () => {
    const home = tempHome();
    expect((await cli(args(DEMO), { home })).code).toBe(3);
    const id = runIds(home)[0]!;
    await finish(home, id, 'resume');
    const again = await cli(['resume', id, '--auto'], { home });
    expect(again.code, again.stdout + again.stderr).toBe(3);
    const events = journal(home, id);
    expect(lastStop(events)).toMatchObject({ type: 'run.waiting', step: 'open-case', kind: 'manual' });
    expect(events.filter((e) => e.type === 'step.completed' && e.step === 'open-case')).toEqual([]);
  }, 60_000);
});
