/**
 * The engine: runs a compiled playbook, one step at a time, through
 * plan → approval gate → apply → verify, writing every decision to the journal before acting on it.
 *
 * The journal decides what already ran (see compile.ts for why not the XState snapshot): a step
 * key the journal shows as completed is answered from the journal and never applied again; the
 * step that was in flight when a run died plans again, and since `apply` converges, finishing it
 * is safe.
 */
import { createActor, fromPromise, toPromise } from 'xstate';
import pLimit from 'p-limit';
import { ManualTaskRequired, type ActionContext, type ActionDef, type Guardrails, type Plan, type Target } from '../actions/define.js';
import { withCallContext } from '../cloud/call-context.js';
import type { AwsClients } from '../cloud/clients.js';
import { parseDuration, type Clock } from '../core/clock.js';
import {
  Aborted,
  ActionFailed,
  awsErrorCode,
  FirebreakError,
  GuardrailRefusal,
  InputError,
  Interrupted,
  WaitingForApproval,
} from '../core/errors.js';
import { allSteps, compilePlaybook, FINAL, type RunStepOutput } from '../playbook/compile.js';
import { evaluate, resolveValue } from '../playbook/expr.js';
import type { ActionStepT, ChoiceStepT, LoadedPlaybook, ManualStepT, MapStepT, StepT, WaitStepT } from '../playbook/schema.js';
import type { Approval, PlanRecord, ReplayState, RunStatus, StepRecord } from './events.js';
import type { RunHost, StepView } from './host.js';

export interface JournalSink {
  append(type: string, fields: Record<string, unknown>): unknown;
}

export interface EngineOptions {
  runId: string;
  loaded: LoadedPlaybook;
  inputs: Record<string, unknown>;
  incident: string;
  dryRun: boolean;
  host: RunHost;
  aws: AwsClients;
  journal: JournalSink;
  clock: Clock;
  guard: Guardrails;
  actions: (id: string) => ActionDef;
  replayed: ReplayState;
  /** Per-step approval policy that overrides the playbook's (from an alert route). */
  approvalOverrides?: Record<string, 'auto' | 'required'>;
  /** Acquire the per-resource lock for a target (held until the run ends); throws if another run holds it. */
  lockTarget?: (target: Target) => Promise<void>;
  /** Maximum number of targets one map step may act on (guardrail). */
  maxTargets?: number;
  signal: AbortSignal;
  actor?: string;
  /** ISO time the run started (its `run.started` event), given to actions. */
  startedAt?: string;
  /** Awaited before the first change to the cloud (identity and allowed-account check). */
  beforeWrite?: () => Promise<void>;
}

export interface RunResult {
  status: RunStatus;
  outcome?: string;
  waitingStep?: string;
  error?: { code: string; message: string; hint?: string };
}

/** A failure replayed from the journal, so the machine takes the same onError path again. */
class ReplayedFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Without a list of codes, the engine retries what is worth retrying: AWS server faults, and a
 * verification that failed (describe calls are eventually consistent right after a change).
 * Client errors (NotFound, AccessDenied, invalid input) fail at once: waiting does not fix them.
 * Throttling is retried by the SDK's own retry strategy before it ever reaches here.
 */
function isTransient(err: unknown, code: string): boolean {
  if (code === 'VerificationFailed') return true;
  const fault = (err as { $fault?: string }).$fault;
  return fault === 'server';
}

const isHalt = (e: unknown) => e instanceof WaitingForApproval || e instanceof Aborted || e instanceof Interrupted;

export function errorInfo(err: unknown): { code: string; message: string; hint?: string } {
  const aws = awsErrorCode(err);
  if (aws) return { code: aws, message: (err as Error).message };
  if (err instanceof ReplayedFailure) return { code: err.code, message: err.message };
  if (err instanceof ActionFailed)
    return { code: err.code ?? 'ActionFailed', message: err.message, ...(err.hint ? { hint: err.hint } : {}) };
  if (err instanceof InputError) return { code: 'InvalidInput', message: err.line };
  if (err instanceof FirebreakError) return { code: err.name, message: err.message, ...(err.hint ? { hint: err.hint } : {}) };
  if (err instanceof Error) return { code: err.name || 'Error', message: err.message };
  return { code: 'Error', message: String(err) };
}

