/**
 * The worker's engine side: one phase of one step of a run, with the engine's own step code
 * (`runOneStep`, `runOneItem`) inside the run's own surroundings (`runPart`: the run store's record and
 * journal, the backend's audited clients, guardrails, target locks), so a step on Step Functions is the
 * same plan → approve → apply → verify, journaled, as in the CLI.
 *
 * Phases: `run` (a step whose policy approves it), `plan` (plan, journal `approval.requested`, keep the
 * task token with the run, notify: the run waits), `apply` (after `firebreak approve` journaled the
 * answer and sent the token: the step replays the answer from the journal, then applies and verifies),
 * `manual` (journal the task, keep the token), `item` (one target of a map step), `choose` (the
 * engine's choice step: journals `choice.taken`), `end` (journals `run.ended`, as `drive` does in the
 * CLI). `items` and `wait` only evaluate (decide.ts). A `plan` or `manual` task whose step needed
 * nobody (a read-only action) answers its own token.
 *
 * Step Functions may invoke a task twice, and a redriven execution runs a failed state again: a step
 * the journal shows completed (or failed on an onError path) answers from the journal, as on resume;
 * a `plan` whose answer the journal already holds answers its own token, so the execution goes on.
 *
 * Retries belong to Step Functions here (the compiled `Retry`, durable across invocations): the
 * engine runs each step once per task, and a failure the engine judges transient is thrown as
 * `Firebreak.Transient`.
 */
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { Backend } from '../cloud/backend.js';
import type { Config } from '../config/config.js';
import type { Clock } from '../core/clock.js';
import { type ErrorInfo, errorInfo } from '../core/error-info.js';
import { Aborted, FirebreakError, InputError, Interrupted, WaitingForApproval } from '../core/errors.js';
import type { AutoHostOptions } from '../engine/auto-host.js';
import type { Approval, JournalLike, StepRecord } from '../engine/events.js';
import type { RunHost } from '../engine/host.js';
import type { RunStore } from '../engine/local-store.js';
import { runPart } from '../engine/run-part.js';
import { allSteps } from '../playbook/compile.js';
import { runOneItem, runOneStep, type EngineOptions, type RunResult } from '../engine/runner.js';
import type { LoadedPlaybook, PlaybookT, StepT } from '../playbook/schema.js';
import { answerTask } from './answer.js';
import { decide } from './decide.js';
import { loadForSfn } from './playbooks.js';
import { StepFailed, TASK_ERRORS, type RunWorkerPhase, type WorkerResultT, type WorkerTaskT } from './worker.js';

export interface EngineWorkerOptions {
  /** The run store the runs live in. */
  store: RunStore;
  /** Where actions act: real AWS, or the simulated cloud when rehearsing. */
  backend: Backend;
  /** Step Functions, to answer a task's own token when the journal already holds the answer. */
  sfn: Pick<SFNClient, 'send'>;
  config?: Config;
  configFile?: string;
  clock?: Clock;
  /** Tell people a step waits on them (SNS), as the automatic host does. */
  onWaiting?: AutoHostOptions['onWaiting'];
  /** The execution's ARN, recorded in run.started. */
  execution?: string;
}

/** Errors the engine retries without a list of codes: AWS server faults, throttling, a verification read too early. */
function isTransient(err: unknown, code: string): boolean {
  if (code === 'VerificationFailed' || code === 'ThrottlingException' || code === 'Throttling' || code === 'RequestLimitExceeded')
    return true;
  return (err as { $fault?: string }).$fault === 'server';
}

export function engineWorker(w: EngineWorkerOptions): RunWorkerPhase {
  // Tasks of one run reach one process at once in a Map or a Parallel: the run has one journal writer at a time.
  const queues = new Map<string, Promise<unknown>>();
  const serial = <T>(runId: string, fn: () => Promise<T>): Promise<T> => {
    const before = queues.get(runId) ?? Promise.resolve();
    const p = before.then(fn, fn);
    const tail = p.then(
      () => undefined,
      () => undefined,
    );
    queues.set(runId, tail);
    void tail.then(() => queues.get(runId) === tail && queues.delete(runId));
    return p;
  };
  return (task) => serial(task.run.id, () => phase(w, task));
}

