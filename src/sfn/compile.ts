/**
 * Playbook → Amazon States Language, in the JSONPath query language. Control flow belongs to Step
 * Functions; the work of a step (plan, approval, apply, verify, journal) stays in Firebreak's engine,
 * run by the worker Lambda one task per step phase (see worker.ts for the payload and the error names).
 *
 * Why JSONPath and not JSONata, although playbook expressions are JSONata: the definition evaluates
 * no playbook expression at all. The worker already evaluates `with` and `when` (the engine's
 * evaluator, its clock and its limits); it also decides choice steps (`choose` answers the chosen
 * step), lists a map step's items (`items`) and works out a computed wait (`wait` answers seconds),
 * see decide.ts. So there is one code path for expression semantics — a choice cannot go one way on
 * Step Functions and another in the CLI because two JSONata implementations or scopes differ — and the
 * definition only moves data and compares the worker's answers (`StringEquals`, `IsPresent`), which
 * every ASL interpreter runs alike: aws-local-stepfunctions, which the tests execute it with, runs
 * JSONPath definitions only (no JSONata, no variables). One form, tested by an independent
 * interpreter, rather than two. What it costs: one more task per choice step, per map step and per
 * computed wait (a transition and a short invocation each), a Pass state per visit of a looped step,
 * and the run's data travels in the state instead of variables (256 KiB per state at most).
 *
 * The state (every state's input and output): `{ inputs, run, steps, visits }` from the execution
 * input `{ inputs, run }` (the `Start` state adds the rest).
 *  - `steps.<id>` is the step's record `{ status, output | error }` as the engine keeps it: a task's
 *    result goes there with `ResultPath`; a caught failure (`$.caught`, `{ Error, Cause }`) becomes
 *    `{ status: failed, error: { code, message } }` in a Pass state `<id>.failed`, a denial
 *    `{ status: denied }` in `<id>.denied` (a skipped manual task `<id>.skipped`).
 *  - A parallel step's branches get the whole state and end with their own; the Parallel state merges
 *    their `steps` (`States.JsonMerge`, shallow: each branch writes only its own steps' keys).
 *  - A map step's worker answer `{ status: listed, items }` goes to `$.listed`; the Map state reads
 *    `ItemsPath: $.listed.items` and hands each item `{ item, index, run, inputs, steps }` (ItemSelector
 *    from the Map's input: a Distributed Map's child executions see only their item); with more than
 *    `distributedAbove` items (`IsPresent` on that item number) it runs as a Distributed Map.
 *  - A step a person must do waits on a task token: a manual step (the answer is its record) and a
 *    `core.manual-task` step (the answer lets its `<id>.apply` task complete it with the engine's code).
 *  - The run's end: the state an end step starts in (and `Succeeded`, after a last step without `next`)
 *    is a worker task that journals `run.ended` with the outcome; `<id>.end` then succeeds or fails.
 *    A failure no onError takes at the top (or an abort, an approval that timed out) goes to the failed
 *    state's `<state>.uncaught` task, which journals `run.ended` (failed or aborted, the CLI's error)
 *    and fails with the caught error; a redrive runs that task again and it goes back to `<state>`.
 *  - `visits.<id>.count` counts the visits of a step a loop can come back to (a Pass state `<id>` adds
 *    one with `States.MathAdd` before the step's own states), so the n-th visit gets the journal key `<id>#<n>`.
 *
 * State names: the state a step starts in is named by the step id; a step's other states add a
 * suffix after a dot (`isolate.apply`), which step ids cannot contain. Output is deterministic:
 * states are emitted in the playbook's order, keys in a fixed order.
 */
import { parseDuration } from '../core/clock.js';
import { isExpression } from '../playbook/expr.js';
import type {
  ActionStepT,
  ChoiceStepT,
  EndStepT,
  ManualStepT,
  MapStepT,
  OnErrorT,
  ParallelStepT,
  PlaybookT,
  RetryPolicyT,
  StepT,
  WaitStepT,
} from '../playbook/schema.js';
import { maxConcurrency } from './rate-budget.js';
import { LAMBDA_SERVICE_ERRORS, TASK_ERRORS } from './worker.js';

