/**
 * kill -9 of the writer with store: aws, at a sample of the reference playbook's journal events,
 * then resume: the same end state as a run never interrupted, one item per seq with the chain
 * intact (verified from another folder against the sealed digests), and every line the table
 * held at the kill still there, byte for byte (no lost decision, no fork).
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cli, cliEnv, ROOT } from '../helpers/cli.js';
import { eventOf } from '../../src/store/types.js';
import { startStoreServers, type StoreServers } from './harness.js';

const INSTANCE = 'i-0abc123def4567890';
let s: StoreServers;
beforeAll(async () => {
  // A short lease: the killed writer's run lease is taken over 5 s after its last renewal.
  s = await startStoreServers({ leaseSeconds: 5 });
});
afterAll(async () => {
  await s?.close();
});

/** A working folder with the store's config and the demo world slowed to 60 ms a call, so kills land between calls. */
function machine(): { dir: string; home: string; world: string } {
  const dir = s.folder();
  const world = join(dir, 'slow-world.yaml');
  writeFileSync(world, `${readFileSync(join(ROOT, 'worlds/demo.yaml'), 'utf8')}\nlatencyMs: 60\n`);
  return { dir, home: join(dir, '.firebreak'), world };
}
const args = (world: string) => ['run', 'ec2-instance-compromise', '--sim', world, '--auto', '--input', `instanceId=${INSTANCE}`];
const runDirOf = (home: string) => {
  const runs = join(home, 'runs');
  const id = existsSync(runs) ? readdirSync(runs)[0] : undefined;
  return id ? { id, dir: join(runs, id) } : undefined;
};
const lineCount = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').length - 1 : 0);

async function killAfter(m: ReturnType<typeof machine>, lines: number): Promise<string> {
  const child = spawn(process.execPath, [BIN, ...args(m.world)], { cwd: m.dir, env: cliEnv(m.home, s.env), stdio: 'ignore' });
  const exited = new Promise((r) => child.on('close', r));
  let run: ReturnType<typeof runDirOf>;
  for (let i = 0; i < 12_000; i++) {
    await new Promise((r) => setTimeout(r, 5));
    run ??= runDirOf(m.home);
    if (run && lineCount(join(run.dir, 'journal.jsonl')) >= lines) break;
  }
  child.kill('SIGKILL');
  await exited;
  return run!.id;
}

function normalize(w: unknown, runId: string): unknown {
  return JSON.parse(JSON.stringify(w).split(runId).join('RUN'), (k, v) =>
    /(At|Time|time|Date)$/.test(k) || k === 'firebreak:isolated-at' ? undefined : v,
  );
}
const worldOf = (home: string, id: string) => JSON.parse(readFileSync(join(home, 'runs', id, 'world.json'), 'utf8'));
const completed = (events: Array<{ type: string; step?: unknown }>) =>
  events
    .filter((e) => e.type === 'step.completed')
    .map((e) => String(e.step))
    .sort();

let base: { id: string; home: string } | undefined;
async function baseline() {
  if (base) return base;
  const m = machine();
  const r = await cli(args(m.world), { home: m.home, cwd: m.dir, env: s.env });
  expect(r.code, r.stderr).toBe(3);
  base = { id: runDirOf(m.home)!.id, home: m.home };
  return base;
}

describe('kill -9 of the writer with store: aws, then resume', () => {
  // Every 15th event of the ~90 the run writes before it waits for a person.
  it.each([2, 15, 30, 45, 60, 75])('killed once the journal has %i lines', { timeout: 180_000 }, async (lines) => {
    const b = await baseline();
    const aws = s.store();
    const m = machine();
    const id = await killAfter(m, lines);
    const atKill = await aws.readEvents(id);
    expect(
      atKill.some((e) => eventOf(e).type === 'run.waiting'),
      'the kill landed after the run had stopped',
    ).toBe(false);

    // The dead writer's lease expires by the store's clock; until then resume is refused, after it resume takes over.
    let resumed: Awaited<ReturnType<typeof cli>> | undefined;
    for (let i = 0; i < 30; i++) {
      resumed = await cli(['resume', id, '--auto'], { home: m.home, cwd: m.dir, env: s.env });
      if (!/active in another process/.test(resumed.stdout + resumed.stderr)) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(resumed!.code, resumed!.stdout + resumed!.stderr).toBe(3);

    const after = await aws.readEvents(id);
    // One item per seq, 1..n, and what the table held at the kill is unchanged.
    expect(after.map((e) => e.seq)).toEqual(after.map((_, i) => i + 1));
    expect(after.slice(0, atKill.length)).toEqual(atKill);
    // The working copy is the table's.
    expect(readFileSync(join(m.home, 'runs', id, 'journal.jsonl'), 'utf8')).toBe(after.map((e) => `${e.line}\n`).join(''));
    // Same end state as the run never interrupted, each step completed once.
    const events = after.map(eventOf);
    const baseEvents = (await aws.readEvents(b.id)).map(eventOf);
    expect(completed(events)).toEqual(completed(baseEvents));
    expect(events.at(-1)).toMatchObject({ type: 'run.waiting', step: baseEvents.at(-1)!.step });
    expect(normalize(worldOf(m.home, id), id)).toEqual(normalize(worldOf(b.home, b.id), b.id));

    const verify = await cli(['audit', 'verify', id], { home: join(s.folder(), '.firebreak'), cwd: s.folder(), env: s.env });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(new RegExp(`^ok: ${after.length} events in table`));
  });
});
