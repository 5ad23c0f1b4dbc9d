/**
 * Answering a waiting task: what `firebreak approve RUN STEP [--deny|--abort]` sends to Step Functions
 * with the task token the worker kept. An approval is SendTaskSuccess; a denial and an abort are
 * SendTaskFailure with the error names the compiled Catch matches (`Firebreak.Denied` records the step
 * as denied — a manual task as skipped — and the run goes on; `Firebreak.Aborted` is caught by nothing
 * and fails the execution). A manual task's success output is the step's record.
 */
import { SendTaskFailureCommand, SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { TASK_ERRORS } from './worker.js';

export type TaskAnswer =
  | { kind: 'approval'; decision: 'approve' | 'deny' | 'abort'; by: string; note?: string }
  | { kind: 'manual'; decision: 'done' | 'skip'; by: string; note?: string };

/** SendTaskFailure's `cause` is at most 32,768 characters (https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskFailure.html). */
const CAUSE_MAX = 32_768;

export async function answerTask(client: Pick<SFNClient, 'send'>, taskToken: string, a: TaskAnswer): Promise<void> {
  const note = a.note ? { note: a.note } : {};
  if (a.kind === 'approval' && a.decision === 'approve') {
    await client.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify({ decision: 'approve', by: a.by, ...note }) }));
    return;
  }
  if (a.kind === 'manual' && a.decision === 'done') {
    await client.send(
      new SendTaskSuccessCommand({ taskToken, output: JSON.stringify({ status: 'manual', output: { by: a.by, ...note } }) }),
    );
    return;
  }
  const error = a.decision === 'abort' ? TASK_ERRORS.aborted : TASK_ERRORS.denied;
  const verb = a.decision === 'abort' ? 'aborted' : a.decision === 'skip' ? 'skipped' : 'denied';
  const cause = `${verb} by ${a.by}${a.note ? `: ${a.note}` : ''}`.slice(0, CAUSE_MAX);
  await client.send(new SendTaskFailureCommand({ taskToken, error, cause }));
}