export type Asl = Record<string, unknown>;
type State = Record<string, unknown>;

export interface CompileOptions {
  /** The IAM actions each action id declares (for a map step's MaxConcurrency). */
  permissionsOf: (actionId: string) => readonly string[];
  /** The worker Lambda's ARN, or a `${…}` placeholder for DefinitionSubstitutions. */
  workerFunction?: string;
  /** How long a step waits for a person (`--wait-for-approval`): the token task's TimeoutSeconds. */
  approvalTimeoutSeconds?: number;
  /** Heartbeat of a waiting task; off by default because nothing heartbeats while a person decides. */
  approvalHeartbeatSeconds?: number;
  /** Steps whose approval policy the alert's route chooses at run time (`run.approval.<id>`). */
  approvalPerRun?: readonly string[];
  /** A map over more items than this runs as a Distributed Map (child executions, no history limit). */
  distributedAbove?: number;
}

export const WORKER_PLACEHOLDER = '${WorkerFunctionArn}';
export const DEFAULT_APPROVAL_TIMEOUT_SECONDS = 24 * 3600;
/**
 * An inline Map's iterations all land in the execution's history (25,000 events at most, about 7 per
 * item and map step), and run at most 40 at once; above this many items a Distributed Map is used.
 */
export const DEFAULT_DISTRIBUTED_ABOVE = 200;

/** The action whose apply always hands the work to a person (the engine's manual fallback): a token task, like a manual step. */
const MANUAL_ACTION = 'core.manual-task';
const LAMBDA_INVOKE_TOKEN = 'arn:aws:states:::lambda:invoke.waitForTaskToken';
const SUCCEEDED = 'Succeeded';
const HALTED = 'Halted';

type Scope = 'top' | 'branch';

/** A JSONPath reference to a member, in bracket notation when the name is not a plain identifier (step ids may hold `-`). */
export function member(base: string, name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? `${base}.${name}` : `${base}['${name}']`;
}

export function compileToAsl(pb: PlaybookT, opts: CompileOptions): Asl {
  const c = new Compiler(pb, opts);
  const body = c.steps(pb.steps, 'top');
  const start: State = {
    Type: 'Pass',
    Comment: 'The run state from the execution input { inputs, run }',
    Parameters: {
      'inputs.$': '$.inputs',
      'run.$': '$.run',
      steps: {},
      ...(c.looped.size > 0 ? { visits: Object.fromEntries([...c.looped].map((id) => [id, { count: 0 }])) } : {}),
    },
    Next: pb.start,
  };
  const states: Record<string, State> = { Start: start, ...c.catchAll(body) };
  if (c.needsSucceeded) Object.assign(states, c.ending(SUCCEEDED, SUCCEEDED, 'success', c.outcome('success')));
  return {
    Comment: `Firebreak playbook ${pb.id}: ${pb.title}`,
    StartAt: 'Start',
    States: ordered(states),
  };
}

/** The order a reader expects a state's fields in (Type first, transitions last); the rest keep theirs. */
const FIELD_ORDER = [
  'Type',
  'Comment',
  'Resource',
  'Parameters',
  'Result',
  'TimeoutSeconds',
  'HeartbeatSeconds',
  'Seconds',
  'SecondsPath',
  'ItemsPath',
  'ItemSelector',
  'ItemProcessor',
  'MaxConcurrency',
  'Label',
  'Branches',
  'Choices',
  'Default',
  'ResultSelector',
  'ResultPath',
  'OutputPath',
  'Retry',
  'Catch',
  'Error',
  'Cause',
  'ErrorPath',
  'CausePath',
  'Next',
  'End',
];

