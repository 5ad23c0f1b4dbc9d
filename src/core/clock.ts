/**
 * Time, injectable. Production uses the system clock; the simulated cloud and tabletop
 * exercises use a SimClock whose time advances only when told (or when something sleeps on it).
 */
export interface Clock {
  now(): Date;
  /** Resolve after `ms` of this clock's time. A SimClock advances itself instead of waiting. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const t = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(t);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

/** A clock that only moves when advanced; `sleep` advances it (discrete-event style). */
export class SimClock implements Clock {
  private t: number;
  constructor(start: Date | string | number = '2026-01-01T00:00:00Z') {
    this.t = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.t);
  }
  advance(ms: number): void {
    if (ms > 0) this.t += ms;
  }
  set(to: Date | string | number): void {
    const v = new Date(to).getTime();
    if (v > this.t) this.t = v;
  }
  async sleep(ms: number): Promise<void> {
    this.advance(ms);
  }
}

/** Parse `90s`, `15m`, `2h`, `1d`, `500ms` or a bare number of seconds. Returns milliseconds. */
export function parseDuration(text: string | number): number {
  if (typeof text === 'number') return text * 1000;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!m) throw new Error(`not a duration: '${text}' (use e.g. 30s, 15m, 2h)`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  const mult = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit]!;
  return n * mult;
}
