/**
 * `firebreak approve RUN STEP [--deny|--abort] [--note]`: answer a step a run is waiting on.
 * If no process holds the run, the answer is journaled here (this process is then the journal's
 * only writer) and `firebreak resume` continues; if the waiting process is alive, the answer is
 * posted to the run's inbox and that process journals it and continues by itself.
 */
import { join } from 'node:path';
import { SFNClient } from '@aws-sdk/client-sfn';
import { Journal } from '../../audit/journal.js';
import { InputError } from '../../core/errors.js';
import { replay } from '../../engine/events.js';
import { existingRunDir } from '../../engine/home.js';
import { postApproval } from '../../engine/inbox.js';
import { localRunStore, runStoreFor, type RunRecord } from '../../engine/local-store.js';
import type { Approval } from '../../engine/events.js';
import { loadConfig } from '../../config/config.js';
import { approveOnStepFunctions, runsOnStepFunctions, startedOnStepFunctions } from '../../sfn/approve-task.js';
import { eventOf } from '../../store/types.js';
import { acquireLock, readLock } from '../../engine/lock.js';
import { whoAmI } from '../interactive-host.js';
import { out, printJson } from '../output.js';
import { approveInStore } from './approve-store.js';
import { configuredAwsStore } from './run-store.js';

export async function approve(
  runId: string,
  step: string,
  opts: {
    deny?: boolean;
    abort?: boolean;
    note?: string;
    runsDir?: string;
    home?: string;
    json?: boolean;
    config?: string;
    sfn?: Pick<SFNClient, 'send'>;
  },
): Promise<void> {
  if (opts.deny && opts.abort) throw new InputError('choose one of --deny and --abort', { field: '--deny' });
  const aws = opts.runsDir ? undefined : configuredAwsStore(opts.config);
  if (aws) {
    const decision = opts.abort ? 'abort' : opts.deny ? 'skip' : 'approve';
    // On Step Functions the kept task token is the truth of what waits: a second answer is refused by it.
    const first = await aws.firstEvent(runId);
    const record =
      first && startedOnStepFunctions([eventOf(first)])
        ? await runStoreFor(loadConfig(opts.config).config.store, opts, aws).open(runId, { journalOnly: true })
        : undefined;
    if (record)
      return viaTaskToken(
        record,
        runId,
        step,
        { decision, by: whoAmI(), via: 'approve-command', ...(opts.note ? { note: opts.note } : {}) },
        opts,
      );
    return approveInStore(
      aws,
      runId,
      step,
      { decision, by: whoAmI(), via: 'approve-command', ...(opts.note ? { note: opts.note } : {}) },
      opts,
      pendingSteps,
    );
  }
  const dir = existingRunDir(runId, opts);
  const file = join(dir, 'journal.jsonl');
  const state = replay(Journal.read(file));
  const pending = pendingSteps(Journal.read(file));
  if (!pending.includes(step)) {
    const what =
      state.status === 'waiting'
        ? `it is waiting on ${state.waitingStep}`
        : pending.length
          ? `it is waiting on ${pending.join(', ')}`
          : `it is ${state.status} and waits on no step`;
    throw new InputError(`run ${runId} is not waiting on step '${step}': ${what}`, {
      field: 'STEP',
      hint: `firebreak runs   (shows what each run waits on)`,
    });
  }
  const decision = opts.abort ? 'abort' : opts.deny ? 'skip' : 'approve';
  const answer = { decision, by: whoAmI(), via: 'approve-command', ...(opts.note ? { note: opts.note } : {}) } as const;
  const record = await localRunStore(opts).open(runId);
  if (runsOnStepFunctions(record)) return viaTaskToken(record, runId, step, answer, opts);
  const lock = await acquireLock(join(dir, 'run.lock'), { runId, purpose: 'approve' });
  let delivered: 'journal' | 'inbox';
  if (lock) {
    try {
      const j = Journal.open(file);
      j.append('approval.answered', { step, ...answer });
      j.close();
    } finally {
      lock.release();
    }
    delivered = 'journal';
  } else {
    postApproval(dir, step, { ...answer, at: new Date().toISOString() });
    delivered = 'inbox';
  }
  const holder = delivered === 'inbox' ? readLock(join(dir, 'run.lock')) : undefined;
  if (opts.json)
    return printJson({ runId, step, decision: opts.deny ? 'deny' : decision, delivered, ...(holder ? { pid: holder.pid } : {}) });
  out(`${opts.abort ? 'aborted' : opts.deny ? 'denied' : 'approved'} step ${step} of run ${runId}`);
  out(
    delivered === 'inbox'
      ? `  the waiting process${holder ? ` (pid ${holder.pid})` : ''} continues the run`
      : `  continue it with: firebreak resume ${runId} --auto`,
  );
}

/** A run on Step Functions waits on a task token: the answer is journaled and sent with it (the SDK's standard configuration). */
async function viaTaskToken(
  record: RunRecord,
  runId: string,
  step: string,
  answer: Approval & { via: 'approve-command' },
  opts: { deny?: boolean; abort?: boolean; json?: boolean; sfn?: Pick<SFNClient, 'send'> },
): Promise<void> {
  await approveOnStepFunctions(record, step, answer, { sfn: opts.sfn ?? new SFNClient({}) });
  if (opts.json) return printJson({ runId, step, decision: opts.deny ? 'deny' : answer.decision, delivered: 'task-token' });
  out(
    `${opts.abort ? 'aborted' : opts.deny ? 'denied' : 'approved'} step ${step} of run ${runId}\n  the Step Functions execution continues the run`,
  );
}

/** Steps asked about (approval or manual task) and not yet answered. */
export function pendingSteps(events: ReadonlyArray<{ type: string; step?: unknown }>): string[] {
  const open = new Set<string>();
  for (const e of events) {
    if (e.type === 'approval.requested' || e.type === 'manual.requested') open.add(String(e.step));
    if (e.type === 'approval.answered' || e.type === 'step.completed') open.delete(String(e.step));
  }
  return [...open];
}
