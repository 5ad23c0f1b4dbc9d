/**
 * A map step: one action over a list of targets, with bounded concurrency. Each target goes
 * through the same lifecycle as an action step (step-lifecycle.ts) and fails alone; the step
 * fails after the others are done. A person sees every target's plan before any is applied;
 * a policy that approves unseen plans, applies and verifies each target in turn instead.
 */
import pLimit from 'p-limit';
import type { Plan, StepScope } from '../actions/define.js';
import { errorInfo, type ErrorInfo } from '../core/error-info.js';
import { ActionFailed, GuardrailRefusal, InputError } from '../core/errors.js';
import { evaluate } from '../playbook/expr.js';
import type { MapStepT } from '../playbook/schema.js';
import { decide, goOn } from './approvals.js';
import type { PlanRecord } from './events.js';
import { isHalt, posOpt, type RunContext } from './run-context.js';
import { applyTarget, planRecord, planTarget, stepView } from './step-lifecycle.js';

export async function runMap(r: RunContext, key: string, stepId: string, step: MapStepT): Promise<void> {
  const { o } = r;
  r.append('step.started', { step: key, action: step.action });
  const items = await evaluate(step.items, r.scope(), `steps.${stepId}.items`);
  if (!Array.isArray(items))
    throw new InputError(`items must be a list, got ${JSON.stringify(items)}`, {
      field: `steps.${stepId}.items`,
      ...posOpt(o.loaded, ['steps', stepId, 'items']),
    });
  if (o.maxTargets !== undefined && items.length > o.maxTargets) {
    throw new GuardrailRefusal(`step '${stepId}' would act on ${items.length} targets; the guardrail allows ${o.maxTargets} per run`, {
      hint: 'raise guardrails.maxTargets in firebreak.config.yaml if this is intended',
    });
  }
  const action = o.actions(step.action);
  const limit = pLimit(step.concurrency);
  // An action whose plan reads all go through the run's read batcher is planned for every target at
  // once (their reads coalesce into a few calls); applies still run `concurrency` at a time.
  const planLimit = <T>(fn: () => Promise<T>): Promise<T> => (action.batchedPlan ? fn() : limit(fn));
  const inputs = await Promise.all(items.map((item, index) => r.resolveInput(action, stepId, step.with, { item, index })));
  const done = o.replayed.items.get(key) ?? new Map<number, unknown>();
  const outputs: unknown[] = items.map((_, i) => done.get(i));
  // Writes the targets share (one CreateTags for the step) wait until every target is planned. The
  // scope is given only where no plan waits for an apply's slot (that apply would wait for the plan).
  let unplanned = items.length - done.size;
  let plansSettled = () => {};
  const scope: StepScope = { planned: unplanned > 0 ? new Promise<void>((res) => (plansSettled = res)) : Promise.resolve() };
  const failures: Array<{ index: number; error: ErrorInfo }> = [];
  const fail = (index: number, err: unknown, phase?: 'plan') => {
    if (isHalt(err)) throw err;
    const error = errorInfo(err);
    failures.push({ index, error });
    r.append('item.failed', { step: key, index, ...(phase ? { phase } : {}), error });
  };

  // A map step's `retry` applies to each target on its own (its plan, then its apply and verify).
  const planItem = async (i: number, input: unknown, shared?: StepScope) => {
    try {
      const t = { key, item: i, ...(shared ? { step: shared } : {}) };
      return { input, plan: await r.withRetry(`${key}[${i}]`, step.retry, () => planTarget(r, t, action, input)) };
    } catch (err) {
      fail(i, err, 'plan');
      return undefined;
    } finally {
      if (--unplanned === 0) plansSettled();
    }
  };
  const applyItem = async (i: number, p: { input: unknown; plan: Plan }, shared?: StepScope) => {
    try {
      r.checkSignal();
      await r.lockTargets(action, p.input);
      const t = { key, item: i, ...(shared ? { step: shared } : {}) };
      const applied = await r.withRetry(`${key}[${i}]`, step.retry, () => applyTarget(r, t, action, p.input, p.plan));
      if ('manual' in applied) throw applied.manual;
      outputs[i] = applied.output;
      r.append('item.completed', { step: key, index: i, output: applied.output, checks: applied.checks });
    } catch (err) {
      fail(i, err);
    }
  };
  const throwIfFailed = () => {
    if (failures.length === 0) return;
    const first = failures.sort((a, b) => a.index - b.index)[0]!;
    throw new ActionFailed(
      `${failures.length} of ${items.length} targets failed (first: item ${first.index}: ${first.error.code}: ${first.error.message})`,
      failures.every((f) => f.error.code === first.error.code) ? first.error.code : 'PartialFailure',
    );
  };
  const approve = async (planRec: PlanRecord, pipelined?: boolean) =>
    goOn(
      r,
      stepId,
      await decide(r, { kind: 'approval', view: stepView(r, { key, stepId, step }, action, inputs, planRec, items.length), pipelined }),
    );

  if (!o.dryRun && action.mutating && o.host.approvesUnseen?.(r.policyOf(stepId, step))) {
    // Nobody reads this plan before it is applied (the policy approves it), so each target is
    // planned, applied and verified in turn: its plan is journaled (item.planned) before its
    // first write, as a step's is before its approval.
    const planRec: PlanRecord = {
      changes: [],
      alreadyDone: false,
      notes: [
        `${items.length} targets, ${done.size} already done; approved by policy before planning: each target is planned, applied and verified in turn`,
      ],
    };
    r.append('step.planned', { step: key, action: action.id, items: items.length, pipelined: true, plan: planRec });
    if (!(await approve(planRec, true))) return r.complete(key, stepId, { status: 'skipped' });
    await o.beforeWrite?.();
    r.append('step.applying', { step: key });
    const shared = action.batchedPlan ? scope : undefined;
    await Promise.all(
      inputs.map((input, i) => {
        if (done.has(i)) return undefined;
        const planned = planLimit(() => planItem(i, input, shared));
        planned.catch(() => undefined); // awaited below; a halt must not surface as unhandled first
        return limit(async () => {
          const p = await planned;
          if (!p) return;
          r.append('item.planned', { step: key, index: i, plan: planRecord(p.plan) });
          await applyItem(i, p, shared);
        });
      }),
    );
  } else {
    const plans = await Promise.all(inputs.map((input, i) => planLimit(async () => (done.has(i) ? undefined : planItem(i, input, scope)))));
    const changes = plans.flatMap((p) => p?.plan.changes ?? []);
    const planRec: PlanRecord = {
      changes,
      alreadyDone: changes.length === 0,
      notes: [`${items.length} targets, ${done.size} already done`],
    };
    r.append('step.planned', { step: key, action: action.id, items: items.length, plan: planRec });
    if (o.dryRun && action.mutating) {
      // A target whose plan failed fails the dry run's step too, as it would the real run's.
      throwIfFailed();
      return r.complete(key, stepId, { status: 'planned' });
    }
    if (action.mutating && changes.length > 0 && !(await approve(planRec))) return r.complete(key, stepId, { status: 'skipped' });
    if (action.mutating) await o.beforeWrite?.();
    r.append('step.applying', { step: key });
    await Promise.all(plans.map((p, i) => limit(async () => (p ? applyItem(i, p, scope) : undefined))));
  }
  throwIfFailed();
  r.complete(key, stepId, { status: 'applied', output: outputs });
}

