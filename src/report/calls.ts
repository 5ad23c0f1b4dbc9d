/**
 * AWS calls as a responder reads them: grouped under the step that made them, and each failed
 * call told apart as a failure or as an expected answer. The journal records every call with its
 * error; whether the action tolerated that error shows in what the step did next: an action
 * tolerates only the AWS error codes it names (a lookup that finds nothing, a Support plan without
 * the API), and a tolerated error lets the step go on. A call is a failure when the step then
 * failed or retried with that same code (the last such call before it), or when the step never
 * went on at all.
 */
// biome-ignore lint/suspicious/noExplicitAny: a report reads journals of any version, field by field (the typed union is the engine's, for the current version)
type Event = { seq: number; ts: string; type: string; [k: string]: any };

export type CallOutcome = 'ok' | 'expected' | 'failed';

export interface CallRow {
  ts: string;
  operation: string;
  outcome: CallOutcome;
  code?: string;
  message?: string;
  requestId?: string;
  attempts?: number;
  durationMs?: number;
}

export interface StepCalls {
  step: string;
  calls: CallRow[];
  failed: number;
  expected: number;
}

const STEP_FAILED = new Set(['step.failed', 'item.failed', 'step.retrying']);
const STEP_WENT_ON = new Set([
  'step.planned',
  'item.planned',
  'step.applied',
  'step.verified',
  'step.completed',
  'item.completed',
  'step.manual',
]);

const base = (step: unknown) => String(step ?? '').split('#')[0];

/** Outcome of each `aws.call` event, by its index in `events`. */
export function callOutcomes(events: readonly Event[]): Map<number, CallOutcome> {
  const out = new Map<number, CallOutcome>();
  for (const [i, e] of events.entries()) {
    if (e.type !== 'aws.call') continue;
    out.set(i, e.error ? outcomeOfError(events, i) : 'ok');
  }
  return out;
}

/** A call that failed: expected when its step went on (the action tolerated the code), failed when the step failed on it. */
function outcomeOfError(events: readonly Event[], i: number): CallOutcome {
  const e = events[i]!;
  const step = base(e.step);
  for (let j = i + 1; j < events.length; j++) {
    const n = events[j]!;
    if (n.type === 'aws.call' && n.error?.code === e.error.code && base(n.step) === step) continue;
    if (base(n.step) !== step) {
      if (n.type === 'run.ended' || n.type === 'run.interrupted') break;
      continue;
    }
    if (STEP_FAILED.has(n.type)) {
      // The step failed with this call's code: the last call with that code before it is the failure.
      const later = events.slice(i + 1, j).some((x) => x.type === 'aws.call' && x.error?.code === e.error.code && base(x.step) === step);
      return n.error?.code === e.error.code && !later ? 'failed' : 'expected';
    }
    if (STEP_WENT_ON.has(n.type)) return 'expected';
  }
  return 'failed';
}

export function callsByStep(events: readonly Event[], outcomes: Map<number, CallOutcome>): StepCalls[] {
  const groups = new Map<string, StepCalls>();
  events.forEach((e, i) => {
    if (e.type !== 'aws.call') return;
    const step = e.step === undefined ? '(run)' : String(e.step);
    const g = groups.get(step) ?? { step, calls: [], failed: 0, expected: 0 };
    const outcome = outcomes.get(i) ?? 'ok';
    if (outcome === 'failed') g.failed++;
    if (outcome === 'expected') g.expected++;
    g.calls.push({
      ts: e.ts,
      operation: `${e.service}:${e.operation}`,
      outcome,
      ...(e.error ? { code: String(e.error.code), message: String(e.error.message) } : {}),
      ...(e.requestId ? { requestId: String(e.requestId) } : {}),
      ...(typeof e.attempts === 'number' ? { attempts: e.attempts } : {}),
      ...(typeof e.durationMs === 'number' ? { durationMs: e.durationMs } : {}),
    });
    groups.set(step, g);
  });
  return [...groups.values()];
}
