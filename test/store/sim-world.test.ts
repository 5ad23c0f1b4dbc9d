/**
 * A `--sim` rehearsal with store: aws continues on another machine: its simulated world is saved
 * to the store beside the run at each seal (here, the interruption and the waits), so a second
 * working folder with no run folder resumes it against the same world and ends where a run never
 * interrupted ends.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JournalEvent } from '../../src/audit/journal.js';
import { simWorldKey } from '../../src/store/sim-world.js';
import { eventOf } from '../../src/store/types.js';
import { BIN, cli, cliEnv, ROOT } from '../helpers/cli.js';
import { startStoreServers, type StoreServers } from './harness.js';

const INSTANCE = 'i-0abc123def4567890';
let s: StoreServers;
beforeAll(async () => {
  s = await startStoreServers();
});
afterAll(async () => {
  await s?.close();
});

/** A working folder; the world slowed to 60 ms a call so the interruption lands mid-run. */
function machine() {
  const dir = s.folder();
  const world = join(dir, 'slow-world.yaml');
  writeFileSync(world, `${readFileSync(join(ROOT, 'worlds/demo.yaml'), 'utf8')}\nlatencyMs: 60\n`);
  return { dir, home: join(dir, '.firebreak'), world };
}
type Machine = ReturnType<typeof machine>;
const args = (m: Machine) => ['run', 'ec2-instance-compromise', '--sim', m.world, '--auto', '--input', `instanceId=${INSTANCE}`];
const fb = (m: Machine, a: string[]) => cli(a, { home: m.home, cwd: m.dir, env: s.env });
const table = async (id: string): Promise<JournalEvent[]> => (await s.store().readEvents(id)).map(eventOf);
const worldOf = (m: Machine, id: string) => JSON.parse(readFileSync(join(m.home, 'runs', id, 'world.json'), 'utf8'));
const normalize = (w: unknown, runId: string): unknown =>
  JSON.parse(
    JSON.stringify(w)
      .split(runId)
      .join('RUN')
      .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, 'TIME'),
    (k, v) => (/(At|Time|time|Date)$/.test(k) || k === 'firebreak:isolated-at' ? undefined : v),
  );

/** Approve the policy step and resume until the run waits at the manual case. */
async function toManualCase(m: Machine, id: string) {
  for (let i = 0; i < 3; i++) {
    const last = (await table(id)).filter((e) => e.type === 'run.waiting' || e.type === 'run.interrupted').at(-1);
    if (last?.type === 'run.waiting' && last.step === 'open-case') return;
    if (last?.type === 'run.waiting' && last.step === 'revoke-role-sessions')
      expect((await fb(m, ['approve', id, 'revoke-role-sessions'])).code).toBe(0);
    const r = await fb(m, ['resume', id, '--auto']);
    expect(r.code, r.stdout + r.stderr).toBe(3);
  }
}

describe('a --sim run with store: aws, resumed from a second folder', () => {
  it('continues against the world saved in the store and ends as a run never interrupted', { timeout: 240_000 }, async () => {
    const ref = machine();
    expect((await fb(ref, args(ref))).code).toBe(3);
    const refId = (await s.store().listRuns())[0]!.runId;
    await toManualCase(ref, refId);

    // Interrupted (SIGINT) once the isolation and protection steps are done.
    const first = machine();
    const child = spawn(process.execPath, [BIN, ...args(first)], { cwd: first.dir, env: cliEnv(first.home, s.env), stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => child.on('close', r));
    const runs = join(first.home, 'runs');
    const lines = () => {
      const id = existsSync(runs) ? readdirSync(runs)[0] : undefined;
      const file = id ? join(runs, id, 'journal.jsonl') : '';
      return id && existsSync(file) ? { id, n: readFileSync(file, 'utf8').split('\n').length - 1 } : undefined;
    };
    for (let i = 0; i < 6000 && (lines()?.n ?? 0) < 20; i++) await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGINT');
    await exited;
    const runId = lines()!.id;
    const atStop = await table(runId);
    expect(atStop.at(-1)?.type).toBe('run.interrupted');
    const stored = s.cloud.world.s3.buckets[0]!.objects[simWorldKey(runId)];
    expect(stored, 'the world is in the store').toBeDefined();

    const second = machine();
    expect(existsSync(join(second.home, 'runs', runId))).toBe(false);
    await toManualCase(second, runId);
    const after = await table(runId);
    expect(after.slice(0, atStop.length)).toEqual(atStop);
    const completed = after.filter((e) => e.type === 'step.completed').map((e) => String(e.step));
    expect(new Set(completed).size).toBe(completed.length);
    expect(normalize(worldOf(second, runId), runId)).toEqual(normalize(worldOf(ref, refId), refId));

    // `report` from a third folder reads the run from the store.
    const third = machine();
    const report = await fb(third, ['report', runId]);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout).toContain(INSTANCE);
  });
});
