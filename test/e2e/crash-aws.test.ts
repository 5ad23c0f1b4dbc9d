/**
 * Durability with store: aws — kill -9 the CLI right after every line of the reference incident's
 * journal is acknowledged by the table (the crash hook, FIREBREAK_CRASH_AFTER_LINE, is taken over
 * by the AWS store: it fires once the conditional write of line N returned), then resume from the
 * table and compare with the run never interrupted: the same world, every step completed once, no
 * step applied twice, one item per seq with what the table held at the kill unchanged byte for byte
 * (no fork, no lost decision), the working copy equal to the table, and `audit verify` passing
 * against the sealed digests.
 *
 * With this store `firebreak approve` writes the approval record, not a journal line: the crash
 * points are the first run's lines (up to its wait for approval) and the resume's lines after the
 * approval. One dynalite and one simulated S3 serve the whole file; two crash points run at a time.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBDocumentClient, paginateScan } from '@aws-sdk/lib-dynamodb';
import pLimit from 'p-limit';
import { afterAll, describe, expect, it } from 'vitest';
import { eventOf } from '../../src/store/types.js';
import { BIN, cli, cliEnv, ROOT } from '../helpers/cli.js';
import { dynamoClient, startStoreServers } from '../store/harness.js';

const INSTANCE = 'i-0abc123def4567890';
type Events = Array<{ type: string; seq: number; [k: string]: any }>;

// The shortest lease the config allows: a killed writer's leases are free 5 s after its last renewal.
const s = await startStoreServers({ leaseSeconds: 5 });
afterAll(() => s.close());
const store = s.store();
const dynamo = DynamoDBDocumentClient.from(dynamoClient(s.env.AWS_ENDPOINT_URL_DYNAMODB!));

/** A working folder with the store's config; the world file is copied in (the folder is the only place the run touches). */
function machine() {
  const dir = s.folder();
  const world = join(dir, 'demo.yaml');
  writeFileSync(world, readFileSync(join(ROOT, 'worlds/demo.yaml'), 'utf8'));
  return { dir, home: join(dir, '.firebreak'), world };
}
type Machine = ReturnType<typeof machine>;
const run = (m: Machine) => ['run', 'ec2-instance-compromise', '--sim', m.world, '--auto', '--input', `instanceId=${INSTANCE}`];
const fb = (m: Machine, args: string[]) => cli(args, { home: m.home, cwd: m.dir, env: s.env });
const runIdOf = (m: Machine) => readdirSync(join(m.home, 'runs'))[0]!;
const table = async (id: string): Promise<Events> => (await store.readEvents(id)).map(eventOf) as Events;
const worldOf = (m: Machine, id: string) => JSON.parse(readFileSync(join(m.home, 'runs', id, 'world.json'), 'utf8'));

