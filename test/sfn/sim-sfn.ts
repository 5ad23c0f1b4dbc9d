/**
 * A playbook deployed on the simulated Step Functions (src/sim/services/states) with the real worker:
 * the compiled definition is created with CreateStateMachine, the alert's execution started by the
 * router's `startRunExecution`, each Lambda task runs `engineWorker` (the engine, the run store, the
 * run's simulated cloud), and people answer with the CLI's `approve` through the SDK's SFNClient —
 * the same client, answered by the simulated service, that `resume`, `undo` and `runs` use.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeExecutionCommand, SFNClient, CreateStateMachineCommand } from '@aws-sdk/client-sfn';
import { expect, vi } from 'vitest';
import { parse, stringify } from 'yaml';
import { getAction } from '../../src/actions/registry.js';
import { chooseBackend } from '../../src/backend/backend.js';
import { approve } from '../../src/cli/commands/approve.js';
import { localRunStore, type RunStore } from '../../src/engine/local-store.js';
import { attachStatesRuntime } from '../../src/sim/index.js';
import { compileToAsl } from '../../src/sfn/compile.js';
import { engineWorker } from '../../src/sfn/engine-worker.js';
import { waitingSteps } from '../../src/sfn/executions.js';
import { loadForSfn } from '../../src/sfn/playbooks.js';
import { startRunExecution } from '../../src/sfn/router.js';
import { workerHandler } from '../../src/sfn/worker.js';
import { prepareUndoTask, UNDO_MACHINE, undoDefinition } from '../../src/sfn/undo-machine.js';
import { tempHome } from '../helpers/cli.js';
import { clientFor, createTestCloud } from '../sim/services-harness.js';

export const WORKER = 'arn:aws:lambda:us-east-1:123456789012:function:firebreak-worker';

/** The demo world with a Business support plan and a fleet of `n` instances of one image; `faults` injected. */
export function fleetWorld(n: number, faults: unknown[] = []): string {
  const doc = parse(readFileSync('worlds/demo.yaml', 'utf8').replace(/plan: basic\b/, 'plan: business'));
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
  if (faults.length) doc.faults = faults;
  const file = join(tempHome('fb-world-'), 'world.yaml');
  writeFileSync(file, stringify(doc));
  return file;
}

export const journalOf = async (home: string, runId: string) =>
  (await localRunStore({ home }).open(runId)).readJournal() as unknown as Array<Record<string, unknown>>;

/** The run's simulated cloud now, times and injected faults aside. */
export function worldOf(home: string, runId: string) {
  const w = JSON.parse(
    readFileSync(join(home, 'runs', runId, 'world.json'), 'utf8').replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<time>'),
  );
  delete w.faults;
  return w;
}

/** Someone fixes the cause: the run's world loses its injected faults. */
export function fixCause(home: string, runId: string) {
  const file = join(home, 'runs', runId, 'world.json');
  const w = JSON.parse(readFileSync(file, 'utf8'));
  expect(w.faults?.length).toBeGreaterThan(0);
  w.faults = [];
  writeFileSync(file, JSON.stringify(w));
}

export interface Deployment {
  home: string;
  sfn: SFNClient;
  cloud: ReturnType<typeof createTestCloud>;
  stateMachineArn: string;
  /** Worker invocations, as `phase stepId[index]`. */
  tasks: string[];
  start(runId: string, inputs: Record<string, unknown>): Promise<string>;
  /** Until every execution has ended or waits on a person. */
  idle(): Promise<void>;
  /** Let the executions run; answer every step they wait on (approve unless `answers` says otherwise) until none runs. */
  settle(runId: string, executionArn: string, answers?: Record<string, 'approve' | 'deny' | 'abort'>): Promise<string>;
}

/**
 * `world`: the world file each execution's worker acts on; a function of the execution for an undo,
 * which acts on the world the run it undoes left (as the same account would be, on AWS).
 */
