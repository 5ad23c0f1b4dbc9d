/**
 * The journal's chain format and its checker (`firebreak audit verify`).
 *
 * Each line of `journal.jsonl` is `{"seq":n,"ts":"…","type":"…",…,"prev":"<sha256 of the
 * previous line's bytes>"}`; line 1's prev is 64 zeros. That chain makes any edit, deletion,
 * insertion or reordering visible at the next line, in the manner of CloudTrail's digest chain.
 * What a chain cannot show is its own tail being cut off, so `journal.head` records the seq and
 * hash of the last line written (see journal.ts for when it is written).
 *
 * The check streams the file once, hashes each line's raw bytes and reads only the seq prefix and
 * the fixed-width prev suffix of each line: the writer fixes that layout, and the hashes (the next
 * line's prev, or the head for the last line) vouch for every other byte. Nothing is JSON-parsed. When the chain breaks, the checker keeps reading to
 * tell an edit from a removal, an insertion or a reordering, and names the line to look at.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { hash } from 'node:crypto';
import { FirebreakError } from '../core/errors.js';

export const ZERO_HASH = '0'.repeat(64);

/**
 * On failure, `line` is the line to look at: the one changed, inserted or out of place, or where
 * lines are missing (one past the end for a cut tail); 0 when the head file itself is damaged.
 * `reason` starts with "line N:".
 */
export type VerifyResult =
  | { ok: true; events: number; head: string; recovered?: number; note?: string }
  | { ok: false; line: number; reason: string };

export interface HeadRecord {
  seq: number;
  sha256: string;
}

/** SHA-256 (hex) of one line's bytes, without its newline. */
export function lineHash(line: string | Uint8Array): string {
  return hash('sha256', line, 'hex');
}

/** `runs/x/journal.jsonl` → `runs/x/journal.head`. */
export function headPathFor(journalFile: string): string {
  return journalFile.endsWith('.jsonl') ? `${journalFile.slice(0, -'.jsonl'.length)}.head` : `${journalFile}.head`;
}

/**
 * The head record is rewritten in place, so it has a fixed size: every write covers the whole
 * previous record and a crash cannot leave a mix of two records' lengths.
 */
export const HEAD_SIZE = 128;

export function encodeHead(head: HeadRecord): Buffer {
  const json = JSON.stringify({ seq: head.seq, sha256: head.sha256 });
  // JSON.parse ignores the trailing spaces, so the file stays plain JSON.
  return Buffer.from(`${json.padEnd(HEAD_SIZE - 1, ' ')}\n`, 'utf8');
}

/** The head record, or undefined when there is no head file. Throws on a damaged one. */
export function readHead(headFile: string): HeadRecord | undefined {
  if (!existsSync(headFile)) return undefined;
  const text = readFileSync(headFile, 'utf8');
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new Error(`failed to read ${headFile}: not JSON: ${(err as Error).message}`);
  }
  const h = v as Partial<HeadRecord> | null;
  if (!h || !Number.isSafeInteger(h.seq) || h.seq! < 0 || typeof h.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(h.sha256)) {
    throw new Error(`failed to read ${headFile}: expected {"seq": n, "sha256": "<64 hex>"}`);
  }
  return { seq: h.seq!, sha256: h.sha256 };
}

export interface VerifyOptions {
  /** The head file to compare the tail with; `false` skips the tail check (a journal copied alone). */
  headFile?: string | false;
}