function ordered(states: Record<string, State>): Record<string, State> {
  const rank = (k: string) => (FIELD_ORDER.includes(k) ? FIELD_ORDER.indexOf(k) : FIELD_ORDER.length);
  const out: Record<string, State> = {};
  for (const [name, st] of Object.entries(states)) {
    const sorted: State = {};
    for (const k of Object.keys(st).sort((a, b) => rank(a) - rank(b))) sorted[k] = st[k];
    if (Array.isArray(sorted.Branches))
      sorted.Branches = (sorted.Branches as Array<{ StartAt: string; States: Record<string, State> }>).map((b) => ({
        StartAt: b.StartAt,
        States: ordered(b.States),
      }));
    const proc = sorted.ItemProcessor as { ProcessorConfig: unknown; StartAt: string; States: Record<string, State> } | undefined;
    if (proc) sorted.ItemProcessor = { ProcessorConfig: proc.ProcessorConfig, StartAt: proc.StartAt, States: ordered(proc.States) };
    out[name] = sorted;
  }
  return out;
}

/** Where a step can go next (its `next`, choices, default and onError). */
function successors(step: StepT): string[] {
  const out: string[] = [];
  if ('next' in step && step.next) out.push(step.next);
  if (step.type === 'choice') out.push(...step.choices.map((ch) => ch.next), step.default);
  const onError = 'onError' in step ? step.onError : undefined;
  if (onError) out.push(typeof onError === 'string' ? onError : onError.next);
  return out;
}

/** The steps of one scope that a loop can come back to (reachable from their own successors). */
function loopedSteps(steps: Record<string, StepT>): string[] {
  const reach = (from: string): Set<string> => {
    const seen = new Set<string>();
    const todo = [...successors(steps[from]!)];
    while (todo.length > 0) {
      const id = todo.pop()!;
      if (seen.has(id) || !steps[id]) continue;
      seen.add(id);
      todo.push(...successors(steps[id]!));
    }
    return seen;
  };
  return Object.keys(steps).filter((id) => reach(id).has(id));
}

const isComputed = (step: WaitStepT) => typeof step.duration === 'string' && isExpression(step.duration);
/** Steps that call the worker (and so need a journal key per visit). */
const callsWorker = (step: StepT) => step.type !== 'parallel' && step.type !== 'end' && !(step.type === 'wait' && !isComputed(step));

class Compiler {
  needsSucceeded = false;
  /** Steps (of any scope) whose visits are counted. */
  readonly looped = new Set<string>();
  private readonly worker: string;
  private readonly approvalTimeout: number;
  private readonly perRun: ReadonlySet<string>;
  private readonly distributedAbove: number;

  constructor(
    private readonly pb: PlaybookT,
    private readonly opts: CompileOptions,
  ) {
    this.worker = opts.workerFunction ?? WORKER_PLACEHOLDER;
    this.approvalTimeout = opts.approvalTimeoutSeconds ?? DEFAULT_APPROVAL_TIMEOUT_SECONDS;
    this.perRun = new Set(opts.approvalPerRun ?? []);
    this.distributedAbove = opts.distributedAbove ?? DEFAULT_DISTRIBUTED_ABOVE;
  }

  steps(steps: Record<string, StepT>, scope: Scope): Record<string, State> {
    const out: Record<string, State> = {};
    const looped = new Set(loopedSteps(steps).filter((id) => callsWorker(steps[id]!)));
    for (const id of looped) this.looped.add(id);
    for (const [id, step] of Object.entries(steps)) {
      if (!looped.has(id)) {
        Object.assign(out, this.step(id, id, step, scope));
        continue;
      }
      const entry = `${id}.visit`;
      out[id] = {
        Type: 'Pass',
        Comment: `Count the visits of ${id} (a loop comes back to it): each has its own journal key`,
        Parameters: { 'count.$': `States.MathAdd(${member('$.visits', id)}.count, 1)` },
        ResultPath: member('$.visits', id),
        Next: entry,
      };
      Object.assign(out, this.step(id, entry, step, scope));
    }
    // A halt taken out of an onError path fails the execution (or the branch, and so the execution) with its error.
    const halts = Object.values(out).some((st) =>
      ((st.Catch as Array<{ Next?: string }> | undefined) ?? []).some((c) => c.Next === HALTED),
    );
    if (halts) out[HALTED] = { Type: 'Fail', ErrorPath: '$.caught.Error', CausePath: '$.caught.Cause' };
    return out;
  }

