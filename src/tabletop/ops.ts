/**
 * Operational injects: API throttling and other faults of the simulated cloud (for a while, or
 * until a number of calls failed), and an approver who is away.
 */
import { parseDuration } from '../core/clock.js';
import type { SimCloud } from '../sim/index.js';
import type { Approver } from './host.js';
import { elapsed, type ExerciseLog } from './log.js';
import { kindOf, OPS_KINDS, type OpsT } from './scenario.js';
import type { Scheduler } from './scheduler.js';

export function fireOps(
  ops: OpsT,
  ctx: { ref: string; title: string; sim: SimCloud; scheduler: Scheduler; log: ExerciseLog; approver: Approver },
): void {
  const { ref, title, sim, scheduler, log, approver } = ctx;
  const kind = kindOf(ops, OPS_KINDS);
  const now = scheduler.elapsed();
  if (kind === 'approver-unavailable') {
    const v = ops['approver-unavailable']!;
    approver.who = v.who;
    approver.awayUntil = now + parseDuration(v.for);
    log.add({
      kind: 'ops',
      ref,
      text: `${title}${v.who} is unavailable until ${elapsed(approver.awayUntil)}: steps that need a person's approval wait`,
    });
    scheduler.schedule(approver.awayUntil, `${ref} ends`, async () => void log.add({ kind: 'ops', ref, text: `${v.who} is back` }));
    return;
  }
  const fault =
    kind === 'throttle'
      ? { operation: ops.throttle!.operation, error: ops.throttle!.error, ...(ops.throttle!.times ? { times: ops.throttle!.times } : {}) }
      : ops.fault!.fault;
  const lasting = kind === 'throttle' ? ops.throttle!.for : ops.fault!.for;
  const handle = sim.faults.add(fault);
  log.add({
    kind: 'ops',
    ref,
    text: `${title}${kind === 'throttle' ? 'API throttling begins' : 'fault injected'}: ${fault.operation} answers ${fault.error ?? 'slowly'}${fault.times ? ` (${fault.times} call${fault.times === 1 ? '' : 's'})` : ''}${lasting !== undefined ? ` for ${lasting}` : ''}`,
  });
  if (lasting !== undefined) {
    scheduler.schedule(now + parseDuration(lasting), `${ref} ends`, async () => {
      handle.remove();
      log.add({
        kind: 'ops',
        ref,
        text: `${fault.operation} answers normally again (${handle.fired} call${handle.fired === 1 ? '' : 's'} refused)`,
      });
    });
  }
}
