import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimClock } from '../../src/core/clock.js';
import { Journal, type JournalEvent } from '../../src/audit/journal.js';
import { verifyJournal, ZERO_HASH } from '../../src/audit/verify.js';
import { REDACTED } from '../../src/audit/redact.js';

const sha256 = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');
const linesOf = (file: string) => readFileSync(file, 'utf8').split('\n').slice(0, -1);

let dir: string;
let file: string;
let clock: SimClock;
const open: Journal[] = [];

function openJournal(): Journal {
  const j = Journal.open(file, { clock });
  open.push(j);
  return j;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fb-journal-'));
  file = join(dir, 'runs', 'r1', 'journal.jsonl');
  clock = new SimClock('2026-03-01T10:00:00Z');
});

afterEach(() => {
  for (const j of open.splice(0)) j.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Journal', () => {
  it('writes a hash chain: seq from 1, prev = sha256 of the previous line, keys in a fixed order', () => {
    const j = openJournal();
    j.append('run.started', { runId: 'r1', playbook: 'isolate' });
    clock.advance(1500);
    j.append('step.planned', { step: 'isolate', 10: 'integer-like key', changes: [] });
    j.append('run.ended', {});
    j.close();

    const lines = linesOf(file);
    expect(lines).toHaveLength(3);
    const events = lines.map((l) => JSON.parse(l) as JournalEvent);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(events[0]!.prev).toBe(ZERO_HASH);
    expect(events[1]!.prev).toBe(sha256(lines[0]!));
    expect(events[2]!.prev).toBe(sha256(lines[1]!));
    expect(events[1]!.ts).toBe('2026-03-01T10:00:01.500Z');
    // The line itself reads seq, ts, type first and prev last, whatever the field names.
    expect(lines[1]).toMatch(/^\{"seq":2,"ts":"[^"]+","type":"step\.planned",.*,"prev":"[0-9a-f]{64}"\}$/);
    expect(Object.keys(JSON.parse(lines[0]!))).toEqual(['seq', 'ts', 'type', 'runId', 'playbook', 'prev']);

    expect(JSON.parse(readFileSync(join(dir, 'runs', 'r1', 'journal.head'), 'utf8'))).toEqual({ seq: 3, sha256: sha256(lines[2]!) });
    expect(verifyJournal(file)).toEqual({ ok: true, events: 3, head: sha256(lines[2]!) });
  });

  it('returns the event as written and keeps every event in memory', () => {
    const j = openJournal();
    const e = j.append('step.applied', { step: 'a', at: new Date('2026-01-02T03:04:05Z'), skip: undefined });
    expect(e).toEqual({
      seq: 1,
      ts: '2026-03-01T10:00:00.000Z',
      type: 'step.applied',
      step: 'a',
      at: '2026-01-02T03:04:05.000Z',
      prev: ZERO_HASH,
    });
    j.append('step.verified', { step: 'a' });
    expect(j.events().map((x) => x.type)).toEqual(['step.applied', 'step.verified']);
    expect(Journal.read(file)).toEqual(j.events());
  });

  it('continues the chain after reopening', () => {
    const j1 = openJournal();
    j1.append('run.started', { runId: 'r1' });
    j1.append('step.planned', { step: 'a' });
    j1.close();

    const j2 = openJournal();
    expect(j2.events().map((e) => e.seq)).toEqual([1, 2]);
    const e = j2.append('run.resumed', { by: 'alice' });
    j2.close();

    const lines = linesOf(file);
    expect(e.seq).toBe(3);
    expect(e.prev).toBe(sha256(lines[1]!));
    expect(verifyJournal(file)).toMatchObject({ ok: true, events: 3 });
  });

  it('redacts secrets before writing', () => {
    const j = openJournal();
    j.append('aws.call', {
      operation: 'CreateAccessKey',
      output: { AccessKey: { AccessKeyId: 'AKIAIOSFODNN7EXAMPLE', SecretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' } },
    });
    j.close();
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('wJalrXUtnFEMI');
    expect(text).toContain('AKIAIOSFODNN7EXAMPLE');
    expect(text).toContain(REDACTED);
  });

  it.each([
    ['a reserved field', 'step.planned', { seq: 9 }, /field 'seq' is reserved/],
    ['a reserved field (prev)', 'step.planned', { prev: 'x' }, /field 'prev' is reserved/],
    ['a bad event type', 'Step Planned', {}, /is not an event type/],
  ])('refuses %s and writes nothing', (_name, type, fields, message) => {
    const j = openJournal();
    j.append('run.started', {});
    const before = readFileSync(file, 'utf8');
    expect(() => j.append(type, fields)).toThrow(message);
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(j.append('run.ended', {}).seq).toBe(2);
  });

  it('tells subscribers about each durable event until they unsubscribe', () => {
    const j = openJournal();
    const seen: number[] = [];
    const off = j.onAppend((e) => seen.push(e.seq));
    j.append('a.one', {});
    j.append('a.two', {});
    off();
    j.append('a.three', {});
    expect(seen).toEqual([1, 2]);
  });

  it('reports a failing subscriber after the event is written', () => {
    const j = openJournal();
    j.onAppend(() => {
      throw new Error('display broke');
    });
    expect(() => j.append('a.one', {})).toThrow(/failed to show journal event 1 \(a\.one\): display broke/);
    expect(linesOf(file)).toHaveLength(1);
  });

  describe("records written with sync 'later'", () => {
    const headOf = () => JSON.parse(readFileSync(join(dir, 'runs', 'r1', 'journal.head'), 'utf8')) as { seq: number; sha256: string };

    it('are in the file at once; the head reaches them only after their background flush, never before', async () => {
      const j = openJournal();
      j.append('run.started', {});
      j.append('aws.call', { operation: 'DescribeInstances' }, { sync: 'later' });
      j.append('aws.call', { operation: 'CreateTags' }, { sync: 'later' });
      // Written: a killed process would leave them in the file.
      expect(linesOf(file).map((l) => JSON.parse(l).type)).toEqual(['run.started', 'aws.call', 'aws.call']);
      expect(headOf().seq).toBe(1);
      for (let i = 0; i < 200 && headOf().seq < 3; i++) await new Promise((r) => setTimeout(r, 5));
      expect(headOf()).toEqual({ seq: 3, sha256: sha256(linesOf(file)[2]!) });
      expect(verifyJournal(file)).toMatchObject({ ok: true, events: 3 });
    });

    it('are made durable by the next decision and by close', () => {
      const j = openJournal();
      j.append('aws.call', { operation: 'DescribeInstances' }, { sync: 'later' });
      j.append('step.applied', { step: 'a' });
      expect(headOf().seq).toBe(2);
      j.append('aws.call', { operation: 'CreateTags' }, { sync: 'later' });
      j.close();
      expect(headOf()).toEqual({ seq: 3, sha256: sha256(linesOf(file)[2]!) });
      expect(verifyJournal(file)).toMatchObject({ ok: true, events: 3 });
    });

    it('do not run the beforeSync hooks; each decision runs them before it is written', () => {
      const j = openJournal();
      const seen: number[] = [];
      j.beforeSync(() => seen.push(linesOf(file).length));
      j.append('aws.call', { operation: 'CreateTags' }, { sync: 'later' });
      expect(seen).toEqual([]);
      j.append('step.applied', { step: 'a' });
      expect(seen).toEqual([1]); // the hook ran while the file held the record only
    });

    it('a failing hook fails the decision, which is not written', () => {
      const j = openJournal();
      j.append('run.started', {});
      const off = j.beforeSync(() => {
        throw new Error('disk full');
      });
      expect(() => j.append('step.applied', { step: 'a' })).toThrow(/failed to append step.applied to journal .*: disk full/);
      expect(linesOf(file)).toHaveLength(1);
      off();
      j.append('step.applied', { step: 'a' });
      expect(verifyJournal(file)).toMatchObject({ ok: true, events: 2 });
    });
  });

  it('refuses a second writer in the same process, and appends after close', () => {
    const j = openJournal();
    expect(() => Journal.open(file)).toThrow(/already open in this process/);
    j.close();
    expect(() => j.append('a.one', {})).toThrow(/the journal is closed/);
  });

  describe('torn final line', () => {
    it('moves a torn last line aside, records its hash, and continues the chain', () => {
      const j = openJournal();
      j.append('run.started', {});
      j.append('step.planned', { step: 'a' });
      j.close();
      const torn = '{"seq":3,"ts":"2026-03-01T10:00:00.000Z","type":"step.app';
      appendFileSync(file, torn);

      const j2 = openJournal();
      const events = j2.events();
      expect(events.map((e) => e.type)).toEqual(['run.started', 'step.planned', 'journal.repaired']);
      expect(events[2]).toMatchObject({
        seq: 3,
        reason: 'torn-line',
        line: 3,
        movedTo: 'journal.torn-1.jsonl',
        bytes: torn.length,
        sha256: sha256(torn),
      });
      expect(readFileSync(join(dir, 'runs', 'r1', 'journal.torn-1.jsonl'), 'utf8')).toBe(torn);
      j2.append('run.resumed', {});
      j2.close();
      expect(linesOf(file).every((l) => JSON.parse(l))).toBe(true);
      expect(verifyJournal(file)).toMatchObject({ ok: true, events: 4 });
    });

    it('treats a complete-looking last line without its newline as torn too (it was never fsynced)', () => {
      const j = openJournal();
      j.append('run.started', {});
      j.close();
      const full = readFileSync(file, 'utf8');
      // The line the crashed writer was writing, all but its newline.
      const prevHash = sha256(full.slice(0, -1));
      appendFileSync(file, `{"seq":2,"ts":"2026-03-01T10:00:00.000Z","type":"step.planned","prev":"${prevHash}"}`);
      const j2 = openJournal();
      expect(j2.events().map((e) => e.type)).toEqual(['run.started', 'journal.repaired']);
      expect(existsSync(join(dir, 'runs', 'r1', 'journal.torn-1.jsonl'))).toBe(true);
    });

    it('picks the next free torn file name', () => {
      const j = openJournal();
      j.append('run.started', {});
      j.close();
      writeFileSync(join(dir, 'runs', 'r1', 'journal.torn-1.jsonl'), 'earlier');
      appendFileSync(file, '{"seq":2,');
      const j2 = openJournal();
      expect(j2.events()[1]).toMatchObject({ movedTo: 'journal.torn-2.jsonl' });
      expect(readFileSync(join(dir, 'runs', 'r1', 'journal.torn-1.jsonl'), 'utf8')).toBe('earlier');
    });

    it('refuses a last line without newline that the head shows was written completely', () => {
      const j = openJournal();
      j.append('run.started', {});
      j.append('step.planned', {});
      j.close();
      const text = readFileSync(file, 'utf8');
      writeFileSync(file, text.slice(0, -1));
      expect(() => Journal.open(file)).toThrow(/line 2 has no newline, but journal\.head shows it was written completely/);
      expect(readFileSync(file, 'utf8')).toBe(text.slice(0, -1));
      expect(readdirSync(join(dir, 'runs', 'r1')).filter((f) => f.includes('torn'))).toEqual([]);
    });
  });

  it.each([
    ['a complete last line that is not JSON', (lines: string[]) => [...lines.slice(0, 2), '{"seq":3,"ts":'], /line 3 is not valid JSON/],
    ['a middle line that is not JSON', (lines: string[]) => [lines[0]!, 'garbage', lines[2]!], /line 2 is not valid JSON/],
    [
      'an edited middle line',
      (lines: string[]) => [lines[0]!, lines[1]!.replace('"step":"a"', '"step":"b"'), lines[2]!],
      /line 2: changed after it was written/,
    ],
  ])('refuses to open a journal with %s, naming the line, and changes nothing', (_name, tamper, message) => {
    const j = openJournal();
    j.append('run.started', {});
    j.append('step.planned', { step: 'a' });
    j.append('step.applied', { step: 'a' });
    j.close();
    const bad = `${tamper(linesOf(file)).join('\n')}\n`;
    writeFileSync(file, bad);
    expect(() => Journal.open(file)).toThrow(message);
    expect(readFileSync(file, 'utf8')).toBe(bad);
  });

  it('refuses to open a journal whose tail was cut off', () => {
    const j = openJournal();
    j.append('run.started', {});
    j.append('step.planned', {});
    j.close();
    writeFileSync(file, `${linesOf(file)[0]}\n`);
    expect(() => Journal.open(file)).toThrow(/line 2: removed: .*journal\.head records 2 lines but the journal ends at line 1/);
  });

  it.each([
    ['missing', (headFile: string) => unlinkSync(headFile), 'head-missing'],
    [
      'behind the journal (a crash before the head write)',
      (headFile: string, firstLine: string) => writeFileSync(headFile, JSON.stringify({ seq: 1, sha256: sha256(firstLine) })),
      'head-behind',
    ],
  ])('rebuilds a head that is %s and records the repair', (_name, damage, reason) => {
    const j = openJournal();
    j.append('run.started', {});
    j.append('step.planned', {});
    j.close();
    const headFile = join(dir, 'runs', 'r1', 'journal.head');
    damage(headFile, linesOf(file)[0]!);
    // A head behind complete, chained lines is a crash (verify says so); a missing head is not checkable.
    expect(verifyJournal(file)).toMatchObject(reason === 'head-behind' ? { ok: true, recovered: 1 } : { ok: false });

    const j2 = openJournal();
    expect(j2.events()[2]).toMatchObject({ type: 'journal.repaired', reason });
    j2.close();
    expect(verifyJournal(file)).toMatchObject({ ok: true, events: 3 });
  });

  it('reads events without the unfinished last line, and names a bad line', () => {
    const j = openJournal();
    j.append('run.started', {});
    j.close();
    appendFileSync(file, '{"seq":2,"ts":"2026');
    expect(Journal.read(file).map((e) => e.type)).toEqual(['run.started']);
    writeFileSync(file, `${readFileSync(file, 'utf8')}\n`);
    expect(() => Journal.read(file)).toThrow(/failed to read journal .*: line 2 is not valid JSON/);
  });
});
