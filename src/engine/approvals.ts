/**
 * The approval gate: a step that changes the cloud, or a task a person must do, is decided once.
 * A decision the journal already holds is replayed; otherwise the request is journaled, the host
 * asked, and its answer journaled before the engine acts on it.
 */
import { Aborted, WaitingForApproval } from '../core/errors.js';
import type { Approval } from './events.js';
import type { ManualView, StepView } from './host.js';
import type { RunContext } from './run-context.js';

type Question = { kind: 'approval'; view: StepView; pipelined?: boolean } | { kind: 'manual'; view: ManualView };

export async function decide(r: RunContext, q: Question): Promise<Approval> {
  const { o, append } = r;
  const key = q.view.key;
  const prior = (q.kind === 'manual' ? o.replayed.manualAnswers : o.replayed.approvals).get(key);
  if (prior) return prior;
  if (q.kind === 'approval') {
    const v = q.view;
    // Pipelined: approved before any target is planned, so there is no count of changes yet.
    append('approval.requested', {
      step: key,
      policy: v.policy,
      ...(q.pipelined ? { pipelined: true, items: v.items } : { changes: v.plan.changes.length }),
      ...(v.groups ? { groups: v.groups } : {}),
    });
  } else {
    append('manual.requested', { step: key, title: q.view.title, instructions: q.view.instructions });
  }
  let answer: Approval;
  try {
    answer = q.kind === 'approval' ? await o.host.approve(q.view, o.signal, o.hostRun) : await o.host.manual(q.view, o.signal, o.hostRun);
  } catch (err) {
    if (err instanceof WaitingForApproval) append('run.waiting', { step: key, kind: q.kind });
    throw err;
  }
  append('approval.answered', { step: key, ...answer });
  return answer;
}

/** An abort stops the run here; otherwise whether to go on. */
export function goOn(r: RunContext, stepId: string, answer: Approval): boolean {
  if (answer.decision === 'abort') throw new Aborted(`run ${r.o.runId} aborted at step '${stepId}' by ${answer.by}`);
  return answer.decision === 'approve';
}

/** A manual task confirmed, skipped or (throws) aborted. */
export async function manualTask(r: RunContext, key: string, stepId: string, title: string, instructions: string): Promise<Approval> {
  const answer = await decide(r, { kind: 'manual', view: { runId: r.o.runId, key, stepId, title, instructions } });
  goOn(r, stepId, answer);
  return answer;
}