  /** The states of one step; `entry` is the name of its first state. */
  private step(id: string, entry: string, step: StepT, scope: Scope): Record<string, State> {
    switch (step.type) {
      case 'choice':
        return this.choice(id, entry, step);
      case 'wait':
        return this.wait(id, entry, step, scope);
      case 'end':
        return this.end(id, entry, step, scope);
      case 'parallel':
        return this.parallel(id, entry, step, scope);
      case 'manual':
        return this.manual(id, entry, step, scope);
      case 'map':
        return this.map(id, entry, step, scope);
      default:
        return step.action === MANUAL_ACTION ? this.manualAction(id, entry, step, scope) : this.action(id, entry, step, scope);
    }
  }

  // ── transitions and records ──

  private next(next: string | undefined, scope: Scope): Record<string, unknown> {
    if (next) return { Next: next };
    if (scope === 'branch') return { End: true };
    this.needsSucceeded = true;
    return { Next: SUCCEEDED };
  }

  private stepPath(id: string): string {
    return member('$.steps', id);
  }

  /** The end of a run: its outcome and every step's record. */
  outcome(outcome: string): State {
    return { Type: 'Pass', Parameters: { outcome, 'steps.$': '$.steps' }, End: true };
  }

  /** What the worker gets: the phase and step, the run's data, the visit of a looped step, and a token when it waits. */
  private payload(phase: string, id: string, token: boolean): Record<string, unknown> {
    return {
      phase,
      stepId: id,
      'run.$': '$.run',
      'inputs.$': '$.inputs',
      'steps.$': '$.steps',
      ...(this.looped.has(id) ? { 'visit.$': `${member('$.visits', id)}.count` } : {}),
      ...(token ? { 'taskToken.$': '$$.Task.Token' } : {}),
    };
  }

  /**
   * A worker task. Without a token the Lambda is the Resource itself, so its answer is the task's
   * result as it is (the `lambda:invoke` integration would wrap it in `{ Payload, StatusCode, … }`);
   * with a token the integration is needed, and the result is what `firebreak approve` sends.
   */
  private task(phase: string, id: string, token: boolean): State {
    if (!token) return { Type: 'Task', Resource: this.worker, Parameters: this.payload(phase, id, false) };
    return {
      Type: 'Task',
      Resource: LAMBDA_INVOKE_TOKEN,
      Parameters: { FunctionName: this.worker, Payload: this.payload(phase, id, true) },
      TimeoutSeconds: this.approvalTimeout,
      ...(this.opts.approvalHeartbeatSeconds ? { HeartbeatSeconds: this.opts.approvalHeartbeatSeconds } : {}),
    };
  }

  private retry(policy: RetryPolicyT | undefined): { Retry: unknown[] } {
    const list: unknown[] = [
      { ErrorEquals: LAMBDA_SERVICE_ERRORS, IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2, JitterStrategy: 'FULL' },
    ];
    // The playbook counts attempts (the first one included); Step Functions counts retries.
    if (policy && policy.attempts > 1) {
      list.push({
        ErrorEquals: policy.codes ?? [TASK_ERRORS.transient],
        IntervalSeconds: Math.max(1, Math.ceil(parseDuration(policy.backoff) / 1000)),
        MaxAttempts: policy.attempts - 1,
        BackoffRate: policy.factor,
        MaxDelaySeconds: Math.max(1, Math.ceil(parseDuration(policy.maxDelay) / 1000)),
      });
    }
    return { Retry: list };
  }

