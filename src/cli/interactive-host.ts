/**
 * The on-call engineer's host: every step that changes the cloud shows its plan and asks
 * approve / skip / abort / details. The default answer is "skip"-safe: pressing Enter on a
 * blank line shows the choices again rather than approving.
 */
import { hostname, userInfo } from 'node:os';
import type { Approval } from '../engine/events.js';
import type { ManualView, RunHost, StepView } from '../engine/host.js';
import { formatPlan, type ProgressOptions, progressPrinter } from './display.js';
import { c, err, short } from './output.js';
import { choose } from './prompts.js';

const QUIET = new Set(['step.planned', 'approval.answered', 'manual.requested']);

export function whoAmI(): string {
  let user = process.env.USER ?? 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry in some containers; $USER is the best we have
  }
  return `${user}@${hostname()}`;
}

export function interactiveHost(opts: { verbose?: boolean; history?: ProgressOptions['history'] } = {}): RunHost {
  const by = whoAmI();
  // Plans, manual tasks and answers are shown by the prompt itself; the printer still tracks them for progress.
  const progress = progressPrinter({ ...opts, quiet: (e) => QUIET.has(e.type) });
  // Parallel branches can ask at the same moment; one terminal shows one question at a time.
  let queue: Promise<unknown> = Promise.resolve();
  const oneAtATime = <T>(ask: () => Promise<T>): Promise<T> => {
    const next = queue.then(ask, ask);
    queue = next.catch(() => undefined);
    return next;
  };
  const host: RunHost = {
    kind: 'interactive',
    async approve(view: StepView, signal): Promise<Approval> {
      err('');
      err(`${c.bold(view.stepId)} — ${view.title}`);
      if (view.description) err(c.dim(`  ${view.description.trim().split('\n').join('\n  ')}`));
      for (const l of formatPlan(view.plan, '  ', view.groups)) err(l);
      for (;;) {
        const answer = await choose(
          `Apply ${view.plan.changes.length} change${view.plan.changes.length === 1 ? '' : 's'} of step '${view.stepId}'?`,
          [
            { key: 'y', name: 'approve: apply this step', value: 'approve' },
            { key: 's', name: 'skip this step and continue', value: 'skip' },
            { key: 'q', name: 'abort the run (what is done stays done; undo with firebreak undo)', value: 'abort' },
            { key: 'd', name: 'show details (action, input, every change)', value: 'details' },
          ],
          { signal, runId: view.runId },
        );
        if (answer === 'details') {
          err(`  action: ${view.action} — ${view.actionSummary}`);
          err(`  input: ${JSON.stringify(view.input, null, 2).split('\n').join('\n  ')}`);
          for (const ch of view.plan.changes)
            err(`  - ${ch.resource} · ${ch.field}\n      before: ${short(ch.before, 400)}\n      after:  ${short(ch.after, 400)}`);
          continue;
        }
        return { decision: answer, by, via: 'prompt' };
      }
    },
    async manual(view: ManualView, signal): Promise<Approval> {
      err('');
      err(`${c.bold(view.stepId)} — ${c.yellow('manual task')}: ${view.title}`);
      for (const l of view.instructions.trim().split('\n')) err(`  ${l}`);
      const answer = await choose(
        'Is this task done?',
        [
          { key: 'y', name: 'done', value: 'approve' },
          { key: 's', name: 'skip it', value: 'skip' },
          { key: 'q', name: 'abort the run', value: 'abort' },
        ],
        { signal, runId: view.runId },
      );
      return { decision: answer, by, via: 'prompt' };
    },
    onEvent(e) {
      progress.onEvent(e);
    },
  };
  return {
    ...host,
    approve: (view, signal, run) => oneAtATime(() => host.approve(view, signal, run)),
    manual: (view, signal, run) => oneAtATime(() => host.manual(view, signal, run)),
  };
}