export async function deploy(
  playbook: string,
  world: string | ((home: string, executionArn: string) => string),
  home = tempHome(),
  /** The workers' run store (the local one in `home` unless given). */
  store: RunStore = localRunStore({ home }),
): Promise<Deployment> {
  const cloud = createTestCloud();
  const sfn = clientFor(cloud, SFNClient);
  const tasks: string[] = [];
  // One worker per execution, as one Lambda serves a run's tasks (it keeps them in order per run).
  const workers = new Map<string, (e: unknown) => Promise<unknown>>();
  const runtime = attachStatesRuntime(
    { world: cloud.world, clock: cloud.clock },
    {
      invoke: async (fn, payload, { executionArn }) => {
        expect(fn).toBe(WORKER);
        const p = payload as { phase: string; stepId: string; index?: number };
        tasks.push(`${p.phase} ${p.stepId}${p.index === undefined ? '' : `[${p.index}]`}`);
        // The execution's input names it (the router and `firebreak undo` put it in the run): the worker records it, as the Lambda's does.
        expect((payload as { run: { execution?: string } }).run.execution).toBe(executionArn);
        let w = workers.get(executionArn);
        if (!w) {
          const sim = typeof world === 'string' ? world : world(home, executionArn);
          w = workerHandler(engineWorker({ store, backend: chooseBackend({ sim }), sfn, execution: executionArn }));
          workers.set(executionArn, w);
        }
        // As the worker Lambda's entry does: an undo task's generated playbook written where the worker finds it.
        return w(prepareUndoTask(payload, { home }));
      },
    },
  );
  const loaded = loadForSfn(playbook);
  const definition = JSON.stringify(
    compileToAsl(loaded.playbook, { permissionsOf: (a) => getAction(a).permissions, workerFunction: WORKER }),
  );
  const { stateMachineArn } = await sfn.send(
    new CreateStateMachineCommand({
      name: `firebreak-${loaded.playbook.id}`,
      definition,
      roleArn: 'arn:aws:iam::123456789012:role/firebreak-states',
    }),
  );
  await sfn.send(
    new CreateStateMachineCommand({
      name: `firebreak-${UNDO_MACHINE}`,
      definition: JSON.stringify(undoDefinition({ workerFunction: WORKER })),
      roleArn: 'arn:aws:iam::123456789012:role/firebreak-states',
    }),
  );
  return {
    home,
    sfn,
    cloud,
    stateMachineArn: stateMachineArn!,
    tasks,
    async start(runId, inputs) {
      const started = await startRunExecution(sfn, {
        stateMachineArn: stateMachineArn!,
        dedupKey: runId,
        now: () => cloud.clock.now(),
        input: { inputs, run: { id: runId, incident: 'inc-1', playbook: loaded.playbook.id, approval: {} } },
      });
      expect(started.kind).toBe('started');
      return (started as { executionArn: string }).executionArn;
    },
    idle: () => runtime.idle(),
    async settle(runId, executionArn, answers = {}) {
      for (;;) {
        await runtime.idle();
        const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
        if (d.status !== 'RUNNING') return d.status!;
        const waiting = waitingSteps(await journalOf(home, runId));
        expect(waiting.length).toBeGreaterThan(0);
        for (const step of waiting) {
          const a = answers[step.replace(/#\d+$/, '')] ?? 'approve';
          await captureOutput(() => approve(runId, step, { home, deny: a === 'deny', abort: a === 'abort', json: true, sfn }));
        }
      }
    },
  };
}

/** What a CLI command function printed on stdout, and the exit code it set (reset afterwards). */
export async function captureOutput(fn: () => Promise<unknown>): Promise<{ stdout: string; exitCode: number | undefined }> {
  const chunks: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  const before = process.exitCode;
  try {
    await fn();
  } finally {
    spy.mockRestore();
  }
  const exitCode = process.exitCode === undefined ? undefined : Number(process.exitCode);
  process.exitCode = before;
  return { stdout: chunks.join(''), exitCode };
}
