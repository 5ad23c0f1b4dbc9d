/**
 * Playbook → Amazon States Language (JSONata query language). Control flow belongs to Step Functions;
 * the work of a step (plan, approval, apply, verify, journal) stays in Firebreak's engine, run by the
 * worker Lambda one task per step phase (see worker.ts for the payload and the error names).
 *
 * How playbook expressions map (they are JSONata in `{% … %}`, Step Functions' own syntax, so they are
 * copied verbatim, never rewritten):
 *  - `$inputs`, `$run` are workflow variables assigned once by the first state (`Start`) from the
 *    execution input `{ inputs, run }`.
 *  - `$steps` is a workflow variable: every top-level step's state assigns
 *    `steps := $merge([$steps, { "<id>": { status, output | error } }])` from the worker's result
 *    (`$states.result.Payload`) or, in a Catch, from `$states.errorOutput`.
 *  - Inside a parallel branch a state may read the outer variables but not assign them, so a branch
 *    carries its own step records in its state input/output (`$states.input`); its expressions are
 *    wrapped as `($steps := $merge([$steps, $states.input]); <expression>)`, and the Parallel state
 *    merges every branch's records into `$steps` when all are done.
 *  - In a map step the worker gets `item` and `index` from the Map's ItemSelector
 *    (`$states.context.Map.Item.Value` / `.Index`) with `inputs`, `steps` and `run`: a Distributed Map's
 *    child executions cannot read the parent's variables, so everything travels in the item.
 *  - `visits` counts the visits of each step, so a loop's n-th visit has the journal key `<id>#<n>`.
 *  - `with` and `when` are evaluated by the worker (the engine's evaluator and its clock), not here:
 *    they are part of the step's work, and the worker receives `inputs` and `steps` to evaluate them.
 *
 * State names: the state a step starts in is named by the step id; a step's other states add a
 * suffix after a dot (`isolate.apply`), which step ids cannot contain. Output is deterministic:
 * states are emitted in the playbook's order, keys in a fixed order.
 */
