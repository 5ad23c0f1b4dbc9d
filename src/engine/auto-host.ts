/**
 * The automatic host: steps whose policy is `auto` run unattended; a step that needs a person
 * takes an answer posted by `firebreak approve` (the inbox), or leaves the run waiting.
 * With `waitMs`, the process stays alive and polls for that answer, so the run continues by
 * itself once someone approves.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { WaitingForApproval, Interrupted } from '../core/errors.js';
import type { Approval } from './events.js';
import type { HostRun, ManualView, RunHost, StepView } from './host.js';

export interface AutoHostOptions {
  /** How long to stay alive waiting for `firebreak approve` (ms). 0: exit at once with code 3. */
  waitMs?: number;
  pollMs?: number;
  /** Called once when a step starts waiting for a person (notifications). */
  onWaiting?: (what: { runId: string; step: string; kind: 'approval' | 'manual'; title: string }, run: HostRun) => void | Promise<void>;
}

export function autoHost(opts: AutoHostOptions = {}): RunHost {
  const answer = async (run: HostRun, key: string, kind: 'approval' | 'manual', title: string, signal: AbortSignal): Promise<Approval> => {
    const runId = run.runId;
    const posted = await run.postedApproval(key);
    if (posted) return { decision: posted.decision, by: posted.by, ...(posted.note ? { note: posted.note } : {}), via: 'approve-command' };
    await opts.onWaiting?.({ runId, step: key, kind, title }, run);
    const deadline = Date.now() + (opts.waitMs ?? 0);
    while (Date.now() < deadline) {
      if (signal.aborted) throw new Interrupted(runId);
      await sleep(Math.min(opts.pollMs ?? 250, Math.max(1, deadline - Date.now())));
      const p = await run.postedApproval(key);
      if (p) return { decision: p.decision, by: p.by, ...(p.note ? { note: p.note } : {}), via: 'approve-command' };
    }
    throw new WaitingForApproval(runId, key, kind);
  };
  return {
    kind: 'auto',
    approvesUnseen: (policy) => policy === 'auto',
    async approve(view: StepView, signal, run) {
      if (view.policy === 'auto') return { decision: 'approve', by: 'policy', via: 'policy' };
      return answer(run, view.key, 'approval', view.title, signal);
    },
    async manual(view: ManualView, signal, run) {
      return answer(run, view.key, 'manual', view.title, signal);
    },
  };
}