async function phase(w: EngineWorkerOptions, task: WorkerTaskT): Promise<WorkerResultT> {
  if (task.phase === 'items' || task.phase === 'wait')
    return decide(await playbookOf(w, task), task, (w.clock?.now() ?? new Date()) as Date);
  let record: StepRecord | undefined;
  let next: string | undefined;
  let itemOutput: unknown;
  let thrown: unknown;
  let answered: Approval | undefined;
  let failedAgain: WorkerTaskT['error'];
  // A failed map step and a run that failed with no end step reached: the error the journal holds for them.
  const before = task.phase === 'fail' || (task.phase === 'end' && task.error) ? (await w.store.open(task.run.id)).readJournal() : [];
  const reported = task.phase === 'fail' && failureReported(before, task);
  const part = async (o: EngineOptions): Promise<RunResult> => {
    settleMaps(o, task);
    try {
      if (task.phase === 'plan' || task.phase === 'manual') {
        // Answered already (a repeated invocation, a redrive): the journal's answer goes back to Step Functions.
        answered = (task.phase === 'manual' ? o.replayed.manualAnswers : o.replayed.approvals).get(task.stepKey);
        const done = o.replayed.completed.get(task.stepKey);
        if (answered || done) return { status: 'waiting', waitingStep: task.stepKey };
      }
      if (task.phase === 'fail' && !reported) {
        // The map step fails as in the CLI (its step.failed after its items'), and the execution with it.
        const error = mapFailure(before, task);
        const step = allSteps(o.loaded.playbook).find((s) => s.id === task.stepId)?.step;
        o.journal.append('step.failed', {
          step: task.stepKey,
          ...(step && 'action' in step ? { action: step.action } : {}),
          error,
          handled: false,
        });
        throw new StepFailed(error.code, error.message);
      }
      if (task.phase === 'end') {
        if (endRun(o, task, before) === 'failed') failedAgain = task.error;
        return { status: 'succeeded' };
      }
      if (task.phase === 'item') {
        itemOutput = await runOneItem(o, {
          stepId: task.stepId,
          key: task.stepKey.replace(/\[\d+\]$/, ''),
          steps: steps(task),
          item: task.item,
          index: task.index ?? 0,
        });
        return { status: 'succeeded' };
      }
      const done = await runOneStep(o, { stepId: task.stepId, key: task.stepKey, steps: steps(task) });
      record = done.record;
      next = done.output.next;
      return { status: 'succeeded' };
    } catch (err) {
      // The run's halts, as executeRun reports them: a step that waits for a person, an abort.
      if (err instanceof WaitingForApproval) return { status: 'waiting', waitingStep: err.step, error: errorInfo(err) };
      if (err instanceof Aborted) return { status: 'aborted', error: errorInfo(err) };
      if (err instanceof Interrupted) return { status: 'interrupted', error: errorInfo(err) };
      thrown = err;
      throw err;
    }
  };
  const out = await runPart({
    runId: task.run.id,
    run: {
      playbook: task.run.playbook,
      inputs: task.inputs,
      incident: task.run.incident,
      ...(Object.keys(task.run.approval).length ? { approvalOverrides: task.run.approval } : {}),
    },
    executor: { kind: 'stepfunctions', ...(w.execution ? { execution: w.execution } : {}) },
    backend: w.backend,
    store: w.store,
    host: workerHost(w, task),
    part,
    adapt: withoutRetries,
    ...(w.config ? { config: w.config } : {}),
    ...(w.configFile ? { configFile: w.configFile } : {}),
    ...(w.clock ? { clock: w.clock } : {}),
  });
  if (out.status === 'waiting') {
    if (answered) await answerTask(w.sfn, task.taskToken!, toAnswer(task, answered));
    else if (task.phase === 'plan' || task.phase === 'manual') {
      const done = (await w.store.open(task.run.id)).readJournal();
      if (done.some((e) => e.type === 'step.completed' && e.step === task.stepKey))
        await answerTask(
          w.sfn,
          task.taskToken!,
          task.phase === 'manual'
            ? { kind: 'manual', decision: 'done', by: 'journal' }
            : { kind: 'approval', decision: 'approve', by: 'journal' },
        );
    }
    return { status: 'waiting' };
  }
  if (out.status === 'succeeded' && (task.phase === 'plan' || task.phase === 'manual')) {
    // The step needed nobody (a read-only action, a plan with nothing to change): its token goes back at once.
    await answerTask(
      w.sfn,
      task.taskToken!,
      task.phase === 'manual'
        ? { kind: 'manual', decision: 'done', by: 'policy' }
        : { kind: 'approval', decision: 'approve', by: 'policy' },
    );
  }
  if (out.status === 'aborted') throw new StepFailed(TASK_ERRORS.aborted, out.error?.message ?? `run ${task.run.id} aborted`);
  if (out.status !== 'succeeded') {
    const info = out.error ?? errorInfo(thrown);
    throw new StepFailed(info.code, info.message, isTransient(thrown, info.code));
  }
  // The run ended failed or aborted: the execution fails with the error it was caught with.
  if (failedAgain) throw new StepFailed(failedAgain.Error, failedAgain.Cause ?? failedAgain.Error);
  if (task.phase === 'end') return { status: 'ended' };
  if (task.phase === 'item') return { status: 'applied', output: itemOutput };
  if (task.phase === 'choose') return { status: 'chosen', next: next! };
  if (!record) throw new FirebreakError(`failed to run ${task.stepKey} of run ${task.run.id}: the engine recorded no outcome`);
  return { status: record.status as WorkerResultT['status'], ...(record.output === undefined ? {} : { output: record.output }) };
}

