/** An action step: its condition, its input, then plan → approve → apply → verify under its retry policy. */
import type { ActionDef, ManualTaskRequired } from '../actions/define.js';
import { evaluate } from '../playbook/expr.js';
import type { ActionStepT } from '../playbook/schema.js';
import { decide, goOn, manualTask } from './approvals.js';
import type { RunContext } from './run-context.js';
import { applyTarget, planRecord, planTarget, stepView } from './step-lifecycle.js';

export async function runAction(r: RunContext, key: string, stepId: string, step: ActionStepT): Promise<void> {
  r.append('step.started', { step: key, action: step.action });
  if (step.when !== undefined && !(await evaluate(step.when, r.scope(), `steps.${stepId}.when`))) {
    return r.complete(key, stepId, { status: 'condition-false' });
  }
  const action = r.o.actions(step.action);
  const input = await r.resolveInput(action, stepId, step.with);
  await r.withRetry(key, step.retry, () => lifecycle(r, { key, stepId, step }, action, input));
}

async function lifecycle(r: RunContext, at: { key: string; stepId: string; step: ActionStepT }, action: ActionDef, input: unknown) {
  const { key, stepId } = at;
  r.checkSignal();
  await r.lockTargets(action, input);
  const plan = await planTarget(r, { key }, action, input);
  const planRec = planRecord(plan);
  r.append('step.planned', { step: key, action: action.id, input, plan: planRec, facts: plan.facts });
  // Read-only actions (lookups) still run in dry-run: later steps' plans need their output.
  if (r.o.dryRun && action.mutating) return r.complete(key, stepId, { status: 'planned' });
  if (action.mutating && plan.changes.length > 0) {
    r.checkSignal();
    const answer = await decide(r, { kind: 'approval', view: stepView(r, at, action, input, planRec) });
    if (!goOn(r, stepId, answer)) return r.complete(key, stepId, { status: answer.via === 'approve-command' ? 'denied' : 'skipped' });
  }
  r.checkSignal();
  if (action.mutating) await r.o.beforeWrite?.();
  r.append('step.applying', { step: key });
  const done = await applyTarget(r, { key }, action, input, plan);
  if ('manual' in done) return manualFallback(r, key, stepId, done.manual);
  r.complete(key, stepId, { status: plan.changes.length > 0 ? 'applied' : 'already-done', output: done.output });
}

/** The action cannot make the change itself (no Support plan, say): a person does it and confirms. */
async function manualFallback(r: RunContext, key: string, stepId: string, err: ManualTaskRequired) {
  r.append('step.manual', { step: key, reason: err.reason, task: err.task });
  const answer = await manualTask(r, key, stepId, err.task.title, err.task.instructions);
  r.complete(key, stepId, {
    status: answer.decision === 'skip' ? 'skipped' : 'manual',
    ...(err.task.output !== undefined ? { output: err.task.output } : {}),
  });
}
