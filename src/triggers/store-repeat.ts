/**
 * Repeats and redeliveries with `store: aws`, judged from the stored journal and the run's lease
 * as dispatch.ts judges the folder and the run lock.
 *
 * The run's journal has one writer at a time: appends are conditional on the seq, so a second
 * process appending to a run in progress would either fork it or make the live writer's next
 * append fail (AppendConflict) and stop its run. A repeat is therefore journaled only by a
 * process that holds the run's lease — taken for the append and released at once — which it gets
 * only when no live process holds the run (a waiting or finished run; a dead writer's lease once
 * it expired by the store's clock). While the run is live elsewhere the repeat is counted on the
 * dedup claim and logged in the trigger log naming the holder, exactly as the local store logs a
 * repeat while another process holds `run.lock`: the live run has no reason to poll for repeats,
 * which change nothing it does. A journaled repeat is an ordinary `alert.repeated` line, so
 * `audit show`, `runs`, `report` and `audit verify` read it as they read a local one; it is
 * sealed at once, so it is under Object Lock like the rest of the run's history.
 */
import type { JournalEvent } from '../audit/journal.js';
import { systemClock } from '../core/clock.js';
import { FirebreakError } from '../core/errors.js';
import { replay, type RunStatus } from '../engine/events.js';
import type { AwsRunStore } from '../store/aws.js';
import type { RunStore } from '../store/types.js';
import { eventOf } from '../store/types.js';
import type { Alert } from './alert.js';
import type { TriggerContext, TriggerOutcome } from './dispatch.js';
import { deliveredAlready, repeatFields } from './repeat.js';

/**
 * What a delivery whose dedup key is already claimed meets, from the stored journal:
 *  - 'starting': no line yet (the claimer is starting the run);
 *  - 'resume': the run was started by this very delivery and its process died (interrupted, or
 *    running with no live lease by the store's clock): this delivery takes the lease over and resumes it;
 *  - 'duplicate': this delivery is already on the run (an SNS or EventBridge redelivery);
 *  - 'repeat': anything else.
 */
export async function storedPrior(
  aws: AwsRunStore,
  alert: Alert,
): Promise<{ prior: 'starting' | 'resume' | 'repeat' | 'duplicate'; status: RunStatus | 'starting' }> {
  const events: JournalEvent[] = (await aws.readEvents(alert.runId)).map(eventOf);
  const started = events.find((e) => e.type === 'run.started');
  if (!started) return { prior: 'starting', status: 'starting' };
  const status = replay(events).status;
  const same = (started.trigger as { deliveryId?: string } | undefined)?.deliveryId === alert.deliveryId;
  if (same && status === 'interrupted') return { prior: 'resume', status };
  if (same && status === 'running') {
    const lease = await aws.readLease(`run/${alert.runId}`);
    if (!lease || Date.parse(lease.expiresAt) <= aws.clock.now().getTime()) return { prior: 'resume', status };
  }
  // A delivery already on the run needs no lease to be told apart.
  return { prior: deliveredAlready(events, alert.deliveryId) ? 'duplicate' : 'repeat', status };
}

/** Journal `alert.repeated` on the stored run under its lease, or log it when a live process holds the run. */
export async function recordStoredRepeat(alert: Alert, store: RunStore, ctx: TriggerContext): Promise<TriggerOutcome> {
  const record = await store.open(alert.runId, { journalOnly: true });
  const lock = await record.lock({ runId: alert.runId, purpose: 'record a repeated alert' });
  if (!lock) {
    await ctx.log.append('alert.repeated', {
      via: ctx.via,
      runId: alert.runId,
      journaled: false,
      reason: 'the run is active in another process, which alone writes its journal (its lease in the store is live)',
      alert: repeatFields(alert),
    });
    return { kind: 'repeated', alert, runId: alert.runId, journaled: false, status: 'running' };
  }
  let status: RunStatus;
  let repeat: number;
  try {
    // Opened under the lease, so what the journal holds is the store's latest.
    const journal = record.openJournal(ctx.clock ?? systemClock);
    try {
      const events = journal.events();
      if (!events.some((e) => e.type === 'run.started'))
        throw new FirebreakError(`failed to record a repeat on run ${alert.runId}: its journal has no run.started`, {
          hint: `firebreak audit show ${alert.runId}`,
        });
      status = replay(events).status;
      if (deliveredAlready(events, alert.deliveryId)) {
        await ctx.log.append('alert.duplicate', { via: ctx.via, runId: alert.runId, deliveryId: alert.deliveryId });
        return { kind: 'duplicate', alert, runId: alert.runId, status };
      }
      repeat = events.filter((e) => e.type === 'alert.repeated').length + 1;
      journal.append('alert.repeated', { repeat, via: ctx.via, ...repeatFields(alert), resources: alert.resources });
      record.writeSummary(journal.events());
      await record.seal();
    } finally {
      journal.close();
    }
  } finally {
    await lock.release();
  }
  await ctx.log.append('alert.repeated', { via: ctx.via, runId: alert.runId, journaled: true, repeat, alert: repeatFields(alert) });
  return { kind: 'repeated', alert, runId: alert.runId, journaled: true, repeat, status };
}
