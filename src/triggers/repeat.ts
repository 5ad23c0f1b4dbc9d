/** What a repeated alert leaves on its run, the same with either store. */
import type { JournalEvent } from '../audit/journal.js';
import type { Alert } from './alert.js';

/** The fields of a repeat worth keeping: what changed between deliveries. */
export function repeatFields(a: Alert) {
  return {
    alertType: a.type,
    severity: a.severity,
    ...(a.count !== undefined ? { count: a.count } : {}),
    ...(a.time ? { time: a.time } : {}),
    dedupKey: a.dedupKey,
    deliveryId: a.deliveryId,
  };
}

/** This delivery (SNS MessageId, EventBridge event id) is already on the run: a duplicate, not a repeat. */
export function deliveredAlready(events: readonly JournalEvent[], deliveryId: string): boolean {
  return events.some(
    (e) =>
      (e.type === 'run.started' && (e.trigger as { deliveryId?: string } | undefined)?.deliveryId === deliveryId) ||
      (e.type === 'alert.repeated' && e.deliveryId === deliveryId),
  );
}
