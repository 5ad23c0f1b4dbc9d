import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimClock } from '../../src/core/clock.js';
import { Journal } from '../../src/audit/journal.js';
import { encodeHead, verifyJournal } from '../../src/audit/verify.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

let dir: string;
let file: string;
let lines: string[];

/** A ten-line journal as the runner writes it. */
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fb-verify-'));
  file = join(dir, 'journal.jsonl');
  const clock = new SimClock('2026-03-01T10:00:00Z');
  const j = Journal.open(file, { clock });
  j.append('run.started', { runId: 'r1', playbook: 'isolate-instance' });
  for (let i = 2; i <= 9; i++) {
    clock.advance(1000);
    j.append('step.planned', {
      step: `s${i}`,
      changes: [{ resource: `i-${i}`, field: 'security groups', before: ['sg-1'], after: ['sg-q'] }],
    });
  }
  j.append('run.ended', { status: 'succeeded' });
  j.close();
  lines = readFileSync(file, 'utf8').split('\n').slice(0, -1);
  expect(lines).toHaveLength(10);
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Line n (1-based) of the original journal. */
const L = (n: number) => lines[n - 1]!;
const range = (from: number, to: number) => lines.slice(from - 1, to);
const write = (ls: string[]) => writeFileSync(file, ls.map((l) => `${l}\n`).join(''));
/** A line with its seq changed and its prev set, as a forger who knows the format would write it. */
const forge = (n: number, seq: number, prev: string) =>
  L(n)
    .replace(/^\{"seq":\d+/, `{"seq":${seq}`)
    .replace(/"prev":"[0-9a-f]{64}"/, `"prev":"${prev}"`);

describe('verifyJournal', () => {
  it('accepts an untouched journal and returns its head hash', () => {
    expect(verifyJournal(file)).toEqual({ ok: true, events: 10, head: sha256(L(10)) });
  });

  it('recognises a line written completely after the last head update (a kill before the head moved) as a crash, not tampering', () => {
    writeFileSync(join(dir, 'journal.head'), encodeHead({ seq: 9, sha256: sha256(L(9)) }));
    expect(verifyJournal(file)).toEqual({
      ok: true,
      events: 10,
      head: sha256(L(10)),
      recovered: 1,
      note: 'recovered: 1 line written after the last head update, chain intact',
    });
  });

  it('still refuses lines past the head that go back in time (a copy appended by hand)', () => {
    writeFileSync(join(dir, 'journal.head'), encodeHead({ seq: 9, sha256: sha256(L(9)) }));
    write([...range(1, 9), forge(2, 10, sha256(L(9)))]);
    expect(verifyJournal(file)).toMatchObject({ ok: false, line: 10, reason: expect.stringMatching(/^line 10: not confirmed by/) });
  });

  it.each<[string, () => string[], number, RegExp]>([
    [
      'a field edited in a middle line',
      () => [...range(1, 3), L(4).replace('"step":"s4"', '"step":"sX"'), ...range(5, 10)],
      4,
      /^line 4: changed after it was written: line 5's prev is not its hash$/,
    ],
    [
      'a field edited in the first line',
      () => [L(1).replace('isolate-instance', 'other'), ...range(2, 10)],
      1,
      /^line 1: changed after it was written/,
    ],
    [
      "the first line's prev edited",
      () => [L(1).replace(/"prev":"0+"/, `"prev":"${'1'.repeat(64)}"`), ...range(2, 10)],
      1,
      /^line 1: changed after it was written: the first line's prev must be 64 zeros$/,
    ],
    [
      "a middle line's prev edited",
      () => [...range(1, 6), L(7).replace(/"prev":"[0-9a-f]{64}"/, `"prev":"${'a'.repeat(64)}"`), ...range(8, 10)],
      7,
      /^line 7: changed after it was written/,
    ],
    [
      'the last line edited',
      () => [...range(1, 9), L(10).replace('succeeded', 'failed')],
      10,
      /^line 10: changed after it was written: its hash does not match .*journal\.head$/,
    ],
    [
      'a middle line deleted',
      () => [...range(1, 4), ...range(6, 10)],
      5,
      /^line 5: removed: seq jumps from 4 to 6 \(1 line missing here\)$/,
    ],
    [
      'three middle lines deleted',
      () => [...range(1, 4), ...range(8, 10)],
      5,
      /^line 5: removed: seq jumps from 4 to 8 \(3 lines missing here\)$/,
    ],
    ['the first line deleted', () => range(2, 10), 1, /^line 1: removed: seq jumps from 0 to 2/],
    [
      'the last line deleted',
      () => range(1, 9),
      10,
      /^line 10: removed: .*journal\.head records 10 lines but the journal ends at line 9 \(1 line cut from the end\)$/,
    ],
    [
      'two adjacent lines swapped',
      () => [...range(1, 3), L(5), L(4), ...range(6, 10)],
      4,
      /^line 4: reordered: lines 4 and 5 were swapped$/,
    ],
    [
      'two distant lines swapped',
      () => [L(1), L(8), ...range(3, 7), L(2), ...range(9, 10)],
      2,
      /^line 2: reordered: seq 8 is here but seq 2 comes later$/,
    ],
    [
      'a copy of an earlier line inserted',
      () => [...range(1, 6), L(3), ...range(7, 10)],
      7,
      /^line 7: inserted: line 8 continues the chain from line 6$/,
    ],
    [
      'a forged line with the right seq and prev inserted',
      () => [...range(1, 4), forge(2, 5, sha256(L(4))), ...range(5, 10)],
      5,
      /^line 5: inserted: line 6 has the same seq and prev/,
    ],
    [
      // A chained line past the head is what a kill before the head update leaves (accepted above,
      // as a crash); one whose time goes backwards was not written by the journal's writer.
      'a forged line appended after the last',
      () => [...lines, forge(2, 11, sha256(L(10)))],
      11,
      /^line 11: not confirmed by .*journal\.head, which records 10 lines/,
    ],
    ['an empty line inserted', () => [...range(1, 2), '', ...range(3, 10)], 3, /^line 3: empty line$/],
    ['a line that is not an event', () => [...range(1, 2), '{"hello":"world"}', ...range(4, 10)], 3, /^line 3: not a journal event/],
    ['the tail cut mid-line', () => [...range(1, 9), L(10).slice(0, 30)], 10, /^line 10: incomplete \(no newline\)/],
  ])('detects %s', (_name, tamper, line, reason) => {
    const tampered = tamper();
    // The tail-cut case writes its last line without a newline.
    if (reason.source.includes('incomplete'))
      writeFileSync(
        file,
        tampered
          .slice(0, -1)
          .map((l) => `${l}\n`)
          .join('') + tampered.at(-1),
      );
    else write(tampered);
    const result = verifyJournal(file);
    expect(result).toEqual({ ok: false, line, reason: expect.stringMatching(reason) });
  });

  it('reports a missing head file, unless told the journal was copied alone', () => {
    unlinkSync(join(dir, 'journal.head'));
    expect(verifyJournal(file)).toEqual({
      ok: false,
      line: 11,
      reason: expect.stringMatching(/^line 11: cannot check the end of the journal: .*journal\.head is missing/),
    });
    expect(verifyJournal(file, { headFile: false })).toMatchObject({ ok: true, events: 10 });
  });

  it('reports a damaged head file', () => {
    writeFileSync(join(dir, 'journal.head'), '{"seq":"ten"}');
    expect(verifyJournal(file)).toMatchObject({ ok: false, line: 0, reason: expect.stringMatching(/journal\.head: expected \{"seq": n/) });
  });

  it('reads a journal larger than its read buffer, lines spanning chunk boundaries', () => {
    const big = join(dir, 'big', 'journal.jsonl');
    const j = Journal.open(big, { clock: new SimClock() });
    const pad = 'x'.repeat(50_000);
    for (let i = 0; i < 120; i++) j.append('step.note', { i, pad });
    j.close();
    const text = readFileSync(big, 'utf8');
    expect(text.length).toBeGreaterThan(5 << 20);
    expect(verifyJournal(big)).toMatchObject({ ok: true, events: 120 });

    const all = text.split('\n').slice(0, -1);
    all[100] = all[100]!.replace('"i":100', '"i":999');
    writeFileSync(big, `${all.join('\n')}\n`);
    expect(verifyJournal(big)).toMatchObject({ ok: false, line: 101 });
  });
});
