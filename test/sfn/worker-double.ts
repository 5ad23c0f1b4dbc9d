/**
 * Test doubles for running a compiled playbook without the engine: a worker that keeps the worker
 * contract (every payload is parsed with `WorkerTask`, every answer with `WorkerResult`) and records
 * what ran, an approver that answers task tokens as `firebreak approve` will (SendTaskSuccess /
 * SendTaskFailure), and a reference run of the same playbook through its XState machine (the engine's
 * control flow) with the same scripted outcomes, to compare the paths.
 *
 * The real worker (the engine behind `RunWorkerPhase`) replaces the double once the run API is wired.
 */
import { createActor, fromPromise, toPromise } from 'xstate';
import { evaluate } from '../../src/playbook/expr.js';
import { compilePlaybook } from '../../src/playbook/compile.js';
import { validateInputs } from '../../src/playbook/inputs.js';
import type { PlaybookT, StepT } from '../../src/playbook/schema.js';
import { StepFailed, TASK_ERRORS, WorkerResult, WorkerTask, type WorkerTaskT } from '../../src/sfn/worker.js';
import type { AslExecution, TaskHandler } from './asl-interpreter.js';

export type Decision = 'approve' | 'deny' | 'abort';

export interface Script {
  /** A step's output, from the task the worker got (by step id). */
  outputs?: Record<string, (t: { item?: unknown; steps: Record<string, any>; inputs: Record<string, unknown> }) => unknown>;
  /** Make a step fail `times` times (every time without `times`) with this error code. */
  fail?: Record<string, { code: string; times?: number; transient?: boolean }>;
  /** The approver's answer for a gated step (default: approve). */
  decide?: Record<string, Decision>;
}

export function workerDouble(script: Script, exec: () => AslExecution) {
  const calls: WorkerTaskT[] = [];
  const failures = new Map<string, number>();
  const answer = (fn: () => void) => setImmediate(fn);
  const handler: TaskHandler = async (call) => {
    const task = WorkerTask.parse(call.payload);
    if (call.token !== task.taskToken) throw new Error(`task ${task.stepKey}: the payload's token is not the task's`);
    calls.push(task);
    if (task.phase === 'plan') {
      const d = script.decide?.[task.stepId] ?? 'approve';
      answer(() =>
        d === 'approve'
          ? exec().sendTaskSuccess(call.token!, { decision: 'approve' })
          : exec().sendTaskFailure(call.token!, d === 'deny' ? TASK_ERRORS.denied : TASK_ERRORS.aborted, `${d} by tester`),
      );
      return WorkerResult.parse({ status: 'waiting' });
    }
    if (task.phase === 'manual') {
      answer(() => exec().sendTaskSuccess(call.token!, WorkerResult.parse({ status: 'manual', output: { by: 'tester' } })));
      return WorkerResult.parse({ status: 'waiting' });
    }
    const f = script.fail?.[task.stepId];
    const seen = failures.get(task.stepKey) ?? 0;
    if (f && seen < (f.times ?? Infinity)) {
      failures.set(task.stepKey, seen + 1);
      throw new StepFailed(f.code, `${task.stepKey} failed (scripted)`, f.transient);
    }
    const output = script.outputs?.[task.stepId]?.({ item: task.item, steps: task.steps, inputs: task.inputs });
    return WorkerResult.parse({ status: 'applied', ...(output === undefined ? {} : { output }) });
  };
  return { handler, calls };
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
      if (st.type === 'parallel') st.branches.forEach((b) => walk(b.steps));
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
          steps[id] = { status: 'manual', output: { by: 'tester' } };
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