  /**
   * Catchers for a step's `onError` (and, for a token task, the approver's denial), with the Pass
   * states that turn the caught error into the step's record.
   */
  private catchers(
    id: string,
    onError: OnErrorT | undefined,
    scope: Scope,
    denied?: { next: string | undefined; status: 'denied' | 'skipped' },
  ): { catch: { Catch?: unknown[] }; states: Record<string, State> } {
    const list: unknown[] = [];
    const states: Record<string, State> = {};
    if (denied) {
      list.push({ ErrorEquals: [TASK_ERRORS.denied], ResultPath: '$.caught', Next: `${id}.${denied.status}` });
      states[`${id}.${denied.status}`] = {
        Type: 'Pass',
        Result: { status: denied.status },
        ResultPath: this.stepPath(id),
        ...this.next(denied.next, scope),
      };
    }
    if (onError !== undefined) {
      const target = typeof onError === 'string' ? onError : onError.next;
      const codes = typeof onError === 'string' ? undefined : onError.codes;
      // Like the engine, an onError without codes takes every failure except the run's own halts
      // (an abort, an approval that timed out): those fail the execution, which can be redriven.
      if (!codes) list.push({ ErrorEquals: [TASK_ERRORS.aborted, 'States.Timeout'], ResultPath: '$.caught', Next: HALTED });
      list.push({ ErrorEquals: codes ?? ['States.ALL'], ResultPath: '$.caught', Next: `${id}.failed` });
      states[`${id}.failed`] = {
        Type: 'Pass',
        Parameters: { status: 'failed', error: { 'code.$': '$.caught.Error', 'message.$': '$.caught.Cause' } },
        ResultPath: this.stepPath(id),
        Next: target,
      };
    }
    return { catch: list.length > 0 ? { Catch: list } : {}, states };
  }

  // ── step kinds ──

  private action(id: string, entry: string, step: ActionStepT, scope: Scope): Record<string, State> {
    const gated = this.policy(id, step.approval);
    const failed = this.catchers(id, step.onError, scope);
    const denied = this.catchers(id, step.onError, scope, { next: step.next, status: 'denied' });
    const done = (phase: string, extra: State = {}): State => ({
      ...this.task(phase, id, false),
      ...extra,
      ResultPath: this.stepPath(id),
      ...this.retry(step.retry),
      ...failed.catch,
      ...this.next(step.next, scope),
    });
    const plan = (): State => ({
      ...this.task('plan', id, true),
      Comment: `Plan ${id} and wait for firebreak approve (task token)`,
      ResultPath: null,
      ...this.retry(step.retry),
      ...denied.catch,
      Next: `${id}.apply`,
    });
    if (gated === 'auto') return { [entry]: done('run', { Comment: step.title ?? step.action }), ...failed.states };
    if (gated === 'required') return { [entry]: plan(), [`${id}.apply`]: done('apply'), ...denied.states };
    return {
      [entry]: this.policyChoice(id, `${id}.run`, `${id}.plan`),
      [`${id}.run`]: done('run'),
      [`${id}.plan`]: plan(),
      [`${id}.apply`]: done('apply'),
      ...denied.states,
    };
  }

  /**
   * A `core.manual-task` step: the worker runs it until the action hands the work to a person (the
   * engine journals `manual.requested`), keeps the token and waits; `firebreak approve` journals the
   * answer and sends the token; then `apply` runs the step again, which replays the answer from the
   * journal and completes the step as the engine does in the CLI. A skip is recorded by `firebreak approve`.
   */
  private manualAction(id: string, entry: string, step: ActionStepT, scope: Scope): Record<string, State> {
    const failed = this.catchers(id, step.onError, scope);
    const skipped = this.catchers(id, step.onError, scope, { next: step.next, status: 'skipped' });
    return {
      [entry]: {
        ...this.task('manual', id, true),
        Comment: `Manual task: ${step.title ?? step.action} (waits for firebreak approve, task token)`,
        ResultPath: null,
        ...this.retry(step.retry),
        ...skipped.catch,
        Next: `${id}.apply`,
      },
      [`${id}.apply`]: {
        ...this.task('apply', id, false),
        ResultPath: this.stepPath(id),
        ...this.retry(step.retry),
        ...failed.catch,
        ...this.next(step.next, scope),
      },
      ...skipped.states,
    };
  }

  /** `auto`, `required`, or `per-run` when the alert's route chooses. */
  private policy(id: string, policy: 'auto' | 'required'): 'auto' | 'required' | 'per-run' {
    return this.perRun.has(id) ? 'per-run' : policy;
  }

  /** The route's choice of policy: `auto` runs unattended; anything else, or nothing, waits for a person. */
  private policyChoice(id: string, auto: string, gated: string): State {
    const v = member('$.run.approval', id);
    return {
      Type: 'Choice',
      Comment: `The route chooses ${id}'s approval policy`,
      Choices: [
        {
          And: [
            { Variable: v, IsPresent: true },
            { Variable: v, StringEquals: 'auto' },
          ],
          Next: auto,
        },
      ],
      Default: gated,
    };
  }

