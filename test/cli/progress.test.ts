/**
 * Progress for long steps: a map step's items done and failed, a wait's remaining time, a long
 * apply's AWS calls. Redrawn in place on a terminal; plain, sparse lines elsewhere. Driven by
 * journal events and a clock of the test's own (no real time passes).
 */
import { describe, expect, it } from 'vitest';
import { durationWords, progressPrinter } from '../../src/cli/display.js';

function stream(isTTY: boolean) {
  const chunks: string[] = [];
  const s = { isTTY, columns: 200, write: (t: string) => chunks.push(t) > 0 } as unknown as NodeJS.WriteStream;
  return { s, text: () => chunks.join(''), chunks };
}

const t0 = Date.parse('2026-01-01T00:00:00Z');

describe('progress printer', () => {
  it('off a terminal: map progress at each tenth and at the end, the wait time once, never redrawn', () => {
    const out = stream(false);
    const now = t0;
    const p = progressPrinter({ stream: out.s, now: () => now });
    p.onEvent({ type: 'step.started', step: 'block', action: 'ec2.deny-nacl-entries' });
    p.onEvent({ type: 'step.planned', step: 'block', items: 20, plan: { changes: [], alreadyDone: false, notes: [] } });
    p.onEvent({ type: 'step.applying', step: 'block' });
    for (let i = 0; i < 20; i++) {
      if (i === 7)
        p.onEvent({ type: 'item.failed', step: 'block', index: i, error: { code: 'NetworkAclEntryLimitExceeded', message: 'limit' } });
      else p.onEvent({ type: 'item.completed', step: 'block', index: i });
    }
    p.onEvent({ type: 'wait.started', step: 'watch', until: new Date(t0 + 15 * 60_000).toISOString() });
    const text = out.text();
    expect(text).not.toContain('\r');
    const counts = text.split('\n').filter((l) => l.startsWith('  block: '));
    expect(counts).toEqual([
      '  block: 2/20 done',
      '  block: 4/20 done',
      '  block: 6/20 done',
      '  block: 8/20 done, 1 failed',
      '  block: 10/20 done, 1 failed',
      '  block: 12/20 done, 1 failed',
      '  block: 14/20 done, 1 failed',
      '  block: 16/20 done, 1 failed',
      '  block: 18/20 done, 1 failed',
      '  block: 20/20 done, 1 failed',
    ]);
    expect(text).toContain('✖ item 7: NetworkAclEntryLimitExceeded: limit');
    expect(text).toContain('(15m 0s from now)');
    p.dispose();
  });

  it('on a terminal: one line redrawn in place, paused while a prompt asks, cleared when the run ends', () => {
    const out = stream(true);
    let now = t0;
    const p = progressPrinter({ stream: out.s, now: () => now });
    p.onEvent({ type: 'step.planned', step: 'block', items: 3, plan: { changes: [], alreadyDone: false, notes: [] } });
    p.onEvent({ type: 'item.completed', step: 'block', index: 0 });
    expect(out.chunks.at(-1)).toContain('block 1/3');
    p.onEvent({ type: 'item.failed', step: 'block', index: 1, error: { code: 'X', message: 'y' } });
    expect(out.chunks.at(-1)).toContain('block 2/3 (1 failed)');
    p.onEvent({ type: 'wait.started', step: 'watch', until: new Date(t0 + 90_000).toISOString() });
    now += 30_000;
    p.onEvent({ type: 'note', step: 'watch', message: 'tick' });
    expect(out.chunks.at(-1)).toMatch(/block 2\/3 \(1 failed\) · watch 1m 0s left/);
    // A prompt is on screen: nothing is drawn over it.
    p.onEvent({ type: 'approval.requested', step: 'other', policy: 'required', changes: 1 });
    const asked = out.chunks.length;
    p.onEvent({ type: 'item.completed', step: 'block', index: 2 });
    expect(out.chunks.slice(asked).join('')).not.toContain('block 3/3');
    p.onEvent({ type: 'approval.answered', step: 'other', decision: 'approve', by: 'me' });
    expect(out.chunks.at(-1)).toContain('block 3/3');
    // The line is erased before ordinary output and gone after the run ends.
    p.onEvent({ type: 'run.ended', status: 'succeeded' });
    const tail = out.text().slice(out.text().lastIndexOf('\r\x1b[2K'));
    expect(tail).toBe('\r\x1b[2K■ run succeeded\n');
    p.dispose();
  });

  it('shows a long apply with its AWS calls once it has run for two seconds', () => {
    const out = stream(true);
    let now = t0;
    const p = progressPrinter({ stream: out.s, now: () => now });
    p.onEvent({ type: 'step.applying', step: 'snapshot' });
    p.onEvent({ type: 'aws.call', step: 'snapshot', service: 'ec2', operation: 'CreateSnapshots', status: 200, durationMs: 5 });
    expect(out.text()).not.toContain('applying');
    now += 12_000;
    p.onEvent({ type: 'aws.call', step: 'snapshot', service: 'ec2', operation: 'DescribeSnapshots', status: 200, durationMs: 5 });
    expect(out.chunks.at(-1)).toContain('snapshot applying 12s, 2 AWS calls');
    p.onEvent({ type: 'step.applied', step: 'snapshot', action: 'ec2.snapshot', output: {} });
    now += 5_000;
    p.onEvent({ type: 'note', step: 'snapshot', message: 'x' });
    expect(out.chunks.at(-1)).not.toContain('applying');
    p.dispose();
  });

  it.each([
    [0, '0s'],
    [999, '1s'],
    [59_000, '59s'],
    [61_000, '1m 1s'],
    [3_600_000 + 120_000, '1h 2m'],
  ])('durationWords(%i) = %s', (ms, text) => {
    expect(durationWords(ms)).toBe(text);
  });
});