/**
 * One target of a map step on its own, for an executor that fans the items out itself (Step Functions'
 * Map: one worker task per item) after the step was approved as a whole or by policy: plan, apply and
 * verify the item as the pipelined path above does. An item the journal shows completed answers from it.
 */
export async function runMapItem(
  r: RunContext,
  key: string,
  stepId: string,
  step: MapStepT,
  item: unknown,
  index: number,
): Promise<unknown> {
  const { o } = r;
  const done = o.replayed.items.get(key);
  if (done?.has(index)) return done.get(index);
  const action = o.actions(step.action);
  try {
    const input = await r.resolveInput(action, stepId, step.with, { item, index });
    r.checkSignal();
    const plan = await planTarget(r, { key, item: index }, action, input);
    r.append('item.planned', { step: key, index, plan: planRecord(plan) });
    if (o.dryRun && action.mutating) return undefined;
    await r.lockTargets(action, input);
    if (action.mutating) await o.beforeWrite?.();
    const applied = await applyTarget(r, { key, item: index }, action, input, plan);
    if ('manual' in applied) throw applied.manual;
    r.append('item.completed', { step: key, index, output: applied.output, checks: applied.checks });
    return applied.output;
  } catch (err) {
    if (!isHalt(err)) r.append('item.failed', { step: key, index, error: errorInfo(err) });
    throw err;
  }
}
