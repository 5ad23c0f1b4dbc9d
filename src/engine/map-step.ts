/**
 * A map step: one action over a list of targets, with bounded concurrency. Each target goes
 * through the same lifecycle as an action step (step-lifecycle.ts) and fails alone; the step
 * fails after the others are done. A person sees every target's plan before any is applied;
 * a policy that approves unseen plans, applies and verifies each target in turn instead.
 */
import pLimit, { type LimitFunction } from 'p-limit';
import type { Plan, StepScope } from '../actions/define.js';
import { errorInfo, type ErrorInfo } from '../core/error-info.js';
import { ActionFailed, GuardrailRefusal, InputError } from '../core/errors.js';
import { evaluate } from '../playbook/expr.js';
import type { MapStepT } from '../playbook/schema.js';
import { decide, goOn } from './approvals.js';
import type { PlanRecord } from './events.js';
import type { LocationGroup } from './host.js';
import { locationKey, type Location } from './locations.js';
import { isHalt, posOpt, type RunContext } from './run-context.js';
import { applyTarget, planRecord, planTarget, stepView } from './step-lifecycle.js';

export async function runMap(r: RunContext, key: string, stepId: string, step: MapStepT): Promise<void> {
  const { o } = r;
  r.append('step.started', { step: key, action: step.action });
  const { items, ats } = await mapItems(r, stepId, step);
  if (o.maxTargets !== undefined && items.length > o.maxTargets) {
    throw new GuardrailRefusal(`step '${stepId}' would act on ${items.length} targets; the guardrail allows ${o.maxTargets} per run`, {
      hint: 'raise guardrails.maxTargets in firebreak.config.yaml if this is intended',
    });
  }
  const action = o.actions(step.action);
  // EC2 throttles each account×Region on its own: `concurrency` holds in each of them, so one
  // account's throttled bucket never holds back the work of another.
  const limits = new Map<string, LimitFunction>();
  const limitOf = (i: number) => {
    const k = ats[i] ? locationKey(ats[i]) : '';
    if (!limits.has(k)) limits.set(k, pLimit(step.concurrency));
    return limits.get(k)!;
  };
  // An action whose plan reads all go through the run's read batcher is planned for every target at
  // once (their reads coalesce into a few calls); applies still run `concurrency` at a time.
  const planLimit = <T>(i: number, fn: () => Promise<T>): Promise<T> => (action.batchedPlan ? fn() : limitOf(i)(fn));
  const inputs = await Promise.all(
    items.map((item, index) =>
      r.resolveInput(action, stepId, step.with, { item, index, ...(ats[index] ? { steps: r.stepsIn(ats[index]) } : {}) }),
    ),
  );
  const where = (i: number) => (ats[i] ? { account: ats[i].account, region: ats[i].region } : {});
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
    r.append('item.failed', { step: key, index, ...(phase ? { phase } : {}), error, ...where(index) });
  };

  // A map step's `retry` applies to each target on its own (its plan, then its apply and verify).
  const planItem = async (i: number, input: unknown, shared?: StepScope) => {
    try {
      const t = { key, item: i, at: ats[i], ...(shared ? { step: shared } : {}) };
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
      await r.lockTargets(action, p.input, ats[i]);
      const t = { key, item: i, at: ats[i], ...(shared ? { step: shared } : {}) };
      const applied = await r.withRetry(`${key}[${i}]`, step.retry, () => applyTarget(r, t, action, p.input, p.plan));
      if ('manual' in applied) throw applied.manual;
      outputs[i] = applied.output;
      r.append('item.completed', { step: key, index: i, output: applied.output, checks: applied.checks, ...where(i) }, r.itemSync);
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
  const groups = o.locations ? locationGroups(o.locations, ats) : undefined;
  const approve = async (planRec: PlanRecord, pipelined?: boolean) =>
    goOn(
      r,
      stepId,
      await decide(r, {
        kind: 'approval',
        view: stepView(r, { key, stepId, step }, action, inputs, planRec, items.length, groups && withChanges(groups, planRec)),
        pipelined,
      }),
    );
  // Before the first change: who is acting, in every account×Region the step has targets in.
  const beforeWrite = () => o.beforeWrite?.(o.locations ? distinct(ats) : undefined);

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
    r.append('step.planned', {
      step: key,
      action: action.id,
      items: items.length,
      pipelined: true,
      plan: planRec,
      ...(groups ? { groups } : {}),
    });
    if (!(await approve(planRec, true))) return r.complete(key, stepId, { status: 'skipped' });
    await beforeWrite();
    r.append('step.applying', { step: key });
    const shared = action.batchedPlan ? scope : undefined;
    await Promise.all(
      inputs.map((input, i) => {
        if (done.has(i)) return undefined;
        const planned = planLimit(i, () => planItem(i, input, shared));
        planned.catch(() => undefined); // awaited below; a halt must not surface as unhandled first
        return limitOf(i)(async () => {
          const p = await planned;
          if (!p) return;
          // Durable before the target's first write; the targets that get here together share one flush.
          r.append('item.planned', { step: key, index: i, plan: planRecord(p.plan, ats[i]), ...where(i) }, r.itemSync);
          await o.durable?.();
          await applyItem(i, p, shared);
        });
      }),
    );
  } else {
    const plans = await Promise.all(
      inputs.map((input, i) => planLimit(i, async () => (done.has(i) ? undefined : planItem(i, input, scope)))),
    );
    const changes = plans.flatMap((p, i) => (p ? planRecord(p.plan, ats[i]).changes : []));
    const planRec: PlanRecord = {
      changes,
      alreadyDone: changes.length === 0,
      notes: [`${items.length} targets, ${done.size} already done`],
    };
    const planned = groups && withChanges(groups, planRec);
    r.append('step.planned', { step: key, action: action.id, items: items.length, plan: planRec, ...(planned ? { groups: planned } : {}) });
    if (o.dryRun && action.mutating) {
      // A target whose plan failed fails the dry run's step too, as it would the real run's.
      throwIfFailed();
      return r.complete(key, stepId, { status: 'planned' });
    }
    if (action.mutating && changes.length > 0 && !(await approve(planRec))) return r.complete(key, stepId, { status: 'skipped' });
    if (action.mutating) await beforeWrite();
    r.append('step.applying', { step: key });
    await Promise.all(plans.map((p, i) => limitOf(i)(async () => (p ? applyItem(i, p, scope) : undefined))));
  }
  throwIfFailed();
  r.complete(key, stepId, {
    status: 'applied',
    output: outputs,
    // Later steps in each account×Region read the outputs of the items there.
    ...(o.locations
      ? {
          locations: o.locations.map((at) => ({ account: at.account, region: at.region, output: outputs.filter((_, i) => ats[i] === at) })),
        }
      : {}),
  });
}

