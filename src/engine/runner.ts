/**
 * The engine: runs a compiled playbook, one step at a time, through
 * plan → approval gate → apply → verify, writing every decision to the journal before acting on it.
 *
 * The journal decides what already ran (see compile.ts for why not the XState snapshot): a step
 * key the journal shows as completed is answered from the journal and never applied again; the
 * step that was in flight when a run died plans again, and since `apply` converges, finishing it
 * is safe. The steps themselves: action-step.ts, map-step.ts, flow-steps.ts.
 */
import { createActor, fromPromise, toPromise } from 'xstate';
import type { ActionDef, Guardrails, Target } from '../actions/define.js';
import type { RunEventWriter } from '../audit/events.js';
import type { AwsClients } from '../cloud/clients.js';
import type { Clock } from '../core/clock.js';
import { errorInfo, ReplayedFailure, type ErrorInfo } from '../core/error-info.js';
import { Interrupted, WaitingForApproval } from '../core/errors.js';
import { allSteps, compilePlaybook, FINAL, type RunStepOutput } from '../playbook/compile.js';
import type { ActionStepT, ChoiceStepT, LoadedPlaybook, ManualStepT, MapStepT, StepT, WaitStepT } from '../playbook/schema.js';
import { runAction } from './action-step.js';
import type { ReplayState, RunStatus, StepRecord } from './events.js';
import { runChoice, runManual, runWait } from './flow-steps.js';
import type { HostRun, RunHost } from './host.js';
import { runMap, runMapItem } from './map-step.js';
import type { Location } from './locations.js';
import { isHalt, runContext, type RunContext } from './run-context.js';

export interface EngineOptions {
  runId: string;
  loaded: LoadedPlaybook;
  inputs: Record<string, unknown>;
  incident: string;
  dryRun: boolean;
  host: RunHost;
  /** What the host is handed with each question (run folder, journal, clients). */
  hostRun: HostRun;
  aws: AwsClients;
  journal: RunEventWriter;
  clock: Clock;
  guard: Guardrails;
  actions: (id: string) => ActionDef;
  replayed: ReplayState;
  /** Per-step approval policy that overrides the playbook's (from an alert route). */
  approvalOverrides?: Record<string, 'auto' | 'required'>;
  /**
   * Acquire the per-resource lock for a target (held until the run ends); throws if another run holds it.
   * `at`: the account×Region the target lives in (a run across accounts).
   */
  lockTarget?: (target: Target, at?: Location) => Promise<void>;
  /**
   * Group commit for map items: resolves once every journal line written so far is durable, with one
   * fdatasync shared by every target that asks in the same turn of the event loop. Absent: each
   * item's decisions are made durable one by one.
   */
  durable?: () => Promise<void>;
  /** A fleet across accounts: every account×Region the run acts in, in item order. */
  locations?: Location[];
  /** The audited clients of one account×Region (created once per run). */
  awsIn?: (at: Location) => AwsClients;
  /** Maximum number of targets one map step may act on (guardrail). */
  maxTargets?: number;
  signal: AbortSignal;
  actor?: string;
  /** ISO time the run started (its `run.started` event), given to actions. */
  startedAt?: string;
  /**
   * Awaited before the first change to the cloud (identity and allowed-account check); with `at`,
   * before the first change in those account×Regions (each checked against STS's answer there).
   */
  beforeWrite?: (at?: Location[]) => Promise<void>;
}

export interface RunResult {
  status: RunStatus;
  outcome?: string;
  waitingStep?: string;
  error?: ErrorInfo;
}

