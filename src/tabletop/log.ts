/**
 * The exercise timeline: everything that happened, stamped with simulated time. The facilitator
 * view prints it as it grows; the score, the after-action report and the JSON result are made
 * from it. It holds no wall-clock time and no random id, so one scenario, seed and set of
 * decisions always give the same timeline.
 */
import type { Clock } from '../core/clock.js';

export type EntryKind =
  | 'alert'
  | 'duplicate'
  | 'run'
  | 'decision'
  | 'step'
  | 'attacker'
  | 'player'
  | 'ops'
  | 'note'
  | 'question'
  | 'objective'
  | 'snapshot';

export interface TimelineEntry {
  seq: number;
  /** Simulated time, ISO 8601. */
  at: string;
  /** Milliseconds since the exercise started. */
  t: number;
  kind: EntryKind;
  text: string;
  /** For attacker and player actions: whether it worked. */
  ok?: boolean;
  /** What the players should learn from this outcome. */
  lesson?: string;
  /** The inject, run, step or objective this entry is about. */
  ref?: string;
  detail?: string;
}

export type EntryInput = Omit<TimelineEntry, 'seq' | 'at' | 't'>;

export class ExerciseLog {
  readonly entries: TimelineEntry[] = [];
  private readonly listeners = new Set<(e: TimelineEntry) => void>();

  constructor(
    private readonly clock: Clock,
    readonly start: Date,
  ) {}

  add(entry: EntryInput): TimelineEntry {
    const now = this.clock.now();
    const e: TimelineEntry = { seq: this.entries.length + 1, at: now.toISOString(), t: now.getTime() - this.start.getTime(), ...entry };
    this.entries.push(e);
    for (const l of this.listeners) l(e);
    return e;
  }

  onEntry(listener: (e: TimelineEntry) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** `T+01:05` (hours:minutes since the start; seconds when there are any). */
export function elapsed(ms: number): string {
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const hm = `T+${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
  return s ? `${hm}:${String(s).padStart(2, '0')}` : hm;
}
