/**
 * Simulated time of an exercise. Time moves only forward, only here: to the next inject, by the
 * minutes a decision takes, or when the engine sleeps (a wait step, a retry backoff). Whatever was
 * scheduled in between fires at its own time, in order, so the attacker acts while the players
 * deliberate. After every move the owner is told (DLM schedules run, objectives are checked).
 *
 * Moves are serialized: two parallel branches deciding at once take their minutes one after the
 * other, as one team would.
 */
import type { Clock, SimClock } from '../core/clock.js';

interface Scheduled {
  at: number; // ms since start
  seq: number;
  label: string;
  fire: () => Promise<void>;
  /** Bookkeeping (a deadline check): it never keeps the exercise going by itself. */
  internal: boolean;
}

export interface SchedulerOptions {
  /** After the clock moved (DLM, objectives). */
  onMoved: (now: Date) => void;
  /** Real-time pacing: wait this long for each simulated move (`--speed`). */
  pace?: (simulatedMs: number) => Promise<void>;
}

export class Scheduler {
  private readonly queue: Scheduled[] = [];
  private seq = 0;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly clock: SimClock,
    readonly start: Date,
    private readonly opts: SchedulerOptions,
  ) {}

  /** Milliseconds since the start. */
  elapsed(): number {
    return this.clock.now().getTime() - this.start.getTime();
  }

  schedule(atMs: number, label: string, fire: () => Promise<void>, opts: { internal?: boolean } = {}): void {
    const item = { at: atMs, seq: ++this.seq, label, fire, internal: !!opts.internal };
    const i = this.queue.findIndex((q) => q.at > atMs);
    if (i < 0) this.queue.push(item);
    else this.queue.splice(i, 0, item);
  }

  /** When the next item that is not bookkeeping fires, or undefined. */
  nextAt(): number | undefined {
    return this.queue.find((q) => !q.internal)?.at;
  }

  /** What is still scheduled (bookkeeping left out). */
  pending(): ReadonlyArray<{ at: number; label: string }> {
    return this.queue.filter((q) => !q.internal).map(({ at, label }) => ({ at, label }));
  }

  /** Move to `targetMs` (never backwards), firing everything due on the way. */
  advanceTo(targetMs: number): Promise<void> {
    return this.serialized(() => this.move(targetMs));
  }

  /** Move `ms` past wherever the clock is when the earlier moves are done. */
  advanceBy(ms: number): Promise<void> {
    return this.serialized(() => this.move(this.elapsed() + ms));
  }

  // Scheduled items never move the clock themselves (alerts are queued, actions do not sleep),
  // so a move never waits on itself.
  private serialized(fn: () => Promise<void>): Promise<void> {
    const run = this.chain.then(fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** A Clock for the engine: its sleeps (wait steps, retry backoff) move the exercise's time. */
  engineClock(): Clock {
    return { now: () => this.clock.now(), sleep: (ms) => this.advanceBy(ms) };
  }

  private async move(targetMs: number): Promise<void> {
    for (;;) {
      const next = this.queue[0];
      if (!next || next.at > targetMs) break;
      this.queue.shift();
      await this.step(next.at);
      await next.fire();
    }
    await this.step(targetMs);
  }

  private async step(toMs: number): Promise<void> {
    const delta = toMs - this.elapsed();
    if (delta <= 0) return;
    await this.opts.pace?.(delta);
    this.clock.set(this.start.getTime() + toMs);
    this.opts.onMoved(this.clock.now());
  }
}