  private manual(id: string, entry: string, step: ManualStepT, scope: Scope): Record<string, State> {
    const skipped = this.catchers(id, undefined, scope, { next: step.next, status: 'skipped' });
    return {
      [entry]: {
        ...this.task('manual', id, true),
        Comment: `Manual task: ${step.title}`,
        // The answer is the step's record ({ status: manual, output: { by, note } }), sent by firebreak approve.
        ResultPath: this.stepPath(id),
        ...this.retry(undefined),
        ...skipped.catch,
        ...this.next(step.next, scope),
      },
      ...skipped.states,
    };
  }

  /** The worker evaluates the conditions (`choose`); the Choice state only follows its answer. */
  private choice(id: string, entry: string, step: ChoiceStepT): Record<string, State> {
    const targets = [...new Set([...step.choices.map((ch) => ch.next), step.default])];
    return {
      [entry]: {
        ...this.task('choose', id, false),
        Comment: step.title ?? `Choose after ${id}`,
        ResultPath: '$.choice',
        ...this.retry(undefined),
        Next: `${id}.next`,
      },
      // No Default: an answer that names no target of this step breaks the contract and fails the run (States.NoChoiceMatched).
      [`${id}.next`]: {
        Type: 'Choice',
        Choices: targets.map((t) => ({ Variable: '$.choice.next', StringEquals: t, Next: t })),
      },
    };
  }

  private wait(id: string, entry: string, step: WaitStepT, scope: Scope): Record<string, State> {
    const comment = step.title ? { Comment: step.title } : {};
    if (!isComputed(step)) {
      const seconds = Math.max(1, Math.ceil(parseDuration(step.duration) / 1000));
      return { [entry]: { Type: 'Wait', ...comment, Seconds: seconds, ...this.next(step.next, scope) } };
    }
    return {
      [entry]: { ...this.task('wait', id, false), ...comment, ResultPath: '$.wait', ...this.retry(undefined), Next: `${id}.wait` },
      [`${id}.wait`]: { Type: 'Wait', SecondsPath: '$.wait.seconds', ...this.next(step.next, scope) },
    };
  }

  private end(id: string, entry: string, step: EndStepT, scope: Scope): Record<string, State> {
    if (scope === 'branch') return { [entry]: { Type: 'Succeed', ...(step.description ? { Comment: step.description } : {}) } };
    const final: State =
      step.outcome === 'failure'
        ? { Type: 'Fail', Error: 'Firebreak.Failure', Cause: step.description ?? 'the playbook ended with outcome failure' }
        : { ...this.outcome(step.outcome), ...(step.description ? { Comment: step.description } : {}) };
    return this.ending(id, entry, step.outcome, final);
  }

  /**
   * The run's end: a worker task journals `run.ended` with the outcome, as the CLI does when its run
   * ends, then the execution succeeds or fails. `stepId` is the end step (or `Succeeded`, when the
   * run ends after a step without `next`).
   */
  ending(stepId: string, entry: string, outcome: string, final: State): Record<string, State> {
    return {
      [entry]: {
        Type: 'Task',
        Comment: `Journal the run's end (${outcome})`,
        Resource: this.worker,
        Parameters: { ...this.payload('end', stepId, false), outcome },
        ResultPath: null,
        ...this.retry(undefined),
        Next: `${entry}.end`,
      },
      [`${entry}.end`]: final,
    };
  }

