/**
 * `firebreak resume RUN` for a run Step Functions executes: the execution, not this process, runs the
 * playbook, so resuming it means asking Step Functions to go on. A FAILED, TIMED_OUT or ABORTED
 * execution is redriven (RedriveExecution: the states that succeeded keep their results, the failed
 * ones run again — and the worker's journal makes a step that completed a no-op if it runs again);
 * a RUNNING one is left alone (it may wait for an approval); a SUCCEEDED one has nothing left to do.
 *
 * The redrive is journaled before it is sent, under the run's lock, as an approval is: once the
 * execution runs again its worker writes the journal, and a run has one writer at a time.
 */
import { ExecutionNotRedrivable, RedriveExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import { errorInfo } from '../core/error-info.js';
import { FirebreakError, InputError } from '../core/errors.js';
import type { RunRecord } from '../engine/local-store.js';
import { operator } from '../engine/session.js';
import { describeRunExecution, executionArnOf, type ExecutionView } from './executions.js';

export type ExecutionResume =
  | { kind: 'redriven'; execution: ExecutionView; redriveDate: string }
  | { kind: 'running'; execution: ExecutionView }
  | { kind: 'succeeded'; execution: ExecutionView };

const REDRIVABLE = new Set(['FAILED', 'TIMED_OUT', 'ABORTED']);

export async function resumeExecution(record: RunRecord, o: { sfn: Pick<SFNClient, 'send'>; clock?: Clock }): Promise<ExecutionResume> {
  const events = record.readJournal();
  const arn = executionArnOf(events);
  if (!arn)
    throw new InputError(`run ${record.runId} runs on Step Functions, but its run.started names no execution`, {
      field: 'RUN',
      hint: 'aws stepfunctions list-executions --state-machine-arn <the playbook’s state machine>   (then redrive it there)',
    });
  const execution = await describeRunExecution(o.sfn, arn, events);
  if (execution.status === 'SUCCEEDED') return { kind: 'succeeded', execution };
  if (!REDRIVABLE.has(execution.status)) return { kind: 'running', execution };
  await journalUnderLock(record, o.clock, (j) =>
    j.append('execution.redriven', {
      execution: arn,
      from: execution.status as 'FAILED' | 'TIMED_OUT' | 'ABORTED',
      ...(execution.error ? { error: execution.error } : {}),
      by: operator(),
    }),
  );
  try {
    const out = await o.sfn.send(new RedriveExecutionCommand({ executionArn: arn }));
    return { kind: 'redriven', execution, redriveDate: (out.redriveDate ?? new Date()).toISOString() };
  } catch (err) {
    await journalUnderLock(record, o.clock, (j) => j.append('execution.redrive-failed', { execution: arn, error: errorInfo(err) }));
    if (err instanceof ExecutionNotRedrivable || (err as { name?: string }).name === 'ExecutionNotRedrivable')
      throw new FirebreakError(`failed to redrive the execution of run ${record.runId}: ${(err as Error).message}`, {
        hint: `firebreak undo ${record.runId}   (an execution past 14 days cannot be redriven; undo what it did, or start a new run)`,
      });
    throw err;
  }
}

/** Append to the run's journal as its one writer (a worker may be writing it: refused then, with what to do). */
export async function journalUnderLock(
  record: RunRecord,
  clock: Clock | undefined,
  write: (j: ReturnType<RunRecord['openJournal']>) => void,
) {
  const lock = await record.lock({ runId: record.runId, purpose: 'redrive' });
  if (!lock)
    throw new FirebreakError(`failed to write the journal of run ${record.runId}: a worker is writing it`, {
      hint: `try again in a few seconds; firebreak runs   (shows the execution's status)`,
    });
  try {
    const j = record.openJournal(clock ?? systemClock);
    try {
      write(j);
    } finally {
      j.close();
    }
  } finally {
    await lock.release();
  }
}
