/**
 * Test doubles for running a compiled playbook without the engine: a worker behind the real
 * `workerHandler` (so every payload and answer is checked against the worker contract) that records
 * what ran, decides choices, items and computed waits with `decide` (the worker's own code, the
 * engine's evaluator), and answers task tokens as a person would with `firebreak approve` — through
 * `answerTask`, SendTaskSuccess / SendTaskFailure on a Step Functions client; and a reference run of
 * the same playbook through its XState machine (the engine's control flow) with the same scripted
 * outcomes, to compare the paths.
 *
 * The real worker (the engine behind `RunWorkerPhase`) replaces the double once the run API is wired.
 */
import type { SFNClient } from '@aws-sdk/client-sfn';
import { createActor, fromPromise, toPromise } from 'xstate';
import { evaluate } from '../../src/playbook/expr.js';
import { compilePlaybook } from '../../src/playbook/compile.js';
import { validateInputs } from '../../src/playbook/inputs.js';
import type { PlaybookT, StepT } from '../../src/playbook/schema.js';
import { answerTask } from '../../src/sfn/answer.js';
import { decide } from '../../src/sfn/decide.js';
import { StepFailed, TASK_ERRORS, workerHandler, type WorkerResultT, type WorkerTaskT } from '../../src/sfn/worker.js';

export type Decision = 'approve' | 'deny' | 'abort';

export interface Script {
  /** A step's output, from the task the worker got (by step id). */
  outputs?: Record<string, (t: { item?: unknown; steps: Record<string, any>; inputs: Record<string, unknown> }) => unknown>;
  /** Make a step fail `times` times (every time without `times`) with this error code. */
  fail?: Record<string, { code: string; times?: number; transient?: boolean }>;
  /** The approver's answer for a gated step (default: approve). */
  decide?: Record<string, Decision>;
  /** A person's answer to a manual task (default: done). */
  manual?: Record<string, 'done' | 'skip'>;
}

export function workerDouble(pb: PlaybookT, script: Script, sfn: Pick<SFNClient, 'send'>) {
  const calls: WorkerTaskT[] = [];
  const answerErrors: unknown[] = [];
  const failures = new Map<string, number>();
  // The person answers after the worker has returned, from another process as far as the execution knows.
  const later = (fn: () => Promise<void>) => setImmediate(() => fn().catch((e) => answerErrors.push(e)));
  const runPhase = async (task: WorkerTaskT): Promise<WorkerResultT> => {
    calls.push(task);
    if (task.phase === 'choose' || task.phase === 'items' || task.phase === 'wait') return decide(pb, task, new Date(0));
    // A run's end after a failure (a `<state>.uncaught` task) fails again with the caught error, as the real worker does.
    if (task.phase === 'end' && task.error) throw new StepFailed(task.error.Error, task.error.Cause ?? task.error.Error, false);
    if (task.phase === 'end') return { status: 'ended' };
    if (task.phase === 'plan') {
      const decision = script.decide?.[task.stepId] ?? 'approve';
      later(() => answerTask(sfn, task.taskToken!, { kind: 'approval', decision, by: 'tester' }));
      return { status: 'waiting' };
    }
    if (task.phase === 'manual') {
      const decision = script.manual?.[task.stepId] ?? 'done';
      later(() => answerTask(sfn, task.taskToken!, { kind: 'manual', decision, by: 'tester' }));
      return { status: 'waiting' };
    }
    const f = script.fail?.[task.stepId];
    const seen = failures.get(task.stepKey) ?? 0;
    if (f && seen < (f.times ?? Infinity)) {
      failures.set(task.stepKey, seen + 1);
      throw new StepFailed(f.code, `${task.stepKey} failed (scripted)`, f.transient);
    }
    const output = script.outputs?.[task.stepId]?.({ item: task.item, steps: task.steps, inputs: task.inputs });
    return { status: 'applied', ...(output === undefined ? {} : { output }) };
  };
  return { handler: workerHandler(runPhase), calls, answerErrors };
}

/** Playbook inputs with their defaults, as the run would get them. */
export function runInputs(pb: PlaybookT, given: Record<string, unknown>): Record<string, unknown> {
  return validateInputs(given, pb.inputs);
}

/**
 * The same playbook and script through the playbook's XState machine: the step ids visited in order and
 * each step's final status. Retries are not replayed: a scripted failure that `times` fewer than the
 * step's attempts (and of a kind its retry covers) counts as a success, as the retry makes it one.
 */
export async function referenceRun(pb: PlaybookT, inputs: Record<string, unknown>, script: Script) {
  const visited: string[] = [];
  const steps: Record<string, any> = {};
  const byId = new Map<string, StepT>();
  const walk = (s: Record<string, StepT>) => {
    for (const [id, st] of Object.entries(s)) {
      byId.set(id, st);
      if (st.type === 'parallel') for (const b of st.branches) walk(b.steps);
    }
  };
  walk(pb.steps);
  const run = { id: 'run-1', incident: 'inc-1', playbook: pb.id };
  const scope = () => ({ inputs, steps, run, now: new Date(0) });
  const halt = (e: unknown) => (e as Error).name === TASK_ERRORS.aborted;
  const machine = compilePlaybook(pb, halt).provide({
    actors: {
      runStep: fromPromise(async ({ input }: { input: { stepId: string } }) => {
        const id = input.stepId;
        const st = byId.get(id)!;
        visited.push(id);
        if (st.type === 'choice') {
          for (const ch of st.choices) if ((await evaluate(ch.when, scope())) === true) return { next: ch.next };
          return { next: st.default };
        }
        if (st.type === 'wait') return {};
        if (st.type === 'manual') {
          steps[id] = script.manual?.[id] === 'skip' ? { status: 'skipped' } : { status: 'manual', output: { by: 'tester' } };
          return {};
        }
        const s = st as Extract<StepT, { type?: 'action' | 'map' }>;
        const d = s.approval === 'required' ? (script.decide?.[id] ?? 'approve') : 'approve';
        if (d === 'abort') throw Object.assign(new Error('aborted'), { name: TASK_ERRORS.aborted });
        if (d === 'deny') {
          steps[id] = { status: 'denied' };
          return {};
        }
        const f = script.fail?.[id];
        const attempts = s.retry?.attempts ?? 1;
        const retried = f && (f.transient || s.retry?.codes?.includes(f.code));
        if (f && !((f.times ?? Infinity) < attempts && retried)) {
          steps[id] = { status: 'failed', error: { code: f.code } };
          throw Object.assign(new Error(f.code), { code: f.code });
        }
        const out = script.outputs?.[id];
        if (s.type === 'map') {
          const items = (await evaluate(s.items, scope())) as unknown[];
          steps[id] = { status: 'applied', output: items.map((item) => out?.({ item, steps, inputs })) };
        } else {
          const o = out?.({ steps, inputs });
          steps[id] = { status: 'applied', ...(o === undefined ? {} : { output: o }) };
        }
        return {};
      }),
    },
  });
  const actor = createActor(machine);
  const done = toPromise(actor);
  actor.start();
  const ctx = await done;
  return { visited, steps, outcome: ctx.halted ? 'halted' : ctx.outcome, final: String(actor.getSnapshot().value) };
}
