/**
 * The worker Lambda's contract: what a Task state of a compiled playbook sends it (the payload the
 * compiler writes into `Arguments.Payload`) and what it answers.
 *
 * One invocation does one phase of one step with Firebreak's own engine code, journaled to the run
 * store: `run` (plan → policy → apply → verify of an unattended step), `plan` (plan, journal
 * `approval.requested`, keep the task token with the waiting step, notify; Step Functions then waits
 * until `firebreak approve` answers the token), `apply` (apply → verify after the approval),
 * `item` (one item of a map step: the whole lifecycle, or apply → verify when the step was approved
 * as a whole), `manual` (record a person's task, keep the token: a manual step, or an action step whose
 * action hands the work to a person — `core.manual-task` — whose `apply` then completes it), `end`
 * (journal `run.ended` with the outcome, before the execution's Succeed or Fail), `fail` (a map step
 * whose Map state failed with no onError to take: journal its `step.failed` and fail again with the
 * same error; invoked again by a redrive, run the map's unfinished items, as `firebreak resume` does).
 *
 * Every playbook expression is evaluated here, never by Step Functions (one evaluator, the engine's,
 * with its limits): `choose` decides a choice step (`next`), `items` evaluates a map step's `items`, `wait` evaluates a wait step's duration (`seconds`). The definition only compares the
 * worker's answers (see compile.ts).
 *
 * Failure is an error, not a result: Step Functions' Retry and Catch match on the error *name*, which
 * for a Lambda function is the `errorType` it threw. So the handler throws `StepFailed` named by the
 * error's AWS or Firebreak code (`GroupAtMinimumSize`, `AccessDenied`), or `Firebreak.Transient` for an
 * error the engine judges worth retrying (throttling, 5xx, timeouts) — the name the compiled `Retry`
 * lists. An approver's answer is `SendTaskSuccess` (approve) or `SendTaskFailure` with one of
 * `TASK_ERRORS.denied` / `TASK_ERRORS.aborted`.
 */
import * as z from 'zod';

export const TASK_ERRORS = {
  /** An error the engine would retry (throttling, 5xx, network): what a step's `retry` without codes retries. */
  transient: 'Firebreak.Transient',
  /** `firebreak approve RUN STEP --deny`: the step is recorded as denied and the run goes on. */
  denied: 'Firebreak.Denied',
  /** `firebreak approve RUN STEP --abort`: the run stops; nothing catches it. */
  aborted: 'Firebreak.Aborted',
} as const;

/** Errors of the Lambda service itself, retried on every task as AWS recommends for `lambda:invoke`. */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];

export const WorkerPhase = z.enum(['run', 'plan', 'apply', 'item', 'manual', 'choose', 'items', 'wait', 'end', 'fail']);

/** What the run carries from start to end (the `run` variable of the state machine). */
export const RunContext = z.looseObject({
  id: z.string().min(1),
  incident: z.string().min(1),
  playbook: z.string().min(1),
  /** Per-step approval policy chosen by the alert's route (steps compiled with a policy per run). */
  approval: z.record(z.string(), z.enum(['auto', 'required'])).default({}),
});

/** A step's record as the engine keeps it and `$steps.<id>` expressions read it. */
export const StepRecord = z.looseObject({
  status: z.string(),
  output: z.unknown().optional(),
  error: z.object({ code: z.string(), message: z.string().optional() }).optional(),
});

/** What a Task state sends (its `Parameters`, or `Parameters.Payload` of a token task). */
export const WorkerPayload = z.strictObject({
  phase: WorkerPhase,
  run: RunContext,
  /** The step's id in the playbook. */
  stepId: z.string().min(1),
  /** Which visit of the step this is, for a step a loop can come back to (counted by the definition); 1 when absent. */
  visit: z.number().int().min(1).optional(),
  inputs: z.record(z.string(), z.unknown()),
  steps: z.record(z.string(), StepRecord),
  /** Map items only. */
  item: z.unknown().optional(),
  index: z.number().int().nonnegative().optional(),
  /** `.waitForTaskToken` tasks only: what `firebreak approve` answers with SendTaskSuccess/SendTaskFailure. */
  taskToken: z.string().min(1).optional(),
  /** `end` only: the outcome the run ends with (the end step's, or success when the last step has no next). */
  outcome: z.string().min(1).optional(),
  /** `fail` only: how many items the map step listed. */
  count: z.number().int().nonnegative().optional(),
  /** `fail` and the run's `end` after a failure: the error a state failed with, as a Catch caught it. */
  error: z.looseObject({ Error: z.string().min(1), Cause: z.string().optional() }).optional(),
});

