/** An action step: its condition, its input, then plan → approve → apply → verify under its retry policy. */
import type { ActionDef, ManualTaskRequired } from '../actions/define.js';
import { ActionFailed } from '../core/errors.js';
import { evaluate } from '../playbook/expr.js';
import type { ActionStepT } from '../playbook/schema.js';
import { decide, goOn, manualTask } from './approvals.js';
import { runLookupAcross } from './lookup-across.js';
import type { RunContext, WouldRunIf } from './run-context.js';
import { applyTarget, planRecord, planTarget, stepView } from './step-lifecycle.js';

export async function runAction(r: RunContext, key: string, stepId: string, step: ActionStepT): Promise<void> {
  r.append('step.started', { step: key, action: step.action });
  let wouldRunIf: WouldRunIf | undefined;
  if (step.when !== undefined && !(await evaluate(step.when, r.scope(), `steps.${stepId}.when`))) {
    wouldRunIf = await unknownCondition(r, stepId, step.when);
    if (!wouldRunIf) return r.complete(key, stepId, { status: 'condition-false' });
    if (!wouldRunIf.predicted) {
      // Nothing tells what the earlier step would return: no input, so no plan either.
      const notes = [`would run if ${step.when}: it reads the output of ${wouldRunIf.awaits.join(', ')}, which a dry run does not have`];
      r.append('step.planned', { step: key, action: step.action, plan: { changes: [], alreadyDone: false, notes }, wouldRunIf });
      return r.complete(key, stepId, { status: 'planned' }, wouldRunIf);
    }
  }
  const action = r.o.actions(step.action);
  // Across accounts, a lookup runs in each account×Region (mutating action steps are refused before the run starts).
  if (r.o.locations && !action.mutating) return runLookupAcross(r, { key, stepId, step }, action, r.o.locations);
  const input = await r.resolveInput(action, stepId, step.with, wouldRunIf ? { steps: r.predictedSteps() } : {});
  await r.withRetry(key, step.retry, () => lifecycle(r, { key, stepId, step }, action, input, wouldRunIf));
}

/**
 * A dry run's condition that came out false only because it reads the output of a step the dry
 * run planned but did not apply. It "would run if" that output says so; when the earlier steps'
 * plans predict their output and the condition holds on the prediction, the step is planned on it.
 * Undefined: the condition is false on what is known (or predicted), as the real run would find.
 */
async function unknownCondition(r: RunContext, stepId: string, when: string): Promise<WouldRunIf | undefined> {
  if (!r.o.dryRun) return undefined;
  const awaits = referencedSteps(when).filter((id) => r.stepData[id]?.status === 'planned');
  if (awaits.length === 0) return undefined;
  const predicted = awaits.every((id) => r.stepData[id]?.predicted !== undefined);
  if (predicted && !(await evaluate(when, r.scope({ steps: r.predictedSteps() }), `steps.${stepId}.when`))) return undefined;
  return { when, awaits, predicted };
}

/** The step ids an expression reads: `$steps.id` or `$steps.\`id-with-dashes\``. */
function referencedSteps(expr: string): string[] {
  const ids = [...expr.matchAll(/\$steps\s*\.\s*(?:`([^`]+)`|([A-Za-z_][A-Za-z0-9_]*))/g)].map((m) => m[1] ?? m[2]!);
  return [...new Set(ids)];
}

async function lifecycle(
  r: RunContext,
  at: { key: string; stepId: string; step: ActionStepT },
  action: ActionDef,
  input: unknown,
  wouldRunIf?: WouldRunIf,
) {
  const { key, stepId } = at;
  r.checkSignal();
  await r.lockTargets(action, input);
  const plan = await planTarget(r, { key }, action, input);
  const planRec = planRecord(plan);
  r.append('step.planned', {
    step: key,
    action: action.id,
    input,
    plan: planRec,
    facts: plan.facts,
    ...(wouldRunIf ? { wouldRunIf } : {}),
  });
  // Read-only actions (lookups) still run in dry-run: later steps' plans need their output.
  if (r.o.dryRun && action.mutating) {
    const predicted = action.predict?.(input, plan);
    return r.complete(key, stepId, { status: 'planned', ...(predicted !== undefined ? { predicted } : {}) }, wouldRunIf);
  }
  const killed = interruptedApply(r, key);
  if (killed && plan.changes.length === 0) {
    // The killed process made the change; this one only finds it made.
    r.append('step.replanned', { step: key, alreadyDone: true, interrupted: killed.applied ? 'applied' : 'applying' });
    if (killed.applied) return verifyOnly(r, at, action, input, killed.applied.output);
  }
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
  r.complete(key, stepId, { status: plan.changes.length > 0 || killed ? 'applied' : 'already-done', output: done.output });
}

/** The journal shows this step's apply begun by a process that was killed before the step completed. */
function interruptedApply(r: RunContext, key: string) {
  if (!r.o.replayed.applying.has(key)) return undefined;
  return { applied: r.o.replayed.applied.filter((a) => a.step === key).at(-1) };
}

/** A step the killed process applied (its step.applied is journaled) and that needs no change: verify it, as apply would have. */
async function verifyOnly(r: RunContext, at: { key: string; stepId: string }, action: ActionDef, input: unknown, output: unknown) {
  const checks = await r.inCall(at.key, action, () => action.verify(r.actionCtx(at.key), input, output));
  const ok = checks.every((c) => c.ok);
  r.append('step.verified', { step: at.key, ok, checks });
  if (!ok) {
    const bad = checks.filter((c) => !c.ok).map((c) => `${c.name}${c.detail ? ` (${c.detail})` : ''}`);
    throw new ActionFailed(`verification failed: ${bad.join('; ')}`, 'VerificationFailed');
  }
  r.complete(at.key, at.stepId, { status: 'applied', output });
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