export async function executeRun(o: EngineOptions): Promise<RunResult> {
  const r = runContext(o);
  const inflight = new Set<Promise<unknown>>();
  const runStep = stepRunner(r);
  const machine = compilePlaybook(o.loaded.playbook, isHalt).provide({
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
  const error = context.error ? { error: errorInfo(context.error) } : {};
  if (o.dryRun) {
    // A plan that failed (and no onError path took over) fails the dry run: the real run would fail there,
    // and `runs` must not list it as a plan that went through.
    if (final === FINAL.failed) return { status: 'failed', outcome: context.outcome ?? 'failure', ...error };
    return { status: 'planned', outcome: context.outcome ?? 'success' };
  }
  if (final === FINAL.failed || context.outcome === 'failure') return { status: 'failed', outcome: context.outcome ?? 'failure', ...error };
  return { status: 'succeeded', outcome: context.outcome ?? 'success' };
}

/** Run one visit of a step, or answer it from the journal when the journal shows it done. */
function stepRunner(r: RunContext) {
  const { o } = r;
  const stepsById = new Map(allSteps(o.loaded.playbook).map((s) => [s.id, s.step] as const));
  const visits = new Map<string, number>();
  const nextKey = (stepId: string) => {
    const n = (visits.get(stepId) ?? 0) + 1;
    visits.set(stepId, n);
    return n === 1 ? stepId : `${stepId}#${n}`;
  };
  return async (stepId: string): Promise<RunStepOutput> => {
    const step = stepsById.get(stepId);
    if (!step) throw new Error(`no step '${stepId}'`);
    return runVisit(r, nextKey(stepId), stepId, step);
  };
}

/** One visit of a step under its journal key: answered from the journal when it shows the visit done, otherwise run. */
async function runVisit(r: RunContext, key: string, stepId: string, step: StepT): Promise<RunStepOutput> {
  const { o } = r;
  const prior = o.replayed.completed.get(key);
  if (prior) {
    r.restore(stepId, prior);
    return step.type === 'choice' ? { next: o.replayed.choices.get(key)! } : {};
  }
  const failed = o.replayed.handledFailures.get(key);
  if (failed) {
    r.stepData[stepId] = { status: 'failed', error: failed };
    throw new ReplayedFailure(failed.code, failed.message);
  }
  try {
    switch (step.type ?? 'action') {
      case 'action':
        await runAction(r, key, stepId, step as ActionStepT);
        return {};
      case 'map':
        await runMap(r, key, stepId, step as MapStepT);
        return {};
      case 'choice':
        return await runChoice(r, key, stepId, step as ChoiceStepT);
      case 'manual':
        await runManual(r, key, stepId, step as ManualStepT);
        return {};
      case 'wait':
        await runWait(r, key, stepId, step as WaitStepT);
        return {};
      default:
        throw new Error(`step '${stepId}' of type ${step.type} is not run by an actor`);
    }
  } catch (err) {
    const s = step as { onError?: ActionStepT['onError']; action?: string };
    r.failStep(key, stepId, s.onError, s.action, err);
    throw err;
  }
}

/**
 * One visit of one step outside the run's state machine, for an executor that owns the control flow
 * (Step Functions: the worker runs one step per task). `steps` are the records of the steps before it,
 * as the executor carries them; the answer is this step's record. The same code as a visit in `executeRun`.
 */
export async function runOneStep(
  o: EngineOptions,
  at: { stepId: string; key: string; steps: Record<string, StepRecord> },
): Promise<{ record?: StepRecord; output: RunStepOutput }> {
  const r = runContext(o);
  Object.assign(r.stepData, at.steps);
  const step = allSteps(o.loaded.playbook).find((s) => s.id === at.stepId)?.step;
  if (!step) throw new Error(`no step '${at.stepId}'`);
  const output = await runVisit(r, at.key, at.stepId, step);
  const record = r.stepData[at.stepId];
  return { ...(record ? { record } : {}), output };
}

/** One item of a map step outside the run's state machine (see runOneStep): its output. */
export async function runOneItem(
  o: EngineOptions,
  at: { stepId: string; key: string; steps: Record<string, StepRecord>; item: unknown; index: number },
): Promise<unknown> {
  const r = runContext(o);
  Object.assign(r.stepData, at.steps);
  const step = allSteps(o.loaded.playbook).find((s) => s.id === at.stepId)?.step;
  if (step?.type !== 'map') throw new Error(`no map step '${at.stepId}'`);
  return runMapItem(r, at.key, at.stepId, step, at.item, at.index);
}