  /**
   * A run that fails with no end step reached (a failure no onError takes, an abort, an approval that
   * timed out) still ends as in the CLI: every top-level state that can fail hands its error to its own
   * `<state>.uncaught` task, which journals `run.ended` and fails with the same error — so that task is
   * where the execution failed. Redriven (`firebreak resume`), it runs again, finds the redrive in the
   * journal, journals `run.resumed` and goes back to the state that failed, which runs again. A halt
   * (`Halted`) goes there too at the top; inside a branch it fails the branch, and so the Parallel state.
   */
  catchAll(states: Record<string, State>): Record<string, State> {
    const out: Record<string, State> = {};
    for (const [name, st] of Object.entries(states)) {
      if (name === HALTED) continue;
      // The end tasks are the run's end already: a failure of theirs fails the execution, and a redrive runs them again.
      const isEnd = (st.Parameters as { phase?: string } | undefined)?.phase === 'end';
      const canFail = !isEnd && (st.Type === 'Task' || st.Type === 'Map' || st.Type === 'Parallel');
      if (!canFail) {
        out[name] = st;
        continue;
      }
      const uncaught = `${name}.uncaught`;
      const list = ((st.Catch as Array<{ ErrorEquals: string[]; Next: string }> | undefined) ?? []).map((c) =>
        c.Next === HALTED ? { ...c, Next: uncaught } : c,
      );
      if (!list.some((c) => c.ErrorEquals.includes('States.ALL')))
        list.push({ ErrorEquals: ['States.ALL'], ResultPath: '$.caught', Next: uncaught } as (typeof list)[number]);
      out[name] = { ...st, Catch: list };
      if (!list.some((c) => c.Next === uncaught)) continue;
      out[uncaught] = {
        Type: 'Task',
        Comment: `Journal the run's end (failed or aborted) with ${name}'s error and fail with it; redriven, run ${name} again`,
        Resource: this.worker,
        Parameters: { ...this.payload('end', name.split('.')[0]!, false), 'error.$': '$.caught' },
        ResultPath: null,
        ...this.retry(undefined),
        Next: name,
      };
    }
    return out;
  }

  private parallel(id: string, entry: string, step: ParallelStepT, scope: Scope): Record<string, State> {
    if (scope === 'branch')
      throw new Error(`failed to compile ${this.pb.id}: parallel step ${id} inside a parallel branch is not supported`);
    const failed = this.catchers(id, step.onError, scope);
    const merge = (field: string) =>
      step.branches.slice(1).reduce((acc, _, i) => `States.JsonMerge(${acc}, $[${i + 1}].${field}, false)`, `$[0].${field}`);
    const parallel: State = {
      Type: 'Parallel',
      ...(step.title ? { Comment: step.title } : {}),
      Branches: step.branches.map((b) => ({ StartAt: b.start, States: this.steps(b.steps, 'branch') })),
      // Every branch ends with the whole state; each wrote only its own steps' records (and visits).
      ResultSelector: {
        'inputs.$': '$[0].inputs',
        'run.$': '$[0].run',
        'steps.$': merge('steps'),
        ...(this.looped.size > 0 ? { 'visits.$': merge('visits') } : {}),
      },
      ...failed.catch,
      ...this.next(step.next, scope),
    };
    return { [entry]: parallel, ...failed.states };
  }

