/**
 * What every step of one run shares: the engine's options, the step outputs later steps read,
 * and small helpers over them (expression scope, journal, action context, retries).
 */
import type { ActionContext, ActionDef } from '../actions/define.js';
import type { RunEventWriter } from '../audit/events.js';
import { withCallContext } from '../cloud/call-context.js';
import { parseDuration } from '../core/clock.js';
import { errorInfo, ReplayedFailure } from '../core/error-info.js';
import { Aborted, GuardrailRefusal, InputError, Interrupted, WaitingForApproval } from '../core/errors.js';
import { resolveValue } from '../playbook/expr.js';
import type { ActionStepT, LoadedPlaybook } from '../playbook/schema.js';
import type { StepRecord } from './events.js';
import { locationKey, type Location } from './locations.js';
import type { EngineOptions } from './runner.js';

export const isHalt = (e: unknown) => e instanceof WaitingForApproval || e instanceof Aborted || e instanceof Interrupted;

/**
 * Without a list of codes, the engine retries what is worth retrying: AWS server faults, and a
 * verification that failed (describe calls are eventually consistent right after a change).
 * Client errors (NotFound, AccessDenied, invalid input) fail at once: waiting does not fix them.
 * Throttling is retried by the SDK's own retry strategy before it ever reaches here.
 */
function isTransient(err: unknown, code: string): boolean {
  if (code === 'VerificationFailed') return true;
  return (err as { $fault?: string }).$fault === 'server';
}

export type RunContext = ReturnType<typeof runContext>;

export interface WouldRunIf {
  when: string;
  /** The planned steps whose output the condition reads. */
  awaits: string[];
  /** Whether their plans predicted the output (and so this step's plan is shown). */
  predicted: boolean;
}

export function runContext(o: EngineOptions) {
  const pb = o.loaded.playbook;
  const stepData: Record<string, StepRecord> = {};
  // A run across accounts: each account×Region's own view of the steps that ran in every one of them.
  const locData = new Map<string, Record<string, StepRecord>>();
  const stepsIn = (at: Location | undefined): Record<string, StepRecord> =>
    at ? { ...stepData, ...locData.get(locationKey(at)) } : stepData;
  const restore = (stepId: string, rec: StepRecord) => {
    stepData[stepId] = rec;
    for (const l of rec.locations ?? []) {
      const k = locationKey(l);
      if (!locData.has(k)) locData.set(k, {});
      locData.get(k)![stepId] = { status: rec.status, output: l.output };
    }
  };
  const append: RunEventWriter['append'] = (type, fields, opts) => o.journal.append(type, fields, opts);
  // A map item's decisions are written at once and made durable together with the other items' (o.durable).
  const itemSync = o.durable ? ({ sync: 'later' } as const) : undefined;
  const scope = (extra: Record<string, unknown> = {}) => ({
    inputs: o.inputs,
    steps: stepData,
    run: { id: o.runId, incident: o.incident, playbook: pb.id },
    now: o.clock.now(),
    ...extra,
  });
  const complete = (key: string, stepId: string, rec: StepRecord, wouldRunIf?: WouldRunIf) => {
    restore(stepId, rec);
    append('step.completed', {
      step: key,
      status: rec.status,
      ...(rec.output === undefined ? {} : { output: rec.output }),
      ...(rec.predicted === undefined ? {} : { predicted: rec.predicted }),
      ...(wouldRunIf ? { wouldRunIf } : {}),
      ...(rec.locations ? { locations: rec.locations } : {}),
    });
  };
  /** The steps as a dry run expects them to be: a planned step's output is what its plan predicts. */
  const predictedSteps = () =>
    Object.fromEntries(
      Object.entries(stepData).map(([id, rec]) => [
        id,
        rec.status === 'planned' && rec.predicted !== undefined ? { ...rec, output: rec.predicted } : rec,
      ]),
    );
  /** An action's context; in a run across accounts, `at` is where the target lives and its clients are that account×Region's. */
  const actionCtx = (key: string, at?: Location): ActionContext => ({
    aws: at ? o.awsIn!(at) : o.aws,
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

  const withRetry = async <T>(key: string, retry: ActionStepT['retry'], fn: () => Promise<T>): Promise<T> => {
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

  return {
    o,
    stepData,
    stepsIn,
    restore,
    append,
    itemSync,
    scope,
    complete,
    predictedSteps,
    actionCtx,
    withRetry,
    resolveInput,
    checkSignal: () => {
      if (o.signal.aborted) throw new Interrupted(o.runId);
    },
    inCall: <T>(key: string, action: ActionDef, fn: () => Promise<T>) =>
      withCallContext({ step: key, action: action.id, permissions: new Set(action.permissions) }, fn),
    policyOf: (stepId: string, step: { approval?: 'auto' | 'required' }) => o.approvalOverrides?.[stepId] ?? step.approval ?? 'required',
    lockTargets: async (action: ActionDef, input: unknown, at?: Location) => {
      // A dry run changes nothing, so it holds nothing: it may look at an instance another run is containing.
      if (o.dryRun || !action.mutating || !o.lockTarget || !action.targets) return;
      for (const t of action.targets(input)) await o.lockTarget(t, at);
    },
    /** Record a failure (unless the run is halting, or it is a failure replayed from the journal). */
    failStep: (key: string, stepId: string, onError: ActionStepT['onError'] | undefined, action: string | undefined, err: unknown) => {
      if (isHalt(err) || err instanceof ReplayedFailure) return;
      const info = errorInfo(err);
      const handled = onError !== undefined && (typeof onError === 'string' || !onError.codes || onError.codes.includes(info.code));
      stepData[stepId] = { status: 'failed', error: { code: info.code, message: info.message } };
      const next = handled ? { next: typeof onError === 'string' ? onError : onError.next } : {};
      append('step.failed', { step: key, ...(action ? { action } : {}), error: info, handled, ...next });
    },
  };
}

export function posOpt(loaded: LoadedPlaybook, path: (string | number)[]) {
  const pos = loaded.posOf(path);
  return pos ? { pos } : {};
}

function pathGet(v: unknown, path: PropertyKey[]): unknown {
  let cur: unknown = v;
  for (const k of path) cur = (cur as Record<PropertyKey, unknown> | undefined)?.[k];
  return cur;
}