import { parseDuration } from '../core/clock.js';
import { expressionBody, isExpression } from '../playbook/expr.js';
import type {
  ActionStepT,
  BranchT,
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
  /** What `Arguments.FunctionName` holds: an ARN, or a `${…}` placeholder for DefinitionSubstitutions. */
  workerFunction?: string;
  /** How long a step waits for a person (`--wait-for-approval`): the token task's TimeoutSeconds. */
  approvalTimeoutSeconds?: number;
  /** Heartbeat of a waiting task; off by default because nothing heartbeats while a person decides. */
  approvalHeartbeatSeconds?: number;
  /** Steps whose approval policy the alert's route chooses at run time (`$run.approval.<id>`). */
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

const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
const LAMBDA_INVOKE_TOKEN = 'arn:aws:states:::lambda:invoke.waitForTaskToken';
const SUCCEEDED = 'Succeeded';
const HALTED = 'Halted';

type Scope = 'top' | 'branch';

export function compileToAsl(pb: PlaybookT, opts: CompileOptions): Asl {
  const c = new Compiler(pb, opts);
  const states: Record<string, State> = {
    Start: {
      Type: 'Pass',
      Comment: 'Run variables from the execution input { inputs, run }',
      Assign: { inputs: '{% $states.input.inputs %}', run: '{% $states.input.run %}', steps: {}, visits: {} },
      Next: pb.start,
    },
    ...c.steps(pb.steps, 'top'),
  };
  if (c.needsSucceeded) states[SUCCEEDED] = { Type: 'Succeed', Output: { outcome: 'success', steps: '{% $steps %}' } };
  return {
    Comment: `Firebreak playbook ${pb.id}: ${pb.title}`,
    QueryLanguage: 'JSONata',
    StartAt: 'Start',
    States: ordered(states),
  };
}

/** The order a reader expects a state's fields in (Type first, transitions last); the rest keep theirs. */
const FIELD_ORDER = [
  'Type',
  'Comment',
  'Resource',
  'Arguments',
  'TimeoutSeconds',
  'HeartbeatSeconds',
  'Seconds',
  'Items',
  'ItemSelector',
  'ItemProcessor',
  'MaxConcurrency',
  'Label',
  'Branches',
  'Choices',
  'Default',
  'Retry',
  'Output',
  'Assign',
  'Catch',
  'Error',
  'Cause',
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

class Compiler {
  needsSucceeded = false;
  private branchDone = new Set<string>();
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
    const outer = this.branchDone;
    this.branchDone = new Set();
    for (const [id, step] of Object.entries(steps)) Object.assign(out, this.step(id, step, scope));
    for (const id of this.branchDone) out[`${id}.done`] = { Type: 'Succeed' };
    this.branchDone = outer;
    // A halt taken out of an onError path fails the execution here, with the error it had.
    const halts = Object.values(out).some((st) =>
      ((st.Catch as Array<{ Next?: string }> | undefined) ?? []).some((c) => c.Next === HALTED),
    );
    if (halts) out[HALTED] = { Type: 'Fail', Error: '{% $states.input.Error %}', Cause: '{% $states.input.Cause %}' };
    return out;
  }

  private step(id: string, step: StepT, scope: Scope): Record<string, State> {
    switch (step.type) {
      case 'choice':
        return { [id]: this.choice(step, scope) };
      case 'wait':
        return { [id]: this.wait(step, scope) };
      case 'end':
        return { [id]: this.end(step, scope) };
      case 'parallel':
        return { [id]: this.parallel(id, step, scope) };
      case 'manual':
        return this.manual(id, step, scope);
      case 'map':
        return this.map(id, step, scope);
      default:
        return this.action(id, step, scope);
    }
  }

  // ── transitions ──

  private next(next: string | undefined, scope: Scope): Record<string, unknown> {
    if (next) return { Next: next };
    if (scope === 'branch') return { End: true };
    this.needsSucceeded = true;
    return { Next: SUCCEEDED };
  }

  /**
   * Where a catcher goes when the step has no `next`: a Catch needs a `Next`, so a branch gets a
   * Succeed state of its own (`<id>.done`) to end on.
   */
  private catchNext(id: string, next: string | undefined, scope: Scope): { Next: string } {
    if (next) return { Next: next };
    if (scope === 'top') {
      this.needsSucceeded = true;
      return { Next: SUCCEEDED };
    }
    this.branchDone.add(id);
    return { Next: `${id}.done` };
  }

  /** The expression of `$steps` as seen from a scope (see the header). */
  private stepsExpr(scope: Scope): string {
    return scope === 'top' ? '$steps' : '$merge([$steps, $states.input])';
  }

  /** A playbook expression, verbatim, bound to the scope's `$steps`. */
  private expr(text: string, scope: Scope): string {
    const body = (isExpression(text) ? expressionBody(text)! : text).trim();
    return scope === 'top' ? `{% ${body} %}` : `{% ($steps := ${this.stepsExpr(scope)}; ${body}) %}`;
  }

  /** Record a step's result: a variable at the top, the state output in a branch. */
  private record(id: string, rec: string, scope: Scope): Record<string, unknown> {
    const entry = `{${JSON.stringify(id)}: ${rec}}`;
    if (scope === 'branch') return { Output: `{% $merge([$states.input, ${entry}]) %}` };
    const visits = `$merge([$visits, {${JSON.stringify(id)}: ${this.visitCount(id)}}])`;
    return { Assign: { steps: `{% $merge([$steps, ${entry}]) %}`, visits: `{% ${visits} %}` } };
  }

  private visitCount(id: string): string {
    const seen = `$lookup($visits, ${JSON.stringify(id)})`;
    return `($exists(${seen}) ? ${seen} + 1 : 1)`;
  }

  private stepKey(id: string, scope: Scope): string {
    if (scope === 'branch') return id;
    return `{% ($n := ${this.visitCount(id)}; $n = 1 ? ${JSON.stringify(id)} : ${JSON.stringify(id + '#')} & $string($n)) %}`;
  }

  private payload(phase: string, id: string, scope: Scope, token: boolean): Record<string, unknown> {
    return {
      phase,
      run: '{% $run %}',
      stepId: id,
      stepKey: this.stepKey(id, scope),
      inputs: '{% $inputs %}',
      steps: `{% ${this.stepsExpr(scope)} %}`,
      ...(token ? { taskToken: '{% $states.context.Task.Token %}' } : {}),
    };
  }

  private task(payload: Record<string, unknown>, token: boolean): State {
    return {
      Type: 'Task',
      Resource: token ? LAMBDA_INVOKE_TOKEN : LAMBDA_INVOKE,
      Arguments: { FunctionName: this.worker, Payload: payload },
      ...(token
        ? {
            TimeoutSeconds: this.approvalTimeout,
            ...(this.opts.approvalHeartbeatSeconds ? { HeartbeatSeconds: this.opts.approvalHeartbeatSeconds } : {}),
          }
        : {}),
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

  /** Catchers for a step's `onError`; `denied` adds the approver's denial (a token task). */
  private catchers(id: string, onError: OnErrorT | undefined, scope: Scope, denied?: { next: string | undefined }): { Catch?: unknown[] } {
    const list: unknown[] = [];
    const failedRec = `{"status": "failed", "error": {"code": $states.errorOutput.Error, "message": $states.errorOutput.Cause}}`;
    if (denied)
      list.push({
        ErrorEquals: [TASK_ERRORS.denied],
        ...this.record(id, '{"status": "denied"}', scope),
        ...this.catchNext(id, denied.next, scope),
      });
    if (onError !== undefined) {
      const target = typeof onError === 'string' ? onError : onError.next;
      const codes = typeof onError === 'string' ? undefined : onError.codes;
      // Like the engine, an onError without codes takes every failure except the run's own halts
      // (an abort, an approval that timed out): those fail the execution, which can be redriven.
      if (!codes) list.push({ ErrorEquals: [TASK_ERRORS.aborted, 'States.Timeout'], Output: '{% $states.errorOutput %}', Next: HALTED });
      list.push({ ErrorEquals: codes ?? ['States.ALL'], ...this.record(id, failedRec, scope), Next: target });
    }
    return list.length > 0 ? { Catch: list } : {};
  }

  // ── step kinds ──

  private action(id: string, step: ActionStepT, scope: Scope): Record<string, State> {
    const gated = this.policy(id, step.approval);
    const done = (phase: string, token: boolean, extra: State = {}): State => ({
      ...this.task(this.payload(phase, id, scope, token), token),
      ...extra,
      ...this.retry(step.retry),
      ...this.record(id, '{"status": $states.result.Payload.status, "output": $states.result.Payload.output}', scope),
      ...this.catchers(id, step.onError, scope),
      ...this.next(step.next, scope),
    });
    const plan = (): State => ({
      ...this.task(this.payload('plan', id, scope, true), true),
      Comment: `Plan ${id} and wait for firebreak approve (task token)`,
      ...this.retry(step.retry),
      ...this.catchers(id, step.onError, scope, { next: step.next }),
      Next: `${id}.apply`,
    });
    if (gated === 'auto') return { [id]: done('run', false, { Comment: step.title ?? step.action }) };
    if (gated === 'required') return { [id]: plan(), [`${id}.apply`]: done('apply', false) };
    return {
      [id]: this.policyChoice(id),
      [`${id}.run`]: done('run', false),
      [`${id}.plan`]: plan(),
      [`${id}.apply`]: done('apply', false),
    };
  }

  /** `auto`, `required`, or `per-run` when the alert's route chooses. */
  private policy(id: string, policy: 'auto' | 'required'): 'auto' | 'required' | 'per-run' {
    return this.perRun.has(id) ? 'per-run' : policy;
  }

  private policyChoice(id: string): State {
    return {
      Type: 'Choice',
      Comment: `The route chooses ${id}'s approval policy`,
      Choices: [{ Condition: `{% $lookup($run.approval, ${JSON.stringify(id)}) = "auto" %}`, Next: `${id}.run` }],
      Default: `${id}.plan`,
    };
  }

  private manual(id: string, step: ManualStepT, scope: Scope): Record<string, State> {
    return {
      [id]: {
        ...this.task(this.payload('manual', id, scope, true), true),
        Comment: `Manual task: ${step.title}`,
        ...this.retry(undefined),
        ...this.record(id, '{"status": $states.result.status ? $states.result.status : "manual", "output": $states.result.output}', scope),
        Catch: [
          {
            ErrorEquals: [TASK_ERRORS.denied],
            ...this.record(id, '{"status": "skipped"}', scope),
            ...this.catchNext(id, step.next, scope),
          },
        ],
        ...this.next(step.next, scope),
      },
    };
  }

  private choice(step: ChoiceStepT, scope: Scope): State {
    return {
      Type: 'Choice',
      ...(step.title ? { Comment: step.title } : {}),
      Choices: step.choices.map((ch) => ({ Condition: this.expr(ch.when, scope), Next: ch.next })),
      Default: step.default,
    };
  }

  private wait(step: WaitStepT, scope: Scope): State {
    const d = step.duration;
    const seconds = typeof d === 'string' && isExpression(d) ? this.expr(d, scope) : Math.max(1, Math.ceil(parseDuration(d) / 1000));
    return { Type: 'Wait', ...(step.title ? { Comment: step.title } : {}), Seconds: seconds, ...this.next(step.next, scope) };
  }

  private end(step: EndStepT, scope: Scope): State {
    if (scope === 'branch') return { Type: 'Succeed', ...(step.description ? { Comment: step.description } : {}) };
    if (step.outcome === 'failure')
      return { Type: 'Fail', Error: 'Firebreak.Failure', Cause: step.description ?? 'the playbook ended with outcome failure' };
    return { Type: 'Succeed', Output: { outcome: step.outcome, steps: '{% $steps %}' } };
  }

  private parallel(id: string, step: ParallelStepT, scope: Scope): State {
    const rec = scope === 'top' ? '$merge([$steps] ~> $append($states.result))' : '$merge([$states.input] ~> $append($states.result))';
    const merged = scope === 'top' ? { Assign: { steps: `{% ${rec} %}` } } : { Output: `{% ${rec} %}` };
    if (scope === 'branch')
      throw new Error(`failed to compile ${this.pb.id}: parallel step ${id} inside a parallel branch is not supported`);
    return {
      Type: 'Parallel',
      ...(step.title ? { Comment: step.title } : {}),
      Arguments: {},
      Branches: step.branches.map((b: BranchT) => ({ StartAt: b.start, States: this.steps(b.steps, 'branch') })),
      ...merged,
      ...this.catchers(id, step.onError, scope),
      ...this.next(step.next, scope),
    };
  }

  private map(id: string, step: MapStepT, scope: Scope): Record<string, State> {
    if (scope === 'branch') throw new Error(`failed to compile ${this.pb.id}: map step ${id} inside a parallel branch is not supported`);
    const gated = this.policy(id, step.approval);
    const items = this.expr(step.items, scope);
    const concurrency = maxConcurrency(step.concurrency, this.opts.permissionsOf(step.action));
    const mapState = (name: string, mode: 'INLINE' | 'DISTRIBUTED', phase: string): State => ({
      Type: 'Map',
      Comment: `${step.title ?? step.action} (${mode.toLowerCase()}, at most ${concurrency} at once)`,
      Items: items,
      ItemSelector: {
        item: '{% $states.context.Map.Item.Value %}',
        index: '{% $states.context.Map.Item.Index %}',
        run: '{% $run %}',
        inputs: '{% $inputs %}',
        steps: '{% $steps %}',
      },
      ItemProcessor: {
        ProcessorConfig: mode === 'INLINE' ? { Mode: 'INLINE' } : { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
        StartAt: `${name}.item`,
        States: {
          [`${name}.item`]: {
            ...this.task(
              {
                phase,
                run: '{% $states.input.run %}',
                stepId: id,
                stepKey: `{% ${JSON.stringify(id + '[')} & $string($states.input.index) & "]" %}`,
                inputs: '{% $states.input.inputs %}',
                steps: '{% $states.input.steps %}',
                item: '{% $states.input.item %}',
                index: '{% $states.input.index %}',
              },
              false,
            ),
            ...this.retry(step.retry),
            Output: '{% $states.result.Payload %}',
            End: true,
          },
        },
      },
      MaxConcurrency: concurrency,
      ...(mode === 'DISTRIBUTED' ? { Label: id.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 40) } : {}),
      ...this.record(id, '{"status": "applied", "output": [$states.result.output]}', scope),
      ...this.catchers(id, step.onError, scope),
      ...this.next(step.next, scope),
    });
    const sized = (phase: string, prefix: string): Record<string, State> => ({
      [prefix]: {
        Type: 'Choice',
        Comment: `More than ${this.distributedAbove} items run as a Distributed Map`,
        Choices: [
          { Condition: `{% $count(${expressionBody(items)!.trim()}) > ${this.distributedAbove} %}`, Next: `${prefix}.distributed` },
        ],
        Default: `${prefix}.inline`,
      },
      [`${prefix}.inline`]: mapState(`${prefix}.inline`, 'INLINE', phase),
      [`${prefix}.distributed`]: mapState(`${prefix}.distributed`, 'DISTRIBUTED', phase),
    });
    const plan: State = {
      ...this.task(this.payload('plan', id, scope, true), true),
      Comment: `Plan every item of ${id} and wait for firebreak approve (task token)`,
      ...this.retry(step.retry),
      ...this.catchers(id, step.onError, scope, { next: step.next }),
      Next: `${id}.apply`,
    };
    if (gated === 'auto') return sized('item', id);
    if (gated === 'required') return { [id]: plan, ...sized('item', `${id}.apply`) };
    return { [id]: this.policyChoice(id), ...sized('item', `${id}.run`), [`${id}.plan`]: plan, ...sized('item', `${id}.apply`) };
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
