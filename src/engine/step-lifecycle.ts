/**
 * One target's plan → apply → verify, the same for an action step and for each item of a map
 * step: the plan is read-only; `step.applied` (with the undo) is journaled before verifying; a
 * verification that fails throws the same VerificationFailed either way.
 */
import { ManualTaskRequired, type ActionContext, type ActionDef, type Check, type Plan, type StepScope } from '../actions/define.js';
import { ActionFailed } from '../core/errors.js';
import type { ActionStepT, MapStepT } from '../playbook/schema.js';
import type { PlanRecord } from './events.js';
import type { Location } from './locations.js';
import type { LocationGroup, StepView } from './host.js';
import type { RunContext } from './run-context.js';

/** Where a target's calls are recorded: the step key, and for a map item its index. */
export interface TargetRef {
  key: string;
  item?: number;
  /** The account×Region the target lives in (a run across accounts): its calls use the clients there. */
  at?: Location;
  /** The map step's scope, when its targets may share writes (see StepScope). */
  step?: StepScope;
}

const callKey = (t: TargetRef) => (t.item === undefined ? t.key : `${t.key}[${t.item}]`);
const ctxOf = (r: RunContext, t: TargetRef): ActionContext => ({ ...r.actionCtx(callKey(t), t.at), ...(t.step ? { step: t.step } : {}) });

/** A plan as journaled; a target in another account×Region has its account and Region on each change. */
export const planRecord = (plan: Plan, at?: Location): PlanRecord => ({
  changes: at ? plan.changes.map((c) => ({ ...c, account: at.account, region: at.region })) : plan.changes,
  alreadyDone: plan.alreadyDone,
  notes: plan.notes,
});

export function planTarget(r: RunContext, t: TargetRef, action: ActionDef, input: unknown): Promise<Plan> {
  const k = callKey(t);
  return r.inCall(k, action, () => action.plan(ctxOf(r, t), input));
}

export type Applied = { output: unknown; checks: Check[] } | { manual: ManualTaskRequired };

/** Apply a planned target and verify it. An action that hands the change to a person returns `manual` (single steps only). */
export async function applyTarget(r: RunContext, t: TargetRef, action: ActionDef, input: unknown, plan: Plan): Promise<Applied> {
  const k = callKey(t);
  const ctx = ctxOf(r, t);
  let output: unknown;
  try {
    output = await r.inCall(k, action, () => action.apply(ctx, input, plan));
  } catch (err) {
    if (err instanceof ManualTaskRequired && t.item === undefined) return { manual: err };
    throw err;
  }
  // Undo reverses only what this apply changed: a plan that found the work already done records none.
  const undo =
    action.undo && plan.changes.length > 0
      ? { action: action.undo.action, input: action.undo.input(output as never, input as never) }
      : undefined;
  r.append(
    'step.applied',
    {
      step: t.key,
      ...(t.item === undefined ? {} : { item: t.item }),
      action: action.id,
      output,
      ...(undo ? { undo } : {}),
    },
    t.item === undefined ? undefined : r.itemSync,
  );
  // The undo of a map item is durable before its verify, in one flush with the other items'.
  if (t.item !== undefined) await r.o.durable?.();
  const checks = await r.inCall(k, action, () => action.verify(ctx, input, output));
  const ok = checks.every((c) => c.ok);
  // A map item's checks are journaled with its item.completed.
  if (t.item === undefined) r.append('step.verified', { step: t.key, ok, checks });
  if (!ok) {
    const bad = checks.filter((c) => !c.ok).map((c) => `${c.name}${c.detail ? ` (${c.detail})` : ''}`);
    throw new ActionFailed(`verification failed: ${bad.join('; ')}`, 'VerificationFailed');
  }
  return { output, checks };
}

/** What a host is shown to decide a step. */
export function stepView(
  r: RunContext,
  at: { key: string; stepId: string; step: ActionStepT | MapStepT },
  action: ActionDef,
  input: unknown,
  plan: PlanRecord,
  items?: number,
  groups?: LocationGroup[],
): StepView {
  return {
    runId: r.o.runId,
    key: at.key,
    stepId: at.stepId,
    title: at.step.title ?? action.summary,
    ...(at.step.description ? { description: at.step.description } : {}),
    action: action.id,
    actionSummary: action.summary,
    input,
    plan,
    policy: r.policyOf(at.stepId, at.step),
    ...(items !== undefined ? { items } : {}),
    ...(groups ? { groups } : {}),
  };
}
