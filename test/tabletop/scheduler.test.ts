/** Simulated time: injects fire at their own times, in order, while decisions take their minutes. */
import { describe, expect, it } from 'vitest';
import { SimClock } from '../../src/core/clock.js';
import { Scheduler } from '../../src/tabletop/scheduler.js';

const START = new Date('2026-01-01T00:00:00Z');
const min = (n: number) => n * 60_000;

function setup() {
  const clock = new SimClock(START);
  const moved: number[] = [];
  const paced: number[] = [];
  const s = new Scheduler(clock, START, {
    onMoved: (now) => moved.push(now.getTime() - START.getTime()),
    pace: async (ms) => void paced.push(ms),
  });
  const fired: Array<[string, number]> = [];
  const at = (m: number, label: string) => s.schedule(min(m), label, async () => void fired.push([label, s.elapsed()]));
  return { clock, s, moved, paced, fired, at };
}

describe('Scheduler', () => {
  it('a decision that takes 5 minutes lets everything due meanwhile fire at its own time, in time order', async () => {
    const { s, fired, at, moved, paced } = setup();
    at(3, 'exfiltrate');
    at(1, 'check');
    at(3, 'wipe');
    at(9, 'later');
    await s.advanceBy(min(5));
    expect(fired).toEqual([
      ['check', min(1)],
      ['exfiltrate', min(3)],
      ['wipe', min(3)],
    ]);
    expect(s.elapsed()).toBe(min(5));
    expect(moved).toEqual([min(1), min(3), min(5)]);
    // --speed paces each simulated move, never the same instant twice.
    expect(paced).toEqual([min(1), min(2), min(2)]);
    expect(s.pending()).toEqual([{ at: min(9), label: 'later' }]);
  });

  it('two decisions at once take their time one after the other; the engine clock sleeps the same way', async () => {
    const { s } = setup();
    await Promise.all([s.advanceBy(min(2)), s.advanceBy(min(2))]);
    expect(s.elapsed()).toBe(min(4));
    await s.engineClock().sleep(30_000);
    expect(s.elapsed()).toBe(min(4) + 30_000);
    expect(s.engineClock().now().toISOString()).toBe('2026-01-01T00:04:30.000Z');
  });

  it('never moves backwards, and bookkeeping items do not count as what comes next', async () => {
    const { s, fired, at } = setup();
    await s.advanceTo(min(10));
    await s.advanceTo(min(4));
    expect(s.elapsed()).toBe(min(10));
    s.schedule(min(12), 'deadline', async () => void fired.push(['deadline', s.elapsed()]), { internal: true });
    expect(s.nextAt()).toBeUndefined();
    at(15, 'inject');
    expect(s.nextAt()).toBe(min(15));
    await s.advanceTo(min(15));
    expect(fired.map(([l]) => l)).toEqual(['deadline', 'inject']);
  });
});
