/**
 * The real worker on aws-local-stepfunctions, and the CLI's path, for the same playbook on the same
 * world: `sfnRun` executes the compiled ASL with every task the real worker (`engineWorker`: the
 * engine's own step code, journal and audited clients) against the simulated cloud and a local run
 * store, every task token answered through `firebreak approve`; `cliRun` runs the playbook with
 * `startRun`/`resumeRun` and the automatic host, answering with `firebreak approve`. `decisions`
 * and `worldOf` are what the two must agree on.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { parse, stringify } from 'yaml';
import { getAction } from '../../src/actions/registry.js';
import { chooseBackend } from '../../src/backend/backend.js';
import { approve } from '../../src/cli/commands/approve.js';
import { autoHost } from '../../src/engine/auto-host.js';
import { localRunStore } from '../../src/engine/local-store.js';
import { resumeRun, startRun } from '../../src/engine/session.js';
import { compileToAsl } from '../../src/sfn/compile.js';
import { engineWorker } from '../../src/sfn/engine-worker.js';
import type { StepT } from '../../src/playbook/schema.js';
import { loadForSfn } from '../../src/sfn/playbooks.js';
import { workerHandler, type WorkerTaskT } from '../../src/sfn/worker.js';
import { tempHome } from '../helpers/cli.js';
import { runLocal, TaskTokens } from './local-sfn.js';

const WORKER = 'arn:aws:lambda:us-east-1:111122223333:function:firebreak-worker';
export type Answer = 'approve' | 'deny' | 'abort';

/** The branch each step of a parallel step belongs to (`<parallel>/<index>`), by step id. */
function branchesOf(playbook: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (steps: Record<string, StepT>) => {
    for (const [id, st] of Object.entries(steps))
      if (st.type === 'parallel')
        for (const [i, b] of st.branches.entries()) {
          for (const sub of Object.keys(b.steps)) out.set(sub, `${id}/${i}`);
          walk(b.steps);
        }
  };
  walk(loadForSfn(playbook).playbook.steps);
  return out;
}

/**
 * The decisions a journal records, in order (ids and times aside), the run's end included; a map's
 * items in index order, and the branches of a parallel step one after the other (both run their
 * branches concurrently, interleaved differently).
 */
