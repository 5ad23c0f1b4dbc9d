/**
 * AWS calls as the journal records them, and the critical path through them.
 *
 * An `aws.call` event is appended when the call ends: its `ts` (ISO, millisecond resolution) is
 * the end and `durationMs` (rounded) gives the start. Two calls are sequential when one ends
 * before the other starts; calls that overlap in time were in flight together.
 */
import { readFileSync } from 'node:fs';

export interface JournalEntry {
  seq: number;
  ts: string;
  type: string;
  [k: string]: unknown;
}

export interface AwsCall {
  seq: number;
  step?: string;
  service: string;
  operation: string;
  /** Epoch ms. */
  start: number;
  end: number;
  durationMs: number;
  attempts: number;
  error?: string;
}

/** Start/end carry ±1.5 ms of rounding; a chain link tolerates that much overlap. */
export const OVERLAP_TOLERANCE_MS = 3;

export function readJournal(file: string): JournalEntry[] {
  const text = readFileSync(file, 'utf8');
  return text
    .slice(0, text.lastIndexOf('\n') + 1)
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as JournalEntry);
}

export function awsCalls(events: readonly JournalEntry[]): AwsCall[] {
  return events
    .filter((e) => e.type === 'aws.call')
    .map((e) => {
      const end = Date.parse(e.ts);
      const durationMs = Number(e.durationMs ?? 0);
      return {
        seq: e.seq,
        ...(typeof e.step === 'string' ? { step: e.step } : {}),
        service: String(e.service),
        operation: String(e.operation),
        start: end - durationMs,
        end,
        durationMs,
        attempts: Number(e.attempts ?? 1),
        ...(e.error ? { error: String((e.error as { code?: string }).code ?? 'Error') } : {}),
      };
    });
}

export const isNonMutating = (operation: string) => /^(Describe|Get|List)/.test(operation);

/**
 * The longest chain of calls, each ending before the next starts, that ends with `target`:
 * the number of sequential round trips the work up to `target` needed.
 */
export function criticalPath(calls: readonly AwsCall[], target: AwsCall): AwsCall[] {
  const before = calls.filter((c) => c.end <= target.end).sort((a, b) => a.start - b.start || a.end - b.end);
  const best = new Map<AwsCall, { len: number; prev?: AwsCall }>();
  for (const c of before) {
    let len = 1;
    let prev: AwsCall | undefined;
    for (const d of before) {
      if (d === c || d.end > c.start + OVERLAP_TOLERANCE_MS) continue;
      const b = best.get(d);
      if (b && b.len + 1 > len) {
        len = b.len + 1;
        prev = d;
      }
    }
    best.set(c, { len, ...(prev ? { prev } : {}) });
  }
  const path: AwsCall[] = [];
  for (let c: AwsCall | undefined = target; c; c = best.get(c)?.prev) path.unshift(c);
  return path;
}

/** Journal time of the first event of a type, epoch ms. */
export function tsOf(events: readonly JournalEntry[], type: string): number | undefined {
  const e = events.find((x) => x.type === type);
  return e ? Date.parse(e.ts) : undefined;
}