  private map(id: string, entry: string, step: MapStepT, scope: Scope): Record<string, State> {
    if (scope === 'branch') throw new Error(`failed to compile ${this.pb.id}: map step ${id} inside a parallel branch is not supported`);
    const gated = this.policy(id, step.approval);
    const concurrency = maxConcurrency(step.concurrency, this.opts.permissionsOf(step.action));
    const failed = this.catchers(id, step.onError, scope);
    const denied = this.catchers(id, step.onError, scope, { next: step.next, status: 'denied' });
    // A failure no onError takes: the engine journals the map step's step.failed before the run fails (`fail`).
    const takesAll = step.onError !== undefined && (typeof step.onError === 'string' || step.onError.codes === undefined);
    const mapCatch = takesAll
      ? failed.catch
      : {
          Catch: [
            ...((failed.catch.Catch as unknown[] | undefined) ?? []),
            { ErrorEquals: ['States.ALL'], ResultPath: '$.caught', Next: `${id}.unhandled` },
          ],
        };
    const unhandled: Record<string, State> = takesAll
      ? {}
      : {
          [`${id}.unhandled`]: {
            Type: 'Task',
            Comment: `Journal ${id}'s failure and fail with its error; redriven, run its unfinished items and go on`,
            Resource: this.worker,
            Parameters: { ...this.payload('fail', id, false), 'count.$': 'States.ArrayLength($.listed.items)', 'error.$': '$.caught' },
            ResultPath: this.stepPath(id),
            ...this.retry(undefined),
            ...this.next(step.next, scope),
          },
        };
    const mapState = (name: string, mode: 'INLINE' | 'DISTRIBUTED'): State => ({
      Type: 'Map',
      Comment: `${step.title ?? step.action} (${mode.toLowerCase()}, at most ${concurrency} at once)`,
      ItemsPath: '$.listed.items',
      ItemSelector: {
        'item.$': '$$.Map.Item.Value',
        'index.$': '$$.Map.Item.Index',
        'run.$': '$.run',
        'inputs.$': '$.inputs',
        'steps.$': '$.steps',
      },
      ItemProcessor: {
        ProcessorConfig: mode === 'INLINE' ? { Mode: 'INLINE' } : { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
        StartAt: `${name}.item`,
        States: {
          [`${name}.item`]: {
            Type: 'Task',
            Resource: this.worker,
            Parameters: { ...this.payload('item', id, false), 'item.$': '$.item', 'index.$': '$.index' },
            // An item's outcome is its output: the step's record keeps the outputs in item order, as the engine does.
            OutputPath: '$.output',
            ...this.retry(step.retry),
            End: true,
          },
        },
      },
      MaxConcurrency: concurrency,
      ...(mode === 'DISTRIBUTED' ? { Label: id.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 40) } : {}),
      ResultSelector: { status: 'applied', 'output.$': '$' },
      ResultPath: this.stepPath(id),
      ...mapCatch,
      ...this.next(step.next, scope),
    });
    const sized = (prefix: string): Record<string, State> => ({
      [prefix]: {
        Type: 'Choice',
        Comment: `More than ${this.distributedAbove} items run as a Distributed Map`,
        Choices: [{ Variable: `$.listed.items[${this.distributedAbove}]`, IsPresent: true, Next: `${prefix}.distributed` }],
        Default: `${prefix}.inline`,
      },
      [`${prefix}.inline`]: mapState(`${prefix}.inline`, 'INLINE'),
      [`${prefix}.distributed`]: mapState(`${prefix}.distributed`, 'DISTRIBUTED'),
    });
    const plan: State = {
      ...this.task('plan', id, true),
      Comment: `Plan every item of ${id} and wait for firebreak approve (task token)`,
      ResultPath: null,
      ...this.retry(step.retry),
      ...denied.catch,
      Next: `${id}.apply`,
    };
    const afterListing = gated === 'auto' ? `${id}.run` : gated === 'required' ? `${id}.plan` : `${id}.policy`;
    const states: Record<string, State> = {
      [entry]: {
        ...this.task('items', id, false),
        Comment: `List the items of ${id} (its items expression, evaluated by the worker)`,
        ResultPath: '$.listed',
        ...this.retry(step.retry),
        ...failed.catch,
        Next: afterListing,
      },
      ...failed.states,
      ...unhandled,
    };
    if (gated === 'auto') return { ...states, ...sized(`${id}.run`) };
    if (gated === 'required') return { ...states, [`${id}.plan`]: plan, ...sized(`${id}.apply`), ...denied.states };
    return {
      ...states,
      [`${id}.policy`]: this.policyChoice(id, `${id}.run`, `${id}.plan`),
      ...sized(`${id}.run`),
      [`${id}.plan`]: plan,
      ...sized(`${id}.apply`),
      ...denied.states,
    };
  }
}

/** Every state of a definition, branches and map processors included (name → state). */
export function allStates(asl: Asl): Array<[string, State]> {
  const out: Array<[string, State]> = [];
  const walk = (states: Record<string, State>) => {
    for (const [name, st] of Object.entries(states)) {
      out.push([name, st]);
      for (const b of (st.Branches as Array<{ States: Record<string, State> }> | undefined) ?? []) walk(b.States);
      const proc = st.ItemProcessor as { States: Record<string, State> } | undefined;
      if (proc) walk(proc.States);
    }
  };
  walk(asl.States as Record<string, State>);
  return out;
}