/** The journal's key for a visit of a step: the id, `id#n` on the n-th visit of a loop, `id[i]` for item i of a map. */
export function stepKeyOf(t: { stepId: string; visit?: number | undefined; index?: number | undefined; phase: string }): string {
  const base = t.visit !== undefined && t.visit > 1 ? `${t.stepId}#${t.visit}` : t.stepId;
  return t.phase === 'item' ? `${base}[${t.index ?? 0}]` : base;
}

/** The payload with its journal key, as the engine side gets it. */
export const WorkerTask = WorkerPayload.transform((t) => ({ ...t, stepKey: stepKeyOf(t) }));
export type WorkerTaskT = z.output<typeof WorkerTask>;

/**
 * A phase that finished: the step's status as the journal records it and its output — the record the
 * definition keeps under `steps.<id>` — plus what the next state needs: the chosen step (`choose`), the
 * items (`items`), the seconds to wait (`wait`).
 */
export const WorkerResult = z.strictObject({
  status: z.enum([
    'applied',
    'already-done',
    'planned',
    'skipped',
    'denied',
    'manual',
    'condition-false',
    'waiting',
    'chosen',
    'listed',
    'ended',
  ]),
  output: z.unknown().optional(),
  next: z.string().min(1).optional(),
  items: z.array(z.unknown()).optional(),
  seconds: z.number().int().nonnegative().optional(),
});
export type WorkerResultT = z.infer<typeof WorkerResult>;

/** What each phase must answer besides a status, for the state after it to read (a JSONPath to nothing fails the execution). */
function phaseBreach(phase: WorkerTaskT['phase'], r: WorkerResultT): string | undefined {
  if (phase === 'choose' && (r.status !== 'chosen' || r.next === undefined)) return 'a choice answers status chosen and next';
  if (phase === 'items' && (r.status !== 'listed' || r.items === undefined)) return 'a map step answers status listed and its items';
  if (phase === 'wait' && r.seconds === undefined) return 'a wait answers its seconds';
  if (phase === 'end' && r.status !== 'ended') return 'the end of a run answers status ended';
  return undefined;
}

/** A step that failed, as the handler throws it: `name` is what Retry/Catch match. */
export class StepFailed extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly transient = false,
  ) {
    super(message);
    this.name = transient ? TASK_ERRORS.transient : code;
  }
}

/**
 * The engine side of the worker: run one phase of one step of a run in the store, and return its
 * record or throw `StepFailed`. Firebreak's run API provides it; `workerHandler` checks both ends.
 */
export type RunWorkerPhase = (task: WorkerTaskT) => Promise<WorkerResultT>;

/**
 * The Lambda handler around a `RunWorkerPhase`: a malformed payload is refused before anything runs
 * (it means the state machine and the worker come from different Firebreak versions), and a result
 * that breaks the contract is an error rather than a record Step Functions would carry on with.
 */
export function workerHandler(runPhase: RunWorkerPhase): (event: unknown) => Promise<WorkerResultT> {
  return async (event) => {
    const parsed = WorkerTask.safeParse(event);
    if (!parsed.success) throw new StepFailed('Firebreak.InvalidTask', `failed to read the worker task: ${z.prettifyError(parsed.error)}`);
    const result = WorkerResult.safeParse(await runPhase(parsed.data));
    const breach = result.success ? phaseBreach(parsed.data.phase, result.data) : z.prettifyError(result.error);
    if (!result.success || breach)
      throw new StepFailed('Firebreak.InvalidResult', `failed to check the worker result of ${parsed.data.stepKey}: ${breach}`);
    // A map item's iteration output is its output (OutputPath $.output), which must exist even when the action has none.
    if (parsed.data.phase === 'item' && result.data.output === undefined) return { ...result.data, output: null };
    return result.data;
  };
}
