/**
 * `firebreak approve RUN STEP [--deny|--abort]` for a run Step Functions executes: the answer is
 * journaled first (the run's record of who decided, as for a run in the CLI), then sent with the task
 * token the waiting step kept. On Step Functions no engine task follows a denial or a manual step's
 * answer (the definition records the step itself), so the step's outcome is journaled here too, as the
 * engine journals it in the CLI. A `core.manual-task` confirmed as done is the exception: its `apply`
 * task follows and completes the step with the engine's own code.
 */
import type { SFNClient } from '@aws-sdk/client-sfn';
import { systemClock, type Clock } from '../core/clock.js';
import { FirebreakError, InputError } from '../core/errors.js';
import type { Approval } from '../engine/events.js';
import type { RunRecord } from '../engine/local-store.js';
import { isAwsError } from '../store/errors.js';
import { answerTask } from './answer.js';

export function runsOnStepFunctions(record: RunRecord): boolean {
  return startedOnStepFunctions(record.readJournal());
}

/** The run's `run.started` (among `events`) names Step Functions as its executor. */
export function startedOnStepFunctions(events: ReadonlyArray<{ type: string }>): boolean {
  const started = events.find((e) => e.type === 'run.started') as { executor?: { kind?: string } } | undefined;
  return started?.executor?.kind === 'stepfunctions';
}

export async function approveOnStepFunctions(
  record: RunRecord,
  step: string,
  answer: Approval & { via: 'approve-command' },
  o: { sfn: Pick<SFNClient, 'send'>; clock?: Clock },
): Promise<void> {
  const token = await record.taskToken(step);
  if (!token)
    throw new InputError(`run ${record.runId} keeps no task token for step '${step}': it is not waiting on it`, {
      field: 'STEP',
      hint: 'firebreak runs   (shows what each run waits on)',
    });
  // Taken before anything is journaled: a second approval is refused here, with no second SendTask call.
  const claim = await record.claimTaskToken(step, token, {
    decision: answer.decision,
    by: answer.by,
    at: (o.clock ?? systemClock).now().toISOString(),
  });
  try {
    await journalAndSend(record, step, token, answer, o);
  } catch (err) {
    // Step Functions will never take this token again: it stays answered. Anything else may be tried again.
    if (!isAwsError(err, ...FINAL)) await claim.release();
    throw answerFailure(record.runId, step, err);
  }
}

/** SendTask errors after which the token answers nothing (https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html). */
const FINAL = ['TaskTimedOut', 'InvalidToken', 'TaskDoesNotExist'];

function answerFailure(runId: string, step: string, err: unknown): unknown {
  if (isAwsError(err, 'TaskTimedOut'))
    return new FirebreakError(`failed to answer ${step} of run ${runId}: its task timed out before the answer came (TaskTimedOut)`, {
      cause: err,
      hint: `firebreak resume ${runId}   (redrives the execution, which asks again)`,
    });
  if (isAwsError(err, 'InvalidToken', 'TaskDoesNotExist'))
    return new FirebreakError(
      `failed to answer ${step} of run ${runId}: Step Functions no longer waits on its task token (${(err as Error).name}: the task was answered, or its execution stopped)`,
      { cause: err, hint: `firebreak runs   (shows what run ${runId} waits on now)` },
    );
  return err;
}

async function journalAndSend(
  record: RunRecord,
  step: string,
  token: string,
  answer: Approval & { via: 'approve-command' },
  o: { sfn: Pick<SFNClient, 'send'>; clock?: Clock },
): Promise<void> {
  const journal = record.readJournal();
  const manual = journal.some((e) => e.type === 'manual.requested' && e.step === step);
  // An action that handed its work to a person (step.manual): the worker's next task completes the step, as the engine does.
  const handedOver = journal.some((e) => e.type === 'step.manual' && e.step === step);
  const lock = await record.lock({ runId: record.runId, purpose: 'approve' });
  if (!lock)
    throw new FirebreakError(`failed to approve ${step} of run ${record.runId}: a worker is writing its journal`, {
      hint: 'try again in a few seconds',
    });
  try {
    const j = record.openJournal(o.clock ?? systemClock);
    try {
      j.append('approval.answered', { step, ...answer });
      if (answer.decision === 'skip') j.append('step.completed', { step, status: manual ? 'skipped' : 'denied' });
      if (manual && !handedOver && answer.decision === 'approve')
        j.append('step.completed', { step, status: 'manual', output: { by: answer.by, ...(answer.note ? { note: answer.note } : {}) } });
    } finally {
      j.close();
    }
    // The answer is in the store before the execution goes on: the next task reads it from there.
    await record.settle();
  } finally {
    await lock.release();
  }
  const note = answer.note ? { note: answer.note } : {};
  if (manual && answer.decision !== 'abort')
    await answerTask(o.sfn, token, { kind: 'manual', decision: answer.decision === 'approve' ? 'done' : 'skip', by: answer.by, ...note });
  else
    await answerTask(o.sfn, token, {
      kind: 'approval',
      decision: answer.decision === 'approve' ? 'approve' : answer.decision === 'abort' ? 'abort' : 'deny',
      by: answer.by,
      ...note,
    });
}