function crashingAfter(
  m: Machine,
  args: string[],
  line: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env = cliEnv(m.home, { ...s.env, FIREBREAK_CRASH_AFTER_LINE: String(line) });
    const child = spawn(process.execPath, [BIN, ...args], { cwd: m.dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

/**
 * Wait, without a process, until every lease the killed writer held has expired by the store's
 * clock (the system clock here, as in the CLI): until then its run and targets are not taken over.
 */
async function leasesExpired(id: string): Promise<void> {
  for (;;) {
    // Every page: the table holds every crash point's journal, far more than one Scan page.
    const held: Array<Record<string, unknown>> = [];
    const pages = paginateScan(
      { client: dynamo },
      {
        TableName: s.config.table,
        ConsistentRead: true,
        FilterExpression: 'sk = :lease AND runId = :id',
        ExpressionAttributeValues: { ':lease': 'LEASE', ':id': id },
      },
    );
    for await (const page of pages) held.push(...(page.Items ?? []));
    const last = Math.max(0, ...held.map((i) => Number(i.expiresAtMs)));
    if (last < Date.now()) return;
    await new Promise((r) => setTimeout(r, last - Date.now() + 50));
  }
}

function normalize(w: unknown, runId: string): unknown {
  return JSON.parse(
    JSON.stringify(w)
      .split(runId)
      .join('RUN')
      .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, 'TIME'),
    (k, v) => (/(At|Time|time|Date)$/.test(k) || k === 'firebreak:isolated-at' ? undefined : v),
  );
}
const completed = (events: Events) => events.filter((e) => e.type === 'step.completed').map((e) => String(e.step));
const appliedTwice = (events: Events) => {
  const keys = events.filter((e) => e.type === 'step.applied').map((e) => (e.item === undefined ? e.step : `${e.step}[${e.item}]`));
  return keys.filter((k, i) => keys.indexOf(k) !== i);
};
const lastStop = (events: Events) =>
  events.filter((e) => ['run.resumed', 'run.waiting', 'run.ended', 'run.interrupted'].includes(e.type)).at(-1);
const created = (w: any) => ({
  isolationGroups: w.ec2.securityGroups.filter((g: any) => g.name.startsWith('firebreak-isolation')).length,
  snapshots: w.ec2.snapshots.length,
  lifecyclePolicies: w.dlm.policies.length,
});

/** The reference: the first run stops for approval of revoke-role-sessions; approved; resumed, it stops at the manual case. */
async function referenceRun() {
  const m = machine();
  expect((await fb(m, run(m))).code).toBe(3);
  const id = runIdOf(m);
  const runLines = (await table(id)).length;
  expect((await fb(m, ['approve', id, 'revoke-role-sessions'])).code).toBe(0);
  const resumed = await fb(m, ['resume', id, '--auto']);
  expect(resumed.code, resumed.stdout + resumed.stderr).toBe(3);
  return { m, id, runLines, events: await table(id) };
}
const ref = await referenceRun();

/**
 * Resume (after the dead writer's leases expired) at least once — even a kill after the last line
 * is resumed — approving if the run stopped for it, until it waits at the manual case.
 */
async function finish(m: Machine, id: string) {
  await leasesExpired(id);
  for (let i = 0; i < 3; i++) {
    const last = lastStop(await table(id));
    if (i > 0 && last?.type === 'run.waiting' && last.step === 'open-case') return;
    if (last?.type === 'run.waiting' && last.step === 'revoke-role-sessions')
      expect((await fb(m, ['approve', id, 'revoke-role-sessions'])).code).toBe(0);
    const resumed = await fb(m, ['resume', id, '--auto']);
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(3);
  }
}

async function expectReferenceEnd(m: Machine, id: string, atKill: Events) {
  const stored = await store.readEvents(id);
  const after = stored.map(eventOf) as Events;
  // One item per seq, 1..n; every line the table held at the kill is still there, unchanged.
  expect(after.map((e) => e.seq)).toEqual(after.map((_, i) => i + 1));
  expect(after.slice(0, atKill.length)).toEqual(atKill);
  expect(readFileSync(join(m.home, 'runs', id, 'journal.jsonl'), 'utf8')).toBe(stored.map((e) => `${e.line}\n`).join(''));
  expect(lastStop(after)).toMatchObject({ type: 'run.waiting', step: 'open-case', kind: 'manual' });
  const keys = completed(after);
  expect(new Set(keys).size).toBe(keys.length);
  expect([...keys].sort()).toEqual(completed(ref.events).sort());
  expect(appliedTwice(after)).toEqual([]);
  // No step completed before the kill was applied again by a resumed process.
  const doneBefore = new Set(completed(atKill));
  const resumedAt = after.findIndex((e) => e.type === 'run.resumed' && e.seq > atKill.length);
  expect(resumedAt).toBeGreaterThan(0);
  expect(after.slice(resumedAt).filter((e) => e.type === 'step.applied' && doneBefore.has(e.step))).toEqual([]);
  expect(normalize(worldOf(m, id), id)).toEqual(normalize(worldOf(ref.m, ref.id), ref.id));
  expect(created(worldOf(m, id))).toEqual(created(worldOf(ref.m, ref.id)));
  const verify = await fb(m, ['audit', 'verify', id]);
  expect(verify.code, verify.stdout + verify.stderr).toBe(0);
}

/** Kill the process after line `line` reached the table: the table then holds exactly that many lines. */
async function crash(m: Machine, args: string[], line: number, id?: string): Promise<{ id: string; atKill: Events }> {
  const killed = await crashingAfter(m, args, line);
  expect(killed.signal, `the process ended with code ${killed.code} before line ${line}: ${killed.stderr}`).toBe('SIGKILL');
  const runId = id ?? runIdOf(m);
  const atKill = await table(runId);
  expect(atKill.length).toBe(line);
  return { id: runId, atKill };
}

const lines = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const IN_RUN = lines(1, ref.runLines);
const IN_RESUME = lines(ref.runLines + 1, ref.events.length);
/** CLI processes two at a time; the waits for a dead writer's lease hold no slot. */
const two = pLimit(2);
const TIMEOUT = 1_800_000;

describe('kill -9 after every line of the reference incident with store: aws, then resume', () => {
  it('the crash points are every line of the reference journal: the run and the resume after the approval', () => {
    expect(ref.events[ref.runLines - 1]).toMatchObject({ type: 'run.waiting', step: 'revoke-role-sessions' });
    expect(ref.events[ref.runLines]).toMatchObject({ type: 'run.resumed' });
    expect(ref.events.some((e) => e.type === 'approval.answered' && e.seq > ref.runLines)).toBe(true);
    expect(ref.events.at(-1)).toMatchObject({ type: 'run.waiting', step: 'open-case', kind: 'manual' });
    expect([...IN_RUN, ...IN_RESUME]).toEqual(lines(1, ref.events.length));
  });

  it.concurrent.each(IN_RUN)(
    'the first run killed after line %i reached the table',
    async (line) => {
      const m = machine();
      const { id, atKill } = await two(() => crash(m, run(m), line));
      await leasesExpired(id);
      await two(() => finish(m, id));
      await two(() => expectReferenceEnd(m, id, atKill));
    },
    TIMEOUT,
  );

  it.concurrent.each(IN_RESUME)(
    'the resume after the approval killed after line %i reached the table',
    async (line) => {
      const m = machine();
      const id = await two(async () => {
        expect((await fb(m, run(m))).code).toBe(3);
        const runId = runIdOf(m);
        expect((await fb(m, ['approve', runId, 'revoke-role-sessions'])).code).toBe(0);
        return runId;
      });
      const { atKill } = await two(() => crash(m, ['resume', id, '--auto'], line, id));
      await leasesExpired(id);
      await two(() => finish(m, id));
      await two(() => expectReferenceEnd(m, id, atKill));
    },
    TIMEOUT,
  );
});