/**
 * A Map state ends without a worker task (its items each had one): the map step's outcome, as the
 * execution recorded it, is journaled by the next task of the run, as the engine journals it after the
 * last item in the CLI.
 */
function settleMaps(o: EngineOptions, task: WorkerTaskT): void {
  for (const { id, step } of allSteps(o.loaded.playbook)) {
    const rec = task.steps[id];
    if (step.type !== 'map' || !rec || rec.status !== 'applied' || o.replayed.completed.has(id)) continue;
    o.journal.append('step.completed', { step: id, status: 'applied', output: rec.output });
  }
}

/**
 * Whether the map step's failure is journaled already, after its items' last failure: then this `fail`
 * task runs again because the execution was redriven (or invoked twice), and the map step runs as on
 * `firebreak resume` — its completed items answered from the journal, the others run again.
 */
function failureReported(events: JournalLike[], task: WorkerTaskT): boolean {
  const last = (type: string) => events.findLastIndex((e) => e.type === type && e.step === task.stepKey);
  return last('step.failed') > last('item.failed');
}

/**
 * A map step's error as the engine reports it after its items (map-step.ts): how many of its targets
 * failed, the first one's error, and that code if they all failed alike. The Map state stops at its
 * first failed item, so fewer of them may have run than in the CLI.
 */
function mapFailure(events: JournalLike[], task: WorkerTaskT): ErrorInfo {
  const caught = task.error ?? { Error: 'States.TaskFailed' };
  const byIndex = new Map<number, ErrorInfo>();
  for (const e of events) if (e.type === 'item.failed' && e.step === task.stepKey) byIndex.set(Number(e.index), e.error as ErrorInfo);
  const failures = [...byIndex].sort(([a], [b]) => a - b);
  const first = failures[0];
  if (!first || task.count === undefined) return { code: caught.Error, message: caught.Cause ?? caught.Error };
  const [index, error] = first;
  return {
    code: failures.every(([, f]) => f.code === error.code) ? error.code : 'PartialFailure',
    message: `${failures.length} of ${task.count} targets failed (first: item ${index}: ${error.code}: ${error.message})`,
  };
}

/**
 * The run's end as `executeRun` reports it and `drive` journals it in the CLI: an outcome of failure
 * fails the run, with the error of the last onError path taken, if any. With an error (a state's
 * `.uncaught` task: no onError took it) the run failed there, or was aborted: its error is the one the
 * engine journaled (the step's unhandled `step.failed`, the abort's answer), as the CLI's run reports
 * it, and the task fails again with it; the same task run again by a redrive resumes the run instead.
 * Once only: a repeated invocation finds it journaled.
 */
function endRun(o: EngineOptions, task: WorkerTaskT, events: JournalLike[]): 'ended' | 'failed' | 'redriven' {
  if (task.error) {
    const last = (type: string) => events.findLastIndex((e) => e.type === type);
    const redriven = last('execution.redriven');
    if (redriven > last('run.ended') && last('run.resumed') < redriven) {
      // `firebreak resume` redrove the execution, which runs this task again: the run goes on at the state that failed.
      o.journal.append('run.resumed', { by: events[redriven]!.by as { osUser: string; host: string; pid: number } });
      return 'redriven';
    }
    // Journaled once per attempt: a repeated invocation finds it after the last redrive.
    if (last('run.ended') <= redriven) o.journal.append('run.ended', endOfFailure(o.runId, events, task.error));
    return 'failed';
  }
  const outcome = task.outcome ?? 'success';
  const status = outcome === 'failure' ? 'failed' : 'succeeded';
  if (o.replayed.status === status) return 'ended';
  const handled = [...o.replayed.handledFailures.values()].at(-1);
  o.journal.append('run.ended', { status, outcome, ...(status === 'failed' && handled ? { error: handled } : {}) });
  return 'ended';
}