/** Check a journal's hash chain and its tail. Reads the file once, in chunks. */
export function verifyJournal(file: string, opts: VerifyOptions = {}): VerifyResult {
  const headFile = opts.headFile === undefined ? headPathFor(file) : opts.headFile;
  let head: HeadRecord | undefined;
  if (headFile !== false) {
    try {
      head = readHead(headFile);
    } catch (err) {
      return { ok: false, line: 0, reason: (err as Error).message };
    }
  }
  const checker = new ChainChecker(head?.seq ?? 0);
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw new FirebreakError(`failed to verify journal ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const chunk = Buffer.allocUnsafe(4 << 20);
    let carry: Buffer | undefined;
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      const data: Buffer = carry ? Buffer.concat([carry, chunk.subarray(0, n)]) : chunk.subarray(0, n);
      let start = 0;
      for (let nl = data.indexOf(10, start); nl !== -1; nl = data.indexOf(10, start)) {
        checker.line(data.subarray(start, nl));
        start = nl + 1;
      }
      // The unfinished line must be copied: `chunk` is reused by the next read.
      carry = start < data.length ? Buffer.from(data.subarray(start)) : undefined;
    }
    return checker.finish(carry, headFile === false ? false : head, headFile === false ? '' : headFile);
  } finally {
    closeSync(fd);
  }
}

/** What the checker keeps of one line. `seq` is NaN when the line is not an event. */
interface LineInfo {
  n: number;
  seq: number;
  prev: string;
  hash: string;
}

const PREFIX = Buffer.from('{"seq":');
const TS_KEY = Buffer.from(',"ts":"');
const PREV_KEY = Buffer.from(',"prev":"');
/** `,"prev":"` + 64 hex + `"}` */
const SUFFIX_LEN = PREV_KEY.length + 64 + 2;

/** Seq and prev read from the writer's fixed layout, without parsing the JSON between them. */
function inspect(n: number, bytes: Buffer): LineInfo {
  const hashHex = lineHash(bytes);
  const bad = { n, seq: NaN, prev: '', hash: hashHex };
  const len = bytes.length;
  if (len < PREFIX.length + 1 + TS_KEY.length + SUFFIX_LEN || bytes.compare(PREFIX, 0, PREFIX.length, 0, PREFIX.length) !== 0) return bad;
  let i = PREFIX.length;
  let seq = 0;
  for (; i < len && bytes[i]! >= 48 && bytes[i]! <= 57 && i < PREFIX.length + 15; i++) seq = seq * 10 + bytes[i]! - 48;
  if (i === PREFIX.length || bytes.compare(TS_KEY, 0, TS_KEY.length, i, i + TS_KEY.length) !== 0) return bad;
  const s = len - SUFFIX_LEN;
  if (bytes.compare(PREV_KEY, 0, PREV_KEY.length, s, s + PREV_KEY.length) !== 0 || bytes[len - 2] !== 34 || bytes[len - 1] !== 125)
    return bad;
  const prev = bytes.toString('latin1', s + PREV_KEY.length, len - 2);
  if (!/^[0-9a-f]{64}$/.test(prev)) return bad;
  return { n, seq, prev, hash: hashHex };
}

/** The first break in the chain, with the context `diagnose` needs. */
interface Break {
  cur: LineInfo;
  last?: LineInfo;
  next?: LineInfo;
  /** For a seq that jumps ahead: whether one of the skipped seqs appears further down. */
  seqComesLater: boolean;
}

const EMPTY_LINE_HASH = lineHash('');

class ChainChecker {
  private n = 0;
  private last: LineInfo | undefined;
  private hashAtHead: string | undefined;
  private failure: Break | undefined;
  /** Timestamps from the head's line on stay in order (what a writer killed before its head update leaves). */
  private tsInOrderAfterHead = true;
  private lastTs = '';

  constructor(private readonly headSeq: number) {}

  line(bytes: Buffer): void {
    const n = ++this.n;
    const f = this.failure;
    if (f) {
      // Past the first break: keep only what tells the cause apart.
      if (n === f.cur.n + 1) f.next = inspect(n, bytes);
      const seq = n === f.cur.n + 1 ? f.next!.seq : seqOf(bytes);
      if (f.cur.seq > f.cur.n && seq >= f.cur.n && seq < f.cur.seq) f.seqComesLater = true;
      return;
    }
    const info = inspect(n, bytes);
    const expectedPrev = this.last?.hash ?? ZERO_HASH;
    if (info.seq !== n || info.prev !== expectedPrev) {
      this.failure = { cur: info, seqComesLater: false, ...(this.last ? { last: this.last } : {}) };
      return;
    }
    if (n === this.headSeq) this.hashAtHead = info.hash;
    if (n >= this.headSeq) {
      const ts = tsOf(bytes);
      if (n > this.headSeq && !(ts >= this.lastTs)) this.tsInOrderAfterHead = false;
      this.lastTs = ts;
    }
    this.last = info;
  }

  finish(tail: Buffer | undefined, head: HeadRecord | undefined | false, headFile: string): VerifyResult {
    if (this.failure) return diagnose(this.failure, head || undefined);
    const count = this.n;
    if (tail && tail.length > 0) {
      return {
        ok: false,
        line: count + 1,
        reason: `line ${count + 1}: incomplete (no newline): a write was interrupted; reopening the run moves it aside`,
      };
    }
    if (head !== false) {
      if (head === undefined) {
        if (count > 0)
          return {
            ok: false,
            line: count + 1,
            reason: `line ${count + 1}: cannot check the end of the journal: ${headFile} is missing, so lines after line ${count} may have been removed`,
          };
      } else if (head.seq > count) {
        const lost = head.seq - count;
        return {
          ok: false,
          line: count + 1,
          reason: `line ${count + 1}: removed: ${headFile} records ${head.seq} lines but the journal ends at line ${count} (${lost} line${lost === 1 ? '' : 's'} cut from the end)`,
        };
      } else if (head.seq > 0 && this.hashAtHead !== head.sha256) {
        return { ok: false, line: head.seq, reason: `line ${head.seq}: changed after it was written: its hash does not match ${headFile}` };
      } else if (head.seq < count && (head.seq === 0 || this.hashAtHead === head.sha256) && this.tsInOrderAfterHead) {
        // The writer moves the head after each line is durable, so a kill between the two leaves
        // complete, correctly chained lines past the head: a crash, not an edit. (Anyone able to
        // append a chained line could rewrite the head as well, so refusing them protects nothing.)
        // Reopening the run records the repair.
        const k = count - head.seq;
        return {
          ok: true,
          events: count,
          head: this.last?.hash ?? ZERO_HASH,
          recovered: k,
          note: `recovered: ${k} line${k === 1 ? '' : 's'} written after the last head update, chain intact`,
        };
      } else if (head.seq < count) {
        // Lines past the head whose timestamps go backwards were not written by the journal's writer.
        return {
          ok: false,
          line: head.seq + 1,
          reason: `line ${head.seq + 1}: not confirmed by ${headFile}, which records ${head.seq} lines: lines were appended by hand, or the head update was lost in a crash`,
        };
      }
    }
    return { ok: true, events: count, head: this.last?.hash ?? ZERO_HASH };
  }
}

/** The `ts` of a line in the writer's layout (`{"seq":n,"ts":"…"`), or '' when absent. */
function tsOf(bytes: Buffer): string {
  const at = bytes.indexOf(TS_KEY);
  if (at < 0 || at > PREFIX.length + 16) return '';
  const start = at + TS_KEY.length;
  const end = bytes.indexOf(34, start);
  return end < 0 ? '' : bytes.toString('latin1', start, end);
}

/** The seq of a line past the first break, where only reordering detection needs it. */
function seqOf(bytes: Buffer): number {
  if (bytes.compare(PREFIX, 0, PREFIX.length, 0, Math.min(PREFIX.length, bytes.length)) !== 0) return NaN;
  let seq = 0;
  let i = PREFIX.length;
  for (; i < bytes.length && bytes[i]! >= 48 && bytes[i]! <= 57 && i < PREFIX.length + 15; i++) seq = seq * 10 + bytes[i]! - 48;
  return i === PREFIX.length ? NaN : seq;
}

/**
 * Name the line to look at. The break shows at line i (wrong seq or prev); one line of context on
 * each side tells the single change that explains it: an edit of line i-1 leaves line i+1 chained
 * to line i; an inserted line i leaves line i+1 chained to line i-1; a swap chains line i to i+1.
 */
function diagnose(f: Break, head: HeadRecord | undefined): VerifyResult {
  const { cur, last, next } = f;
  const i = cur.n;
  const fail = (line: number, reason: string): VerifyResult => ({ ok: false, line, reason: `line ${line}: ${reason}` });
  if (Number.isNaN(cur.seq)) {
    return fail(
      i,
      cur.hash === EMPTY_LINE_HASH
        ? 'empty line'
        : 'not a journal event (expected {"seq":n,"ts":…,"prev":"<sha256>"} as the journal writes it)',
    );
  }
  const expectedPrev = last?.hash ?? ZERO_HASH;
  // Whether what follows a line (the next line, or the head record for the last one) vouches for it.
  const vouchedFor = (info: LineInfo) => (next ? next.prev === info.hash : head?.seq === info.n && head.sha256 === info.hash);

  if (next && next.seq === i && next.prev === expectedPrev) {
    if (cur.prev === next.hash) return fail(i, `reordered: lines ${i} and ${i + 1} were swapped`);
    return fail(i, `inserted: line ${i + 1} continues the chain from line ${i - 1}`);
  }
  if (last && cur.seq === i - 1 && cur.prev === last.prev) {
    // Two lines claim the same place; the one the chain continues from is the original.
    if (vouchedFor(cur)) return fail(i - 1, `inserted: line ${i} has the same seq and prev, and the chain continues from line ${i}`);
    return fail(i, `inserted: it repeats seq ${cur.seq} of line ${i - 1}`);
  }
  if (cur.seq > i) {
    if (f.seqComesLater) return fail(i, `reordered: seq ${cur.seq} is here but seq ${i} comes later`);
    const gap = cur.seq - i;
    return fail(i, `removed: seq jumps from ${i - 1} to ${cur.seq} (${gap} line${gap === 1 ? '' : 's'} missing here)`);
  }
  if (cur.seq < i) return fail(i, `out of order: seq ${cur.seq} follows seq ${i - 1} (a line was inserted or lines were reordered)`);
  // Right seq, wrong prev.
  if (i === 1) return fail(1, "changed after it was written: the first line's prev must be 64 zeros");
  if (vouchedFor(cur)) return fail(i - 1, `changed after it was written: line ${i}'s prev is not its hash`);
  if (next)
    return fail(i, `changed after it was written: its prev does not match line ${i - 1}, and line ${i + 1}'s prev does not match it`);
  return fail(i, `hash chain broken: line ${i - 1} was changed, removed or reordered`);
}
