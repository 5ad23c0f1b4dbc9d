/**
 * `firebreak approve` with `store: aws`: the answer goes to the run's approval record in the
 * table (first answer wins), from any machine with the store's credentials. The run's journal
 * keeps one writer: the waiting process (`--wait-for-approval`) or a later `firebreak resume`
 * reads the record and journals the answer itself, naming who gave it.
 */
import { InputError } from '../../core/errors.js';
import { replay } from '../../engine/events.js';
import type { AwsRunStore } from '../../store/aws.js';
import { eventOf, type ApprovalAnswer } from '../../store/types.js';
import { out, printJson } from '../output.js';

export async function approveInStore(
  aws: AwsRunStore,
  runId: string,
  step: string,
  answer: Omit<ApprovalAnswer, 'at'>,
  opts: { json?: boolean; deny?: boolean },
  /** Steps asked about and not yet answered (approve.ts). */
  pendingSteps: (events: ReadonlyArray<{ type: string; step?: unknown }>) => string[],
): Promise<void> {
  const events = (await aws.readEvents(runId)).map(eventOf);
  if (events.length === 0)
    throw new InputError(`no run ${runId} in the store (table ${aws.config.table})`, {
      field: 'RUN',
      hint: 'firebreak runs   (lists runs)',
    });
  const pending = pendingSteps(events);
  if (!pending.includes(step)) {
    const state = replay(events);
    const what = pending.length ? `it is waiting on ${pending.join(', ')}` : `it is ${state.status} and waits on no step`;
    throw new InputError(`run ${runId} is not waiting on step '${step}': ${what}`, {
      field: 'STEP',
      hint: 'firebreak runs   (shows what each run waits on)',
    });
  }
  const at = aws.clock.now().toISOString();
  const rec = await aws.answerApproval(runId, step, { ...answer, at });
  const first = rec.answer;
  if (!first || first.at !== at || first.by !== answer.by || first.decision !== answer.decision)
    throw new InputError(
      `step ${step} of run ${runId} was already answered: ${first?.decision ?? 'unknown'} by ${first?.by ?? 'unknown'} at ${first?.at ?? '?'}`,
      { field: 'STEP', hint: `firebreak audit show ${runId}   (the first answer stands)` },
    );
  const decision = opts.deny ? 'deny' : answer.decision;
  if (opts.json) return printJson({ runId, step, decision, delivered: 'store', table: aws.config.table });
  out(
    `${answer.decision === 'abort' ? 'aborted' : opts.deny ? 'denied' : 'approved'} step ${step} of run ${runId} (recorded in table ${aws.config.table})`,
  );
  out(`  a process waiting on it continues the run; otherwise: firebreak resume ${runId} --auto`);
}