/** `run.ended` for an execution that failed on `error` with no end step reached. */
function endOfFailure(
  runId: string,
  events: JournalLike[],
  error: NonNullable<WorkerTaskT['error']>,
): { status: 'failed' | 'aborted'; outcome?: string; error: ErrorInfo } {
  if (error.Error === TASK_ERRORS.aborted) {
    const answer = events.findLast((e) => e.type === 'approval.answered' && e.decision === 'abort');
    const stepId = String(answer?.step ?? '').replace(/#\d+$/, '');
    const aborted = answer
      ? new Aborted(`run ${runId} aborted at step '${stepId}' by ${String(answer.by)}`)
      : new Aborted(error.Cause ?? `run ${runId} aborted`);
    return { status: 'aborted', error: errorInfo(aborted) };
  }
  const failed = events.findLast((e) => e.type === 'step.failed' && e.handled === false);
  const info = failed ? (failed.error as ErrorInfo) : { code: error.Error, message: error.Cause ?? error.Error };
  return { status: 'failed', outcome: 'failure', error: info };
}

/** The records of earlier steps, as the execution carries them. */
const steps = (task: WorkerTaskT) => task.steps as Record<string, StepRecord>;

function toAnswer(task: WorkerTaskT, a: Approval): Parameters<typeof answerTask>[2] {
  const note = a.note ? { note: a.note } : {};
  if (task.phase === 'manual') return { kind: 'manual', decision: a.decision === 'approve' ? 'done' : 'skip', by: a.by, ...note };
  return {
    kind: 'approval',
    decision: a.decision === 'approve' ? 'approve' : a.decision === 'abort' ? 'abort' : 'deny',
    by: a.by,
    ...note,
  };
}

/**
 * Who decides on Step Functions: a policy approves `run`-phase steps; in `plan`/`manual` the step waits
 * (its token kept with the run, people notified); in `apply` the answer is the one `firebreak approve`
 * journaled, replayed before this host is asked, so being asked means there is none.
 */
function workerHost(w: EngineWorkerOptions, task: WorkerTaskT): RunHost {
  const wait = async (key: string, kind: 'approval' | 'manual', title: string, run: Parameters<RunHost['approve']>[2]): Promise<never> => {
    if (task.phase !== 'plan' && task.phase !== 'manual')
      throw new FirebreakError(`failed to apply ${key} of run ${run.runId}: no answer is journaled for it`, {
        hint: `firebreak approve ${run.runId} ${key}`,
      });
    // Durable before the task is reported as waiting: whoever is told may answer at once, from anywhere.
    await (await w.store.open(run.runId)).keepTaskToken(key, task.taskToken!);
    await w.onWaiting?.({ runId: run.runId, step: key, kind, title }, run);
    throw new WaitingForApproval(run.runId, key, kind);
  };
  return {
    kind: 'auto',
    approvesUnseen: (policy) => policy === 'auto',
    async approve(view, _signal, run) {
      if (view.policy === 'auto' && task.phase !== 'plan') return { decision: 'approve', by: 'policy', via: 'policy' };
      return wait(view.key, 'approval', view.title, run);
    },
    async manual(view, _signal, run) {
      return wait(view.key, 'manual', view.title, run);
    },
  };
}

async function playbookOf(w: EngineWorkerOptions, task: WorkerTaskT): Promise<PlaybookT> {
  const record = await w.store.open(task.run.id).catch((err: unknown) => {
    if (err instanceof InputError) return undefined; // not started yet: the task names the playbook
    throw err;
  });
  const started = record?.readJournal().find((e) => e.type === 'run.started');
  const file = (started as { playbook?: { file?: string } } | undefined)?.playbook?.file;
  return loadForSfn(file ?? task.run.playbook).playbook;
}

/** The playbook with its steps' `retry` left to Step Functions (each task runs a step once). */
function withoutRetries(loaded: LoadedPlaybook): LoadedPlaybook {
  const strip = (steps: Record<string, StepT>): Record<string, StepT> =>
    Object.fromEntries(
      Object.entries(steps).map(([id, s]) => {
        if (s.type === 'parallel') return [id, { ...s, branches: s.branches.map((b) => ({ ...b, steps: strip(b.steps) })) }];
        if ('retry' in s && s.retry) {
          const { retry: _, ...rest } = s;
          return [id, rest as StepT];
        }
        return [id, s];
      }),
    );
  return { ...loaded, playbook: { ...loaded.playbook, steps: strip(loaded.playbook.steps) } };
}