export async function executeRun(o: EngineOptions): Promise<RunResult> {
  const pb = o.loaded.playbook;
  const stepsById = new Map(allSteps(pb).map((s) => [s.id, s.step] as const));
  const visits = new Map<string, number>();
  const stepData: Record<string, StepRecord> = {};
  const inflight = new Set<Promise<unknown>>();
  const append = (type: string, fields: Record<string, unknown>) => o.journal.append(type, fields);

  const nextKey = (stepId: string) => {
    const n = (visits.get(stepId) ?? 0) + 1;
    visits.set(stepId, n);
    return n === 1 ? stepId : `${stepId}#${n}`;
  };
  const scope = (extra: Record<string, unknown> = {}) => ({
    inputs: o.inputs,
    steps: stepData,
    run: { id: o.runId, incident: o.incident, playbook: pb.id },
    now: o.clock.now(),
    ...extra,
  });
  const checkSignal = () => {
    if (o.signal.aborted) throw new Interrupted(o.runId);
  };
  const complete = (key: string, stepId: string, rec: StepRecord) => {
    stepData[stepId] = rec;
    append('step.completed', { step: key, status: rec.status, ...(rec.output === undefined ? {} : { output: rec.output }) });
  };
  const actionCtx = (key: string): ActionContext => ({
    aws: o.aws,
    run: {
      id: o.runId,
      incident: o.incident,
      playbook: pb.id,
      step: key,
      ...(o.actor ? { actor: o.actor } : {}),
      ...(o.startedAt ? { startedAt: o.startedAt } : {}),
    },
    clock: o.clock,
    guard: o.guard,
    log: (message, data) => void append('note', { step: key, message, ...(data ?? {}) }),
    signal: o.signal,
    facts: { inputs: o.inputs, steps: stepData },
  });
  const inCall = <T>(key: string, action: ActionDef, fn: () => Promise<T>) =>
    withCallContext({ step: key, action: action.id, permissions: new Set(action.permissions) }, fn);

  /** Ask for (or replay) the decision on a step that changes the cloud. */
  const decide = async (key: string, view: StepView, how: { pipelined?: boolean } = {}): Promise<Approval> => {
    const prior = o.replayed.approvals.get(key);
    if (prior) return prior;
    // Pipelined: approved before any target is planned, so there is no count of changes yet.
    append('approval.requested', {
      step: key,
      policy: view.policy,
      ...(how.pipelined ? { pipelined: true, items: view.items } : { changes: view.plan.changes.length }),
    });
    let answer: Approval;
    try {
      answer = await o.host.approve(view, o.signal);
    } catch (err) {
      if (err instanceof WaitingForApproval) append('run.waiting', { step: key, kind: 'approval' });
      throw err;
    }
    append('approval.answered', { step: key, ...answer });
    return answer;
  };

  const policyOf = (stepId: string, step: { approval?: 'auto' | 'required' }) =>
    o.approvalOverrides?.[stepId] ?? step.approval ?? 'required';

  const lockTargets = async (action: ActionDef, input: unknown) => {
    if (!action.mutating || !o.lockTarget || !action.targets) return;
    for (const t of action.targets(input)) await o.lockTarget(t);
  };

  const resolveInput = async (action: ActionDef, stepId: string, withValues: unknown, extra: Record<string, unknown> = {}) => {
    const resolved = await resolveValue(withValues, scope(extra), `steps.${stepId}.with`);
    const parsed = action.input.safeParse(resolved);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = [`steps.${stepId}.with`, ...issue.path.map(String)].join('.');
      throw new InputError(`${issue.message} (value: ${JSON.stringify(pathGet(resolved, issue.path))})`, {
        field,
        ...posOpt(o.loaded, ['steps', stepId]),
      });
    }
    return parsed.data;
  };

  const viewOf = (
    key: string,
    stepId: string,
    step: ActionStepT | MapStepT,
    action: ActionDef,
    input: unknown,
    plan: PlanRecord,
    items?: number,
  ): StepView => ({
    runId: o.runId,
    key,
    stepId,
    title: step.title ?? action.summary,
    ...(step.description ? { description: step.description } : {}),
    action: action.id,
    actionSummary: action.summary,
    input,
    plan,
    policy: policyOf(stepId, step),
    ...(items !== undefined ? { items } : {}),
  });

  /** plan → approve → apply → verify for one action step. */
  const lifecycle = async (key: string, stepId: string, step: ActionStepT, action: ActionDef, input: unknown) => {
    checkSignal();
    const ctx = actionCtx(key);
    await lockTargets(action, input);
    const plan: Plan = await inCall(key, action, () => action.plan(ctx, input));
    const planRec: PlanRecord = { changes: plan.changes, alreadyDone: plan.alreadyDone, notes: plan.notes };
    append('step.planned', { step: key, action: action.id, input, plan: planRec, facts: plan.facts });
    // Read-only actions (lookups) still run in dry-run: later steps' plans need their output.
    if (o.dryRun && action.mutating) return complete(key, stepId, { status: 'planned' });
    if (action.mutating && plan.changes.length > 0) {
      checkSignal();
      const answer = await decide(key, viewOf(key, stepId, step, action, input, planRec));
      if (answer.decision === 'skip') return complete(key, stepId, { status: answer.via === 'approve-command' ? 'denied' : 'skipped' });
      if (answer.decision === 'abort') throw new Aborted(`run ${o.runId} aborted at step '${stepId}' by ${answer.by}`);
    }
    checkSignal();
    if (action.mutating) await o.beforeWrite?.();
    append('step.applying', { step: key });
    let output: unknown;
    try {
      output = await inCall(key, action, () => action.apply(ctx, input, plan));
    } catch (err) {
      if (!(err instanceof ManualTaskRequired)) throw err;
      return manualFallback(key, stepId, err);
    }
    const undo = action.undo ? { action: action.undo.action, input: action.undo.input(output as never, input as never) } : undefined;
    append('step.applied', { step: key, action: action.id, output, ...(undo ? { undo } : {}) });
    const checks = await inCall(key, action, () => action.verify(ctx, input, output));
    const ok = checks.every((c) => c.ok);
    append('step.verified', { step: key, ok, checks });
    if (!ok) {
      const bad = checks.filter((c) => !c.ok).map((c) => `${c.name}${c.detail ? ` (${c.detail})` : ''}`);
      throw new ActionFailed(`verification failed: ${bad.join('; ')}`, 'VerificationFailed');
    }
    complete(key, stepId, { status: plan.changes.length > 0 ? 'applied' : 'already-done', output });
  };

  const manualFallback = async (key: string, stepId: string, err: ManualTaskRequired) => {
    append('step.manual', { step: key, reason: err.reason, task: err.task });
    const answer = await askManual(key, stepId, err.task.title, err.task.instructions);
    if (answer.decision === 'abort') throw new Aborted(`run ${o.runId} aborted at step '${stepId}' by ${answer.by}`);
    complete(key, stepId, {
      status: answer.decision === 'skip' ? 'skipped' : 'manual',
      ...(err.task.output !== undefined ? { output: err.task.output } : {}),
    });
  };

  const askManual = async (key: string, stepId: string, title: string, instructions: string): Promise<Approval> => {
    const prior = o.replayed.approvals.get(key);
    if (prior) return prior;
    append('manual.requested', { step: key, title, instructions });
    let answer: Approval;
    try {
      answer = await o.host.manual({ runId: o.runId, key, stepId, title, instructions }, o.signal);
    } catch (err) {
      if (err instanceof WaitingForApproval) append('run.waiting', { step: key, kind: 'manual' });
      throw err;
    }
    append('approval.answered', { step: key, ...answer });
    return answer;
  };

  const withRetry = async <T>(key: string, _stepId: string, retry: ActionStepT['retry'], fn: () => Promise<T>): Promise<T> => {
    const attempts = retry?.attempts ?? 1;
    let delay = retry ? parseDuration(retry.backoff) : 0;
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        const info = errorInfo(err);
        const retryable =
          retry &&
          !isHalt(err) &&
          !(err instanceof InputError) &&
          !(err instanceof GuardrailRefusal) &&
          (retry.codes ? retry.codes.includes(info.code) : isTransient(err, info.code));
        if (!retryable || attempt >= attempts) throw err;
        append('step.retrying', { step: key, attempt, of: attempts, delayMs: delay, error: info });
        await o.clock.sleep(delay, o.signal);
        delay = Math.min(delay * retry.factor, parseDuration(retry.maxDelay));
      }
    }
  };

  const failStep = (key: string, stepId: string, step: StepT, action: string | undefined, err: unknown) => {
    if (isHalt(err) || err instanceof ReplayedFailure) return;
    const info = errorInfo(err);
    const onError = (step as { onError?: ActionStepT['onError'] }).onError;
    const handled = onError !== undefined && (typeof onError === 'string' || !onError.codes || onError.codes.includes(info.code));
    stepData[stepId] = { status: 'failed', error: { code: info.code, message: info.message } };
    append('step.failed', { step: key, ...(action ? { action } : {}), error: info, handled });
  };

  const runAction = async (key: string, stepId: string, step: ActionStepT) => {
    append('step.started', { step: key, action: step.action });
    if (step.when !== undefined && !(await evaluate(step.when, scope(), `steps.${stepId}.when`))) {
      return complete(key, stepId, { status: 'condition-false' });
    }
    const action = o.actions(step.action);
    const input = await resolveInput(action, stepId, step.with);
    await withRetry(key, stepId, step.retry, () => lifecycle(key, stepId, step, action, input));
  };

  const runMap = async (key: string, stepId: string, step: MapStepT) => {
    append('step.started', { step: key, action: step.action });
    const items = await evaluate(step.items, scope(), `steps.${stepId}.items`);
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
    // Batching hook: an action whose plan reads are batched is planned for all targets at once.
    const planLimit = <T>(fn: () => Promise<T>): Promise<T> => (action.batchedPlan ? fn() : limit(fn));
    const inputs = await Promise.all(items.map((item, index) => resolveInput(action, stepId, step.with, { item, index })));
    const done = o.replayed.items.get(key) ?? new Map<number, unknown>();
    const failures: Array<{ index: number; error: { code: string; message: string } }> = [];
    const outputs: unknown[] = items.map((_, i) => done.get(i));

    // A target whose plan fails (throttled after the SDK's retries, gone, protected) fails alone:
    // the other targets are still contained.
    const planItem = async (i: number, input: unknown) => {
      const itemKey = `${key}[${i}]`;
      try {
        // A map step's `retry` applies to each target on its own (its plan, then its apply and verify).
        return {
          input,
          plan: await withRetry(itemKey, stepId, step.retry, () => inCall(itemKey, action, () => action.plan(actionCtx(itemKey), input))),
        };
      } catch (err) {
        if (isHalt(err)) throw err;
        const error = errorInfo(err);
        failures.push({ index: i, error });
        append('item.failed', { step: key, index: i, phase: 'plan', error });
        return undefined;
      }
    };
    const applyItem = async (i: number, p: { input: unknown; plan: Plan }) => {
      const itemKey = `${key}[${i}]`;
      try {
        checkSignal();
        const ctx = actionCtx(itemKey);
        await lockTargets(action, p.input);
        const { output, checks } = await withRetry(itemKey, stepId, step.retry, async () => {
          const output = await inCall(itemKey, action, () => action.apply(ctx, p.input, p.plan));
          const undo = action.undo
            ? { action: action.undo.action, input: action.undo.input(output as never, p.input as never) }
            : undefined;
          append('step.applied', { step: key, item: i, action: action.id, output, ...(undo ? { undo } : {}) });
          const checks = await inCall(itemKey, action, () => action.verify(ctx, p.input, output));
          const ok = checks.every((c) => c.ok);
          if (!ok)
            throw new ActionFailed(
              `verification failed: ${checks
                .filter((c) => !c.ok)
                .map((c) => c.name)
                .join('; ')}`,
              'VerificationFailed',
            );
          return { output, checks };
        });
        outputs[i] = output;
        append('item.completed', { step: key, index: i, output, checks });
      } catch (err) {
        if (isHalt(err)) throw err;
        const error = errorInfo(err);
        failures.push({ index: i, error });
        append('item.failed', { step: key, index: i, error });
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
    const answered = (answer: Approval) => {
      if (answer.decision === 'abort') throw new Aborted(`run ${o.runId} aborted at step '${stepId}' by ${answer.by}`);
      return answer.decision === 'approve';
    };

    if (!o.dryRun && action.mutating && o.host.approvesUnseen?.(policyOf(stepId, step))) {
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
      append('step.planned', { step: key, action: action.id, items: items.length, pipelined: true, plan: planRec });
      if (!answered(await decide(key, viewOf(key, stepId, step, action, inputs, planRec, items.length), { pipelined: true })))
        return complete(key, stepId, { status: 'skipped' });
      await o.beforeWrite?.();
      append('step.applying', { step: key });
      await Promise.all(
        inputs.map((input, i) => {
          if (done.has(i)) return;
          const planned = planLimit(() => planItem(i, input));
          planned.catch(() => undefined); // awaited below; a halt must not surface as unhandled first
          return limit(async () => {
            const p = await planned;
            if (!p) return;
            append('item.planned', {
              step: key,
              index: i,
              plan: { changes: p.plan.changes, alreadyDone: p.plan.alreadyDone, notes: p.plan.notes },
            });
            await applyItem(i, p);
          });
        }),
      );
    } else {
      const plans = await Promise.all(inputs.map((input, i) => planLimit(async () => (done.has(i) ? undefined : planItem(i, input)))));
      const changes = plans.flatMap((p) => p?.plan.changes ?? []);
      const planRec: PlanRecord = {
        changes,
        alreadyDone: changes.length === 0,
        notes: [`${items.length} targets, ${done.size} already done`],
      };
      append('step.planned', { step: key, action: action.id, items: items.length, plan: planRec });
      if (o.dryRun && action.mutating) {
        // A target whose plan failed fails the dry run's step too, as it would the real run's.
        throwIfFailed();
        return complete(key, stepId, { status: 'planned' });
      }
      if (action.mutating && changes.length > 0) {
        if (!answered(await decide(key, viewOf(key, stepId, step, action, inputs, planRec, items.length))))
          return complete(key, stepId, { status: 'skipped' });
      }
      if (action.mutating) await o.beforeWrite?.();
      append('step.applying', { step: key });
      await Promise.all(plans.map((p, i) => limit(async () => (p ? applyItem(i, p) : undefined))));
    }
    throwIfFailed();
    complete(key, stepId, { status: 'applied', output: outputs });
  };

  const runChoice = async (key: string, stepId: string, step: ChoiceStepT): Promise<RunStepOutput> => {
    const prior = o.replayed.choices.get(key);
    if (prior) return { next: prior };
    let next = step.default;
    for (const [i, c] of step.choices.entries()) {
      if (await evaluate(c.when, scope(), `steps.${stepId}.choices.${i}.when`)) {
        next = c.next;
        break;
      }
    }
    append('choice.taken', { step: key, next });
    return { next };
  };

  const runManual = async (key: string, stepId: string, step: ManualStepT) => {
    append('step.started', { step: key });
    if (o.dryRun) {
      append('step.planned', { step: key, plan: { changes: [], alreadyDone: false, notes: [`manual task: ${step.title}`] } });
      return complete(key, stepId, { status: 'planned' });
    }
    const answer = await askManual(key, stepId, step.title, step.instructions);
    if (answer.decision === 'abort') throw new Aborted(`run ${o.runId} aborted at step '${stepId}' by ${answer.by}`);
    complete(key, stepId, { status: answer.decision === 'skip' ? 'skipped' : 'manual', output: { by: answer.by, note: answer.note } });
  };

  const runWait = async (key: string, stepId: string, step: WaitStepT) => {
    let until = o.replayed.waits.get(key);
    if (!until) {
      const d =
        typeof step.duration === 'string' && step.duration.trim().startsWith('{%')
          ? Number(await evaluate(step.duration, scope(), `steps.${stepId}.duration`)) * 1000
          : parseDuration(step.duration);
      until = new Date(o.clock.now().getTime() + d).toISOString();
      append('wait.started', { step: key, until });
    }
    if (o.dryRun) return complete(key, stepId, { status: 'planned' });
    const remaining = new Date(until).getTime() - o.clock.now().getTime();
    if (remaining > 0)
      await o.clock.sleep(remaining, o.signal).catch((e) => {
        throw o.signal.aborted ? new Interrupted(o.runId) : e;
      });
    complete(key, stepId, { status: 'applied' });
  };

  const runStep = async (stepId: string): Promise<RunStepOutput> => {
    const step = stepsById.get(stepId);
    if (!step) throw new Error(`no step '${stepId}'`);
    const key = nextKey(stepId);
    const prior = o.replayed.completed.get(key);
    if (prior) {
      stepData[stepId] = prior;
      return step.type === 'choice' ? { next: o.replayed.choices.get(key)! } : {};
    }
    const failed = o.replayed.handledFailures.get(key);
    if (failed) {
      stepData[stepId] = { status: 'failed', error: failed };
      throw new ReplayedFailure(failed.code, failed.message);
    }
    try {
      switch (step.type ?? 'action') {
        case 'action':
          await runAction(key, stepId, step as ActionStepT);
          return {};
        case 'map':
          await runMap(key, stepId, step as MapStepT);
          return {};
        case 'choice':
          return await runChoice(key, stepId, step as ChoiceStepT);
        case 'manual':
          await runManual(key, stepId, step as ManualStepT);
          return {};
        case 'wait':
          await runWait(key, stepId, step as WaitStepT);
          return {};
        default:
          throw new Error(`step '${stepId}' of type ${step.type} is not run by an actor`);
      }
    } catch (err) {
      failStep(key, stepId, step, (step as { action?: string }).action, err);
      throw err;
    }
  };

  const machine = compilePlaybook(pb, isHalt).provide({
    actors: {
      runStep: fromPromise(async ({ input }: { input: { stepId: string } }) => {
        const p = runStep(input.stepId);
        inflight.add(p);
        try {
          return await p;
        } finally {
          inflight.delete(p);
        }
      }),
    },
  });
  const actor = createActor(machine);
  const done = toPromise(actor);
  actor.start();
  const context = await done;
  // Branches still running when another stopped the run (waiting, abort) finish their call so
  // the journal records it; nothing new starts because `checkSignal` and the host see the halt.
  await Promise.allSettled([...inflight]);
  const final = String(actor.getSnapshot().value);

  if (context.halted) {
    const h = context.halted;
    if (h instanceof WaitingForApproval) return { status: 'waiting', waitingStep: h.step, error: errorInfo(h) };
    if (h instanceof Interrupted) return { status: 'interrupted', error: errorInfo(h) };
    return { status: 'aborted', error: errorInfo(h) };
  }
  if (o.dryRun) {
    // A plan that failed (and no onError path took over) says so: the real run would fail there.
    if (final === FINAL.failed)
      return { status: 'planned', outcome: context.outcome ?? 'failure', ...(context.error ? { error: errorInfo(context.error) } : {}) };
    return { status: 'planned', outcome: context.outcome ?? 'success' };
  }
  if (final === FINAL.failed || context.outcome === 'failure') {
    return { status: 'failed', outcome: context.outcome ?? 'failure', ...(context.error ? { error: errorInfo(context.error) } : {}) };
  }
  return { status: 'succeeded', outcome: context.outcome ?? 'success' };
}

function posOpt(loaded: LoadedPlaybook, path: (string | number)[]) {
  const pos = loaded.posOf(path);
  return pos ? { pos } : {};
}

function pathGet(v: unknown, path: PropertyKey[]): unknown {
  let cur: any = v;
  for (const k of path) cur = cur?.[k as any];
  return cur;
}