/**
 * The step's items, and where each lives. Across accounts, `items` is evaluated in each
 * account×Region over the steps as they ran there (a lookup's own answer), so every item carries
 * the account and Region it was found in; items are numbered account by account, Region by Region.
 */
async function mapItems(r: RunContext, stepId: string, step: MapStepT): Promise<{ items: unknown[]; ats: Array<Location | undefined> }> {
  const field = `steps.${stepId}.items`;
  const listOf = (v: unknown) => {
    if (!Array.isArray(v))
      throw new InputError(`items must be a list, got ${JSON.stringify(v)}`, { field, ...posOpt(r.o.loaded, ['steps', stepId, 'items']) });
    return v as unknown[];
  };
  const locations = r.o.locations;
  if (!locations) {
    const items = listOf(await evaluate(step.items, r.scope(), field));
    return { items, ats: items.map(() => undefined) };
  }
  const lists = await Promise.all(
    locations.map(async (at) => listOf(await evaluate(step.items, r.scope({ steps: r.stepsIn(at) }), field))),
  );
  return {
    items: lists.flat(),
    ats: lists.flatMap((list, i) => list.map(() => locations[i])),
  };
}

/** Each account×Region that has targets, with how many. */
function locationGroups(locations: Location[], ats: Array<Location | undefined>): LocationGroup[] {
  return locations
    .map((at) => ({ account: at.account, region: at.region, targets: ats.filter((a) => a === at).length }))
    .filter((g) => g.targets > 0);
}

function withChanges(groups: LocationGroup[], plan: PlanRecord): LocationGroup[] {
  return groups.map((g) => ({ ...g, changes: plan.changes.filter((c) => c.account === g.account && c.region === g.region).length }));
}

const distinct = (ats: Array<Location | undefined>): Location[] => [...new Set(ats.filter((a): a is Location => a !== undefined))];

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
