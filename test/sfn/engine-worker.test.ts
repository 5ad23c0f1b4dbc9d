/**
 * The compiled ASL executed by aws-local-stepfunctions with its Task states calling the REAL worker
 * (`engineWorker`: the engine's own step code, journal and audited clients) against the simulated
 * cloud and a local run store; task tokens are answered through `approveOnStepFunctions`, the path
 * `firebreak approve` takes for a run on Step Functions. Each run is compared with the same playbook
 * run by `startRun`/`resumeRun` (the CLI's path, answered with the CLI's `approve`) on the same world:
 * the simulated cloud's end state and the journal's decisions must be equal.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { getAction } from '../../src/actions/registry.js';
import { chooseBackend } from '../../src/backend/backend.js';
import { approve } from '../../src/cli/commands/approve.js';
import { autoHost } from '../../src/engine/auto-host.js';
import { localRunStore } from '../../src/engine/local-store.js';
import { resumeRun, startRun } from '../../src/engine/session.js';
import { compileToAsl } from '../../src/sfn/compile.js';
import { engineWorker } from '../../src/sfn/engine-worker.js';
import { loadForSfn } from '../../src/sfn/playbooks.js';
import { workerHandler, type WorkerTaskT } from '../../src/sfn/worker.js';
import { tempHome } from '../helpers/cli.js';
import { LOCAL_SFN_RUNS, runLocal, TaskTokens } from './local-sfn.js';

const WORKER = 'arn:aws:lambda:us-east-1:111122223333:function:firebreak-worker';
type Answer = 'approve' | 'deny' | 'abort';

/** The decisions a journal records, in order (ids and times aside); a map's items in index order. */
function decisions(events: ReadonlyArray<Record<string, unknown>>): string[] {
  const kept = new Set([
    'approval.requested',
    'approval.answered',
    'manual.requested',
    'choice.taken',
    'step.applied',
    'step.completed',
    'step.failed',
    'item.completed',
  ]);
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
              : '';
      return {
        row: `${e.type} ${e.step}${item === undefined ? '' : `[${item}]`}${what}`,
        group: `${e.type} ${e.step}`,
        item: Number(item ?? 0),
        isItem: item !== undefined,
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
  return out.map((r) => r.row);
}

/** The demo world with a Business support plan (CreateCase works), and with a fleet of `n` unprotected instances of one image (web-1 and n - 1 more). */
function worlds(n: number) {
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
const WORLDS = worlds(50);

/** Someone fixes the cause (grants the permission): the run's world loses its injected faults. */
function fixCause(home: string, runId: string) {
  const file = join(home, 'runs', runId, 'world.json');
  const w = JSON.parse(readFileSync(file, 'utf8'));
  expect(w.faults?.length).toBeGreaterThan(0);
  w.faults = [];
  writeFileSync(file, JSON.stringify(w));
}

const journalOf = async (home: string, runId: string) =>
  (await localRunStore({ home }).open(runId)).readJournal() as unknown as Array<Record<string, unknown>>;
/** The simulated cloud at the run's end, times aside (a tag or field stamped with the moment of a change). */
const worldOf = (home: string, runId: string) =>
  JSON.parse(readFileSync(join(home, 'runs', runId, 'world.json'), 'utf8').replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<time>'));

/** The playbook through the CLI's path: startRun with the automatic host, `firebreak approve`, resumeRun, until it ends. */
async function cliRun(playbook: string, inputs: Record<string, unknown>, answers: Record<string, Answer>, world: string | true) {
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
  return { out, events: await journalOf(home, 'run-1'), world: worldOf(home, 'run-1') };
}

/** The playbook's ASL on aws-local-stepfunctions, every task the real worker, every token answered as `firebreak approve` answers it. */
async function sfnRun(
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
    if ((task.phase === 'plan' || task.phase === 'manual') && (await store.open(task.run.id)).taskToken(keyOf(task)) === task.taskToken) {
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

describe.skipIf(!LOAD_OK())('compiled playbooks on Step Functions with the real worker', () => {
  it('block-attack-source: approved through the task token, same cloud and decisions as the CLI', async () => {
    const inputs = { cidrs: ['203.0.113.0/24'], subnetIds: ['subnet-0aa11bb22cc33dd44'] };
    const sfn = await sfnRun('block-attack-source', inputs, {}, true);
    const cli = await cliRun('block-attack-source', inputs, {}, true);
    expect(sfn.result.error ? `${sfn.result.error}: ${sfn.result.cause}` : sfn.result.status).toBe('SUCCEEDED');
    expect(cli.out.status).toBe('succeeded');
    expect(sfn.tasks.map((t) => `${t.phase} ${t.stepId}`)).toEqual(['plan block', 'apply block']);
    expect(decisions(sfn.events)).toEqual(decisions(cli.events));
    expect(decisions(sfn.events)).toContain('step.completed block applied');
    expect(sfn.world).toEqual(cli.world);
  });

  const CASES: Array<{
    name: string;
    playbook: string;
    inputs: Record<string, unknown>;
    answers?: Record<string, Answer>;
    outcome: 'SUCCEEDED' | 'FAILED';
    world?: string;
    also?: (sfn: Awaited<ReturnType<typeof sfnRun>>) => void;
  }> = [
    {
      name: 'block-attack-source, denied',
      playbook: 'block-attack-source',
      inputs: { cidrs: ['203.0.113.0/24'], subnetIds: ['subnet-0aa11bb22cc33dd44'] },
      answers: { block: 'deny' },
      outcome: 'SUCCEEDED',
    },
    {
      name: 'ec2-fleet-compromise, a Map over 50 instances',
      playbook: 'ec2-fleet-compromise',
      inputs: { imageIds: ['ami-0c55b159cbfafe1f0'] },
      outcome: 'SUCCEEDED',
      world: WORLDS.fleet,
      also: (sfn) => {
        expect(sfn.tasks.filter((t) => t.phase === 'item' && t.stepId === 'isolate')).toHaveLength(50);
        // web-1's group is at its minimum size: detach fails, the Catch path (onError: snapshot) takes over.
        expect(decisions(sfn.events)).toContain('step.failed detach');
        expect(sfn.result.entered).toContain('detach.failed');
        expect(sfn.result.entered).toContain('snapshot');
      },
    },
  ];
  for (const c of CASES)
    it(`${c.name}: same cloud and decisions as the CLI`, async () => {
      const sfn = await sfnRun(c.playbook, c.inputs, c.answers ?? {}, c.world ?? WORLDS.business);
      const cli = await cliRun(c.playbook, c.inputs, c.answers ?? {}, c.world ?? WORLDS.business);
      expect(sfn.result.error ? `${sfn.result.error}: ${sfn.result.cause}` : sfn.result.status).toBe(c.outcome);
      expect(decisions(sfn.events)).toEqual(decisions(cli.events));
      expect(sfn.world).toEqual(cli.world);
      c.also?.(sfn);
      if (process.env.FIREBREAK_SFN_COUNTS) {
        const byPhase = new Map<string, number>();
        for (const t of sfn.tasks) byPhase.set(`${t.phase} ${t.stepId}`, (byPhase.get(`${t.phase} ${t.stepId}`) ?? 0) + 1);
        console.log(`COUNTS ${c.name}: ${sfn.result.entered.length} states entered, ${sfn.tasks.length} worker invocations`, [...byPhase]);
      }
    }, 240_000);
});

describe.skipIf(!LOAD_OK())('a failed execution redriven', () => {
  it('converges like firebreak resume: completed steps answer from the journal, nothing is applied twice', async () => {
    const inputs = { imageIds: ['ami-0c55b159cbfafe1f0'] };
    const home = tempHome();
    const failed = await sfnRun('ec2-fleet-compromise', inputs, {}, WORLDS.snapshotsDenied, home);
    expect(failed.result.status).toBe('FAILED');
    expect(failed.result.error).toBe('UnauthorizedOperation');
    expect(failed.events.some((e) => e.type === 'item.failed' && e.step === 'snapshot')).toBe(true);
    fixCause(home, 'run-1');
    // RedriveExecution runs the execution again from where it failed; here it runs again from its start,
    // which asks more of the worker: every step before the failure is invoked again and answers from the journal.
    const redriven = await sfnRun('ec2-fleet-compromise', inputs, {}, WORLDS.snapshotsDenied, home, failed.tokens);
    expect(redriven.result.error ? `${redriven.result.error}: ${redriven.result.cause}` : redriven.result.status).toBe('SUCCEEDED');
    const applied = redriven.events.filter((e) => e.type === 'step.applied').map((e) => `${e.step}[${e.item}]`);
    expect(new Set(applied).size).toBe(applied.length);

    const cliHome = tempHome();
    const backend = () => chooseBackend({ sim: WORLDS.snapshotsDenied });
    let out = await (
      await startRun({
        run: { playbook: 'ec2-fleet-compromise', inputs, runId: 'run-1', incident: 'inc-1' },
        backend: backend(),
        host: autoHost(),
        home: cliHome,
      })
    ).result;
    for (let resumed = false; out.status === 'waiting' || (out.status === 'failed' && !resumed); ) {
      if (out.status === 'failed') {
        fixCause(cliHome, 'run-1');
        resumed = true;
      } else await approve('run-1', out.waitingStep!, { home: cliHome, json: true });
      out = await (await resumeRun({ runId: 'run-1', backend: backend(), host: autoHost(), home: cliHome })).result;
    }
    expect(out.status).toBe('succeeded');
    // One difference, known: a Map state that fails uncaught ends the execution with no worker task after it, so the map
    // step's own step.failed is not journaled (its items' item.failed are; the execution's history records the failure).
    expect(decisions(redriven.events)).toEqual(decisions(await journalOf(cliHome, 'run-1')).filter((d) => d !== 'step.failed snapshot'));
    expect(redriven.world).toEqual(worldOf(cliHome, 'run-1'));
  }, 240_000);
});

function LOAD_OK() {
  return LOCAL_SFN_RUNS;
}
