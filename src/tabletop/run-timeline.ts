/**
 * What a playbook run's journal says, as it is written, turned into timeline entries and into the
 * step facts objectives read. The journal stays the record of the run; the timeline is the
 * exercise's view of it.
 */
import type { JournalEvent } from '../audit/journal.js';
import type { ExerciseLog } from './log.js';
import type { ExerciseFacts } from './objectives.js';

export function runTimeline(
  runId: string,
  playbook: string,
  facts: ExerciseFacts,
  log: ExerciseLog,
  elapsed: () => number,
): (e: JournalEvent) => void {
  const stepActions = new Map<string, string>();
  return (e) => {
    const step = e.step as string | undefined;
    const ref = `${runId}/${step ?? ''}`;
    switch (e.type) {
      case 'step.started':
        if (step && typeof e.action === 'string') stepActions.set(step, e.action);
        break;
      case 'step.completed': {
        const action = stepActions.get(step!);
        // Recorded before it is logged: logging checks the objectives, which read it.
        facts.steps.push({
          runId,
          playbook,
          key: step!,
          stepId: step!.split('#')[0]!,
          ...(action ? { action } : {}),
          status: String(e.status),
          t: elapsed(),
        });
        log.add({ kind: 'step', ref, ok: e.status !== 'failed', text: `${runId} step ${step}: ${e.status}` });
        break;
      }
      case 'step.failed': {
        const err = e.error as { code: string; message: string };
        log.add({
          kind: 'step',
          ref,
          ok: false,
          text: `${runId} step ${step} failed: ${err.code}: ${err.message}${e.handled ? ' (the playbook takes its error path)' : ''}`,
        });
        break;
      }
      case 'step.retrying':
        log.add({
          kind: 'step',
          ref,
          text: `${runId} step ${step} retries (${e.attempt}/${e.of}) after ${(e.error as { code: string }).code}`,
        });
        break;
      case 'step.manual':
        log.add({ kind: 'step', ref, text: `${runId} step ${step} becomes a manual task: ${String(e.reason)}` });
        break;
      case 'aws.call': {
        // Failed calls reach the timeline through the step that failed (some are expected: a
        // lookup that finds nothing); calls the SDK had to retry (throttling) show here.
        const err = e.error as { code: string } | undefined;
        if (typeof e.attempts === 'number' && e.attempts > 1) {
          log.add({
            kind: 'step',
            ref,
            ok: !err,
            text: `${runId} ${e.service}:${e.operation} ${err ? `failed (${err.code})` : 'succeeded'} after ${e.attempts} attempts`,
          });
        }
        break;
      }
    }
  };
}
