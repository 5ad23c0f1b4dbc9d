/**
 * What the worker decides for a compiled playbook's flow, with the engine's own evaluator (the same
 * expressions, scope and limits as a run in the CLI): the next step of a choice, a map step's items,
 * a computed wait. The definition never evaluates an expression (see compile.ts); these answers are
 * all it compares. The worker's `choose`, `items` and `wait` phases are this module.
 */
import { InputError } from '../core/errors.js';
import { evaluate, type ExprScope } from '../playbook/expr.js';
import type { PlaybookT, StepT } from '../playbook/schema.js';
import type { WorkerResultT, WorkerTaskT } from './worker.js';

/** A step by id, in a parallel branch too. */
export function findStep(steps: Record<string, StepT>, id: string): StepT | undefined {
  for (const [k, s] of Object.entries(steps)) {
    if (k === id) return s;
    if (s.type === 'parallel')
      for (const b of s.branches) {
        const found = findStep(b.steps, id);
        if (found) return found;
      }
  }
  return undefined;
}

/** The `choose`, `items` and `wait` phases of a task, evaluated in the task's scope at `now` (the run clock). */
export async function decide(pb: PlaybookT, task: WorkerTaskT, now: Date): Promise<WorkerResultT> {
  const step = findStep(pb.steps, task.stepId);
  if (!step) throw new InputError(`failed to decide ${task.stepKey}: playbook ${pb.id} has no step ${task.stepId}`);
  const scope: ExprScope = { inputs: task.inputs, steps: task.steps, run: task.run, now };
  const at = (field: string) => `steps.${task.stepId}.${field}`;
  if (task.phase === 'choose' && step.type === 'choice') {
    for (const [i, c] of step.choices.entries())
      if (await evaluate(c.when, scope, at(`choices.${i}.when`))) return { status: 'chosen', next: c.next };
    return { status: 'chosen', next: step.default };
  }
  if (task.phase === 'items' && step.type === 'map') {
    const items = await evaluate(step.items, scope, at('items'));
    if (!Array.isArray(items)) throw new InputError(`items must be a list, got ${JSON.stringify(items)}`, { field: at('items') });
    return { status: 'listed', items };
  }
  if (task.phase === 'wait' && step.type === 'wait' && typeof step.duration === 'string') {
    const seconds = Number(await evaluate(step.duration, scope, at('duration')));
    if (!Number.isFinite(seconds) || seconds < 0)
      throw new InputError(`a wait lasts a number of seconds ≥ 0, got ${JSON.stringify(seconds)}`, { field: at('duration') });
    return { status: 'waiting', seconds: Math.ceil(seconds) };
  }
  throw new InputError(`failed to decide ${task.stepKey}: phase ${task.phase} does not apply to a ${step.type ?? 'action'} step`);
}