export function decisions(events: ReadonlyArray<Record<string, unknown>>, playbook?: string): string[] {
  const kept = new Set([
    'approval.requested',
    'approval.answered',
    'manual.requested',
    'choice.taken',
    'step.applied',
    'step.completed',
    'step.failed',
    'item.completed',
    'run.ended',
  ]);
  const branch = playbook ? branchesOf(playbook) : new Map<string, string>();
  const rows = events
    .filter((e) => kept.has(String(e.type)))
    .map((e) => {
      const item = e.index ?? e.item;
      const what =
        e.type === 'step.completed'
          ? ` ${e.status}`
          : e.type === 'approval.answered'
            ? ` ${e.decision}`
            : e.type === 'choice.taken'
              ? ` ${e.next}`
              : e.type === 'step.failed'
                ? ` ${(e.error as { code: string }).code}${e.handled ? ` → ${e.next}` : ' (unhandled)'}`
                : e.type === 'run.ended'
                  ? ` ${e.status} ${e.outcome}`
                  : '';
      const step = String(e.step ?? '').replace(/#\d+$/, '');
      return {
        row: `${e.type}${e.step === undefined ? '' : ` ${e.step}`}${item === undefined ? '' : `[${item}]`}${what}`,
        group: `${e.type} ${e.step}`,
        item: Number(item ?? 0),
        isItem: item !== undefined,
        branch: branch.get(step),
      };
    });
  // Items run concurrently in both, interleaved differently: each stretch of item events is compared as a set.
  const out: typeof rows = [];
  let stretch: typeof rows = [];
  const flush = () => {
    out.push(...stretch.sort((x, y) => x.group.localeCompare(y.group) || x.item - y.item));
    stretch = [];
  };
  for (const r of rows) {
    if (r.isItem) stretch.push(r);
    else {
      flush();
      out.push(r);
    }
  }
  flush();
  // A stretch of rows from parallel branches: each branch's rows in their order, the branches in order (a stable sort).
  const sorted: typeof rows = [];
  for (let i = 0; i < out.length; ) {
    let j = i;
    while (j < out.length && out[j]!.branch !== undefined) j++;
    if (j === i) sorted.push(out[i++]!);
    else {
      sorted.push(...out.slice(i, j).sort((x, y) => x.branch!.localeCompare(y.branch!)));
      i = j;
    }
  }
  return sorted.map((r) => r.row);
}

/** The demo world with a Business support plan (CreateCase works), and with a fleet of `n` unprotected instances of one image (web-1 and n - 1 more). */
export function worlds(n: number) {
  const dir = tempHome('fb-worlds-');
  const demo = readFileSync('worlds/demo.yaml', 'utf8');
  const business = demo.replace(/plan: basic\b/, 'plan: business');
  expect(business).not.toEqual(demo);
  const doc = parse(business);
  for (let i = 0; i < n - 1; i++) {
    const hex = (i + 1).toString(16).padStart(4, '0');
    const vol = `vol-0f1e${hex}00000000a`;
    doc.ec2.instances.push({
      id: `i-0f1e${hex}00000000a`,
      imageId: 'ami-0c55b159cbfafe1f0',
      instanceType: 't3.medium',
      subnetId: 'subnet-0aa11bb22cc33dd44',
      blockDevices: [{ deviceName: '/dev/xvda', volumeId: vol, deleteOnTermination: true }],
      tags: { Name: `fleet-${i}` },
    });
    doc.ec2.volumes.push({ id: vol, size: 8, volumeType: 'gp3', availabilityZone: 'us-east-1a' });
    doc.ec2.networkInterfaces.push({
      id: `eni-0f1e${hex}00000000a`,
      subnetId: 'subnet-0aa11bb22cc33dd44',
      privateIpAddress: `10.0.1.${100 + i}`,
      groups: ['sg-0123456789abcdef0'],
      attachment: { instanceId: `i-0f1e${hex}00000000a`, deviceIndex: 0 },
    });
  }
  const denied = parse(business);
  denied.faults = [{ operation: 'ec2:CreateSnapshots', error: 'AccessDenied' }];
  writeFileSync(join(dir, 'snapshots-denied.yaml'), stringify(denied));
  writeFileSync(join(dir, 'business.yaml'), business);
  writeFileSync(join(dir, 'fleet.yaml'), stringify(doc));
  return { business: join(dir, 'business.yaml'), fleet: join(dir, 'fleet.yaml'), snapshotsDenied: join(dir, 'snapshots-denied.yaml') };
}
export const WORLDS = worlds(50);

/** Someone fixes the cause (grants the permission): the run's world loses its injected faults. */
export function fixCause(home: string, runId: string) {
  const file = join(home, 'runs', runId, 'world.json');
  const w = JSON.parse(readFileSync(file, 'utf8'));
  expect(w.faults?.length).toBeGreaterThan(0);
  w.faults = [];
  writeFileSync(file, JSON.stringify(w));
}

export const journalOf = async (home: string, runId: string) =>
  (await localRunStore({ home }).open(runId)).readJournal() as unknown as Array<Record<string, unknown>>;
/** The simulated cloud at the run's end, times aside (a tag or field stamped with the moment of a change). */
export const worldOf = (home: string, runId: string) =>
  JSON.parse(readFileSync(join(home, 'runs', runId, 'world.json'), 'utf8').replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<time>'));

/** The playbook through the CLI's path: startRun with the automatic host, `firebreak approve`, resumeRun, until it ends. */
export async function cliRun(playbook: string, inputs: Record<string, unknown>, answers: Record<string, Answer>, world: string | true) {
  const home = tempHome();
  const backend = () => chooseBackend({ sim: world });
  let out = await (
    await startRun({ run: { playbook, inputs, runId: 'run-1', incident: 'inc-1' }, backend: backend(), host: autoHost(), home })
  ).result;
  while (out.status === 'waiting') {
    const step = out.waitingStep!;
    const a = answers[step.replace(/#\d+$/, '')] ?? 'approve';
    await approve('run-1', step, { home, deny: a === 'deny', abort: a === 'abort', json: true });
    out = await (await resumeRun({ runId: 'run-1', backend: backend(), host: autoHost(), home })).result;
  }
  return { out, home, events: await journalOf(home, 'run-1'), world: worldOf(home, 'run-1') };
}

/** The playbook's ASL on aws-local-stepfunctions, every task the real worker, every token answered as `firebreak approve` answers it. */
export async function sfnRun(
  playbook: string,
  inputs: Record<string, unknown>,
  answers: Record<string, Answer>,
  world: string | true,
  home = tempHome(),
  tokens = new TaskTokens(),
) {
  const loaded = loadForSfn(playbook);
  const asl = compileToAsl(loaded.playbook, { permissionsOf: (a) => getAction(a).permissions, workerFunction: WORKER });
  const store = localRunStore({ home });
  const worker = workerHandler(engineWorker({ store, backend: chooseBackend({ sim: world }), sfn: tokens.client }));
  const tasks: WorkerTaskT[] = [];
  const answerErrors: unknown[] = [];
  const handler = async (event: unknown) => {
    const task = event as WorkerTaskT;
    tasks.push(task);
    const result = await worker(event);
    if (
      (task.phase === 'plan' || task.phase === 'manual') &&
      (await (await store.open(task.run.id)).taskToken(keyOf(task))) === task.taskToken
    ) {
      const a = answers[task.stepId] ?? 'approve';
      // A person answers later with `firebreak approve`, from another process as far as the execution knows.
      setImmediate(() =>
        approve(task.run.id, keyOf(task), { home, deny: a === 'deny', abort: a === 'abort', json: true, sfn: tokens.client }).catch((e) =>
          answerErrors.push(e),
        ),
      );
    }
    return result;
  };
  const input = { inputs, run: { id: 'run-1', incident: 'inc-1', playbook: loaded.playbook.id, approval: {} } };
  const result = await runLocal(asl, input, handler, tokens);
  expect(answerErrors).toEqual([]);
  return { result, tasks, home, events: await journalOf(home, 'run-1'), world: worldOf(home, 'run-1'), asl, input, tokens };
}

const keyOf = (t: WorkerTaskT) => (t.visit && t.visit > 1 ? `${t.stepId}#${t.visit}` : t.stepId);
