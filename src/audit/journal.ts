/**
 * A run's journal: `journal.jsonl`, one JSON event a line, each line carrying the SHA-256 of the
 * line before it (format and checker: verify.ts). The journal is the source of truth for resume,
 * so an event is written and fdatasynced before `append` returns: the engine acts on an event only
 * once it is durable. Secrets are redacted before anything is written.
 *
 * The head file (`journal.head`: seq and hash of the last line) protects the tail, which the chain
 * cannot. It is rewritten in place after every append with one positional write of a fixed-size
 * record and no fsync of its own: a rename-based update would cost a file creation and a
 * directory update per event, and an fsync per event would halve throughput. Because the journal
 * line is fdatasynced before the head write is issued, the head can lag the journal but never
 * point past it. After a process crash (SIGKILL, OOM) the page cache keeps the head exact; after
 * an OS crash or power loss it may lag by at most HEAD_SYNC_EVERY events (it is fdatasynced that
 * often, and on close), and only a deletion of those last lines would go unnoticed.
 *
 * Records of what already happened — an AWS call's request and result — are appended with
 * `{ sync: 'later' }`: the line is written at once (a killed process loses nothing: the page cache
 * keeps it) and made durable by one background fdatasync shared by every such line written
 * meanwhile, or by the next decision's own fdatasync, whichever comes first. Nothing acts on
 * such a record, so the engine never waits for its disk flush; a fleet run of 500 instances
 * writes about 4,500 call records and 1,000 decisions. The head moves past a record only once
 * the record is durable, so the rule above holds: the head never points past the durable journal.
 * `beforeSync` hooks run before each decision is written, for state a decision must not overtake.
 *
 * Which events may be appended is declared in events.ts (the run journal's by default; the
 * trigger log names its own set).
 */
import {
  closeSync,
  existsSync,
  fdatasync,
  fdatasyncSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  truncateSync,
  writeSync,
  constants,
} from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { systemClock, type Clock } from '../core/clock.js';
import { FirebreakError } from '../core/errors.js';
import { redact } from './redact.js';
import type { EventSchemas, FieldsOf, runEventSchemas } from './events.js';
import { encodeHead, headPathFor, HEAD_SIZE, lineHash, readHead, verifyJournal, ZERO_HASH, type HeadRecord } from './verify.js';

export interface JournalEvent {
  seq: number;
  ts: string;
  type: string;
  prev: string;
  [field: string]: unknown;
}

export type JournalListener = (event: JournalEvent) => void;

/** A line as written: its exact bytes (no newline), which the hash chain covers. */
export interface WrittenLine {
  seq: number;
  type: string;
  line: string;
}
export type LineSink = (written: WrittenLine) => void;

const HEAD_SYNC_EVERY = 100;
const RESERVED = new Set(['seq', 'ts', 'type', 'prev']);
const EVENT_TYPE = /^[a-z][a-zA-Z0-9-]*(\.[a-z][a-zA-Z0-9-]*)*$/;
const VERIFY_HINT = 'firebreak audit verify <run-id>   (names the line that was changed)';

/**
 * Test hook, never set by Firebreak itself: `FIREBREAK_CRASH_AFTER_LINE=N` makes the process kill
 * itself with SIGKILL right after line N of a journal it appends to is written (fdatasynced if it is
 * a decision), before the head moves and before anyone is told: the harshest moment for a crash,
 * so the kill -9 tests can crash a run at every line exactly. Inert when unset.
 */
function crashLine(): number | undefined {
  const n = Number(process.env.FIREBREAK_CRASH_AFTER_LINE);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** Files open for writing in this process: a second writer would fork the chain. */
const openFiles = new Set<string>();

/** The run journal's events unless another set is named (the trigger log's). */
export class Journal<S extends EventSchemas = typeof runEventSchemas> {
  private readonly listeners = new Set<JournalListener>();
  private readonly sinks = new Set<LineSink>();
  private closed = false;
  /** Set when a write failed part-way: the file may end in a torn line, so no more appends. */
  private broken: Error | undefined;
  private sinceHeadSync = 0;
  /** The last line that is durable and in the head; lines after it were written with sync 'later'. */
  private durable: { seq: number; hash: string };
  /** A background fdatasync is running. */
  private syncing = false;
  private readonly syncHooks = new Set<() => void>();
  /** A background flush failed and no append has reported it yet. */
  private unreported: Error | undefined;
  /** The test hook's line (see crashLine), read once at open; a run store may take it over (takeCrashHook). */
  private crashAfter = crashLine();

  private constructor(
    readonly file: string,
    private readonly fd: number,
    private readonly headFd: number,
    private readonly clock: Clock,
    private readonly all: JournalEvent[],
    private seq: number,
    private hash: string,
  ) {
    this.durable = { seq, hash };
  }

  /**
   * Open (or create) a journal for appending. An existing journal is read and its chain and head
   * checked: a journal that was tampered with is refused rather than extended, because resume
   * trusts it to say what already ran.
   */
  static open<S extends EventSchemas = typeof runEventSchemas>(file: string, opts: { clock?: Clock } = {}): Journal<S> {
    const path = resolve(file);
    const failOpen = (why: string, cause?: unknown) =>
      new FirebreakError(`failed to open journal ${file}: ${why}`, { hint: VERIFY_HINT, ...(cause === undefined ? {} : { cause }) });
    if (openFiles.has(path)) throw failOpen('it is already open in this process');
    const headFile = headPathFor(path);
    let head: HeadRecord | undefined;
    try {
      mkdirSync(dirname(path), { recursive: true });
      head = readHead(headFile);
    } catch (err) {
      throw failOpen((err as Error).message, err);
    }
    const exists = existsSync(path);
    if (!exists && head && head.seq > 0) throw failOpen(`${basename(headFile)} records ${head.seq} lines but the journal file is missing`);

    const read = parseJournal(file, exists ? readFileSync(path) : Buffer.alloc(0), head?.seq ?? 0);
    const count = read.events.length;
    if (read.chainBrokenAt !== undefined) {
      const v = verifyJournal(path);
      throw failOpen(v.ok ? `line ${read.chainBrokenAt}: seq or prev does not continue the chain` : v.reason);
    }
    if (head && head.seq > count) {
      if (read.tail && head.seq === count + 1) {
        throw failOpen(`line ${count + 1} has no newline, but ${basename(headFile)} shows it was written completely: the file was edited`);
      }
      const v = verifyJournal(path);
      throw failOpen(v.ok ? `${basename(headFile)} records ${head.seq} lines but the journal has ${count}` : v.reason);
    }
    if (head && head.seq > 0 && read.hashAtHead !== head.sha256) {
      throw failOpen(`line ${head.seq}: changed after it was written: its hash does not match ${basename(headFile)}`);
    }

    const repairs: Array<Record<string, unknown>> = [];
    if (read.tail) {
      // A line without its newline was torn by a crash during its write. Moving it aside is
      // safe: `append` writes line and newline in one call and returns only after fdatasync, so
      // a line whose newline never reached the disk never returned to the engine, and nothing
      // was done on its account. Its bytes are kept, and their hash journaled, as evidence.
      let movedTo: string;
      try {
        movedTo = moveAside(path, read.tail);
        truncateSync(path, read.goodLength);
      } catch (err) {
        throw failOpen(`could not move its torn last line aside: ${(err as Error).message}`, err);
      }
      repairs.push({
        reason: 'torn-line',
        line: count + 1,
        movedTo: basename(movedTo),
        bytes: read.tail.length,
        sha256: lineHash(read.tail),
      });
    }
    if (head && head.seq < count) {
      // Lines past the head were written but the head update did not survive (a crash between
      // fdatasync and the head write, or an OS crash): recorded, since verify reports them.
      const k = count - head.seq;
      repairs.push({
        reason: 'head-behind',
        line: head.seq + 1,
        note: `recovered: ${k} line${k === 1 ? '' : 's'} written after the last head update, chain intact (${basename(headFile)} recorded ${head.seq} of ${count})`,
      });
    }
    if (!head && count > 0)
      repairs.push({ reason: 'head-missing', line: count, note: `${basename(headFile)} was rebuilt from the journal` });

    // The head is created before the journal, so a head without a journal means nothing was lost.
    let headFd: number;
    try {
      headFd = openSync(headFile, constants.O_RDWR | constants.O_CREAT, 0o644);
    } catch (err) {
      throw failOpen((err as Error).message, err);
    }
    let fd: number;
    try {
      if (!head) {
        writeHead(headFd, { seq: count, sha256: read.lastHash });
        fdatasyncSync(headFd);
      }
      fd = openSync(path, 'a', 0o644);
      if (!exists || read.tail) {
        // Make the new file, the truncation and the moved-aside file durable before appending.
        fdatasyncSync(fd);
        syncDir(dirname(path));
      }
    } catch (err) {
      closeSync(headFd);
      throw failOpen((err as Error).message, err);
    }
    openFiles.add(path);
    const journal = new Journal<S>(path, fd, headFd, opts.clock ?? systemClock, read.events, count, read.lastHash);
    try {
      // Both declared sets name journal.repaired; a free-form set (tests) takes any type.
      for (const r of repairs) (journal as unknown as Journal).append('journal.repaired', r);
    } catch (err) {
      journal.close();
      throw err;
    }
    return journal;
  }

  /** Every event of a journal, parsed and not verified (reports, `runs`, resume's replay). */
  static read(file: string): JournalEvent[] {
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (err) {
      throw new FirebreakError(`failed to read journal ${file}: ${(err as Error).message}`, { cause: err });
    }
    // A final line without its newline is being written or was torn: not part of the journal.
    return parseJournal(file, bytes, 0).events;
  }

  /**
   * Append one event and make it durable. Returns the event as written (seq, ts, redacted
   * fields, prev). The line goes out in one write call so a crash can tear it but never
   * interleave it; the head is updated after the fdatasync (see the header comment).
   * `sync: 'later'` is for records nothing acts on (AWS calls): written now, flushed in the
   * background with the records around it.
   */
  append<T extends keyof S & string>(type: T, fields: FieldsOf<S, T>, opts: { sync?: 'now' | 'later' } = {}): JournalEvent {
    const failAppend = (why: string, cause?: unknown) =>
      new FirebreakError(`failed to append ${type} to journal ${this.file}: ${why}`, cause === undefined ? {} : { cause });
    if (this.closed) throw failAppend('the journal is closed');
    if (this.broken) {
      this.unreported = undefined;
      throw failAppend(`an earlier write failed (${this.broken.message}); reopen the run to repair the journal`);
    }
    if (!EVENT_TYPE.test(type)) throw failAppend(`'${type}' is not an event type (e.g. step.planned)`);
    for (const k of Object.keys(fields as object)) if (RESERVED.has(k)) throw failAppend(`field '${k}' is reserved for the journal itself`);

    const seq = this.seq + 1;
    const body = JSON.stringify(redact(fields));
    // Built by hand, not from an object: JS would move integer-like field names ahead of seq.
    const line =
      `{"seq":${seq},"ts":${JSON.stringify(this.clock.now().toISOString())},"type":${JSON.stringify(type)}` +
      (body === '{}' ? '' : `,${body.slice(1, -1)}`) +
      `,"prev":"${this.hash}"}`;
    const bytes = Buffer.from(`${line}\n`, 'utf8');
    const now = opts.sync !== 'later';
    if (now) this.runSyncHooks(type);
    try {
      const written = writeSync(this.fd, bytes);
      if (written !== bytes.length) throw new Error(`short write: ${written} of ${bytes.length} bytes (disk full?)`);
      if (now) fdatasyncSync(this.fd);
    } catch (err) {
      // After a failed write or fsync the file's tail is unknown; reopening repairs or refuses it.
      this.broken = err as Error;
      throw failAppend((err as Error).message, err);
    }
    if (seq === this.crashAfter) process.kill(process.pid, 'SIGKILL');
    const hash = lineHash(bytes.subarray(0, bytes.length - 1));
    this.seq = seq;
    this.hash = hash;
    const event = Object.freeze(JSON.parse(line) as JournalEvent);
    this.all.push(event);
    // Sinks (a run store's copy) see the exact line before anyone is told the event happened.
    for (const sink of this.sinks) sink({ seq, type, line });
    if (now) {
      try {
        this.advanceHead({ seq, hash });
      } catch (err) {
        this.broken = err as Error;
        throw failAppend(
          `event ${seq} is written but ${basename(headPathFor(this.file))} could not be updated: ${(err as Error).message}`,
          err,
        );
      }
    } else {
      this.syncLater();
    }
    this.notify(event);
    return event;
  }

  /**
   * Run `hook` before every decision (an append with sync 'now') is written, e.g. to save state
   * the decision depends on. A hook that throws fails that append. Returns the unsubscribe function.
   */
  beforeSync(hook: () => void): () => void {
    this.syncHooks.add(hook);
    return () => this.syncHooks.delete(hook);
  }

  /** Make every line written so far durable now (records included). */
  sync(): void {
    if (this.closed || this.durable.seq === this.seq) return;
    if (this.broken)
      throw new FirebreakError(`failed to sync journal ${this.file}: an earlier write failed (${this.broken.message})`, {
        cause: this.broken,
      });
    try {
      fdatasyncSync(this.fd);
      this.advanceHead({ seq: this.seq, hash: this.hash });
    } catch (err) {
      this.broken = err as Error;
      throw new FirebreakError(`failed to sync journal ${this.file}: ${(err as Error).message}`, { cause: err });
    }
  }

  private runSyncHooks(type: string): void {
    for (const hook of this.syncHooks) {
      try {
        hook();
      } catch (err) {
        throw new FirebreakError(`failed to append ${type} to journal ${this.file}: ${(err as Error).message}`, { cause: err });
      }
    }
  }

  /** The head moves forward only, to a line known durable. */
  private advanceHead(to: { seq: number; hash: string }): void {
    if (to.seq <= this.durable.seq) return;
    writeHead(this.headFd, { seq: to.seq, sha256: to.hash });
    this.durable = to;
    if (++this.sinceHeadSync >= HEAD_SYNC_EVERY) {
      fdatasyncSync(this.headFd);
      this.sinceHeadSync = 0;
    }
  }

  /**
   * One background fdatasync for the records written since the last one. When it completes, the
   * head moves to the last line written before it began. A failure marks the journal broken:
   * the next append reports it.
   */
  private syncLater(): void {
    if (this.syncing) return; // the running flush schedules the next one when it ends
    const upTo = { seq: this.seq, hash: this.hash };
    this.syncing = true;
    fdatasync(this.fd, (err) => {
      this.syncing = false;
      if (this.closed) return; // close synced the whole file itself
      if (err) {
        this.broken ??= err;
        this.unreported = err;
        return;
      }
      try {
        this.advanceHead(upTo);
      } catch (headErr) {
        this.broken ??= headErr as Error;
        this.unreported = headErr as Error;
        return;
      }
      // Lines written while it ran, and not made durable by a decision meanwhile.
      if (this.durable.seq < this.seq) this.syncLater();
    });
  }

  /**
   * The test hook's line, handed to a run store that copies the lines elsewhere (the AWS store):
   * the journal no longer kills the process itself; the store does once that line's copy is
   * acknowledged, which is where a crash is harshest for it. Undefined when the hook is unset.
   */
  takeCrashHook(): number | undefined {
    const n = this.crashAfter;
    this.crashAfter = undefined;
    return n;
  }

  /** Every line written from now on, byte for byte (a run store copies them). A sink must not throw. Returns the unsubscribe function. */
  onLine(sink: LineSink): () => void {
    this.sinks.add(sink);
    return () => this.sinks.delete(sink);
  }

  /** Live displays: called after each event is written (a decision: once durable). Returns the unsubscribe function. */
  onAppend(listener: JournalListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A copy of every event read at open or appended since. */
  events(): JournalEvent[] {
    return this.all.slice();
  }

  get lastSeq(): number {
    return this.seq;
  }

  /** Makes the records still waiting for their background flush durable, then closes. */
  close(): void {
    if (this.closed) return;
    let failure: unknown;
    try {
      if (!this.broken) this.sync();
    } catch (err) {
      failure = err;
    }
    this.closed = true;
    openFiles.delete(this.file);
    try {
      if (!this.broken) fdatasyncSync(this.headFd);
    } finally {
      closeSync(this.headFd);
      closeSync(this.fd);
    }
    // A background flush that failed after the last append is reported here, not dropped.
    failure ??=
      this.unreported &&
      new FirebreakError(`failed to make journal ${this.file} durable: ${this.unreported.message}`, { cause: this.unreported });
    if (failure) throw failure;
  }

  private notify(event: JournalEvent): void {
    let first: unknown;
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        first ??= err;
      }
    }
    // Every listener saw the event; the first failure is reported, not dropped. The event is durable.
    if (first !== undefined) {
      throw new FirebreakError(`failed to show journal event ${event.seq} (${event.type}): ${(first as Error).message ?? String(first)}`, {
        cause: first,
      });
    }
  }
}

interface ParsedJournal {
  events: JournalEvent[];
  lastHash: string;
  /** Bytes up to and including the last newline. */
  goodLength: number;
  /** Bytes after the last newline (a torn or in-progress line), if any. */
  tail?: Buffer;
  /** First line whose seq or prev does not continue the chain. */
  chainBrokenAt?: number;
  hashAtHead?: string;
}

function parseJournal(file: string, bytes: Buffer, headSeq: number): ParsedJournal {
  const events: JournalEvent[] = [];
  let lastHash = ZERO_HASH;
  let hashAtHead: string | undefined;
  let chainBrokenAt: number | undefined;
  let start = 0;
  for (let nl = bytes.indexOf(10, start); nl !== -1; nl = bytes.indexOf(10, start)) {
    const n = events.length + 1;
    const raw = bytes.subarray(start, nl);
    let e: JournalEvent;
    try {
      e = JSON.parse(raw.toString('utf8')) as JournalEvent;
    } catch (err) {
      throw new FirebreakError(`failed to read journal ${file}: line ${n} is not valid JSON: ${(err as Error).message}`, {
        hint: VERIFY_HINT,
        cause: err,
      });
    }
    if (!e || typeof e !== 'object' || typeof e.type !== 'string') {
      throw new FirebreakError(`failed to read journal ${file}: line ${n} is not a journal event`, { hint: VERIFY_HINT });
    }
    const hash = lineHash(raw);
    if (chainBrokenAt === undefined && (e.seq !== n || e.prev !== lastHash)) chainBrokenAt = n;
    if (n === headSeq) hashAtHead = hash;
    events.push(Object.freeze(e));
    lastHash = hash;
    start = nl + 1;
  }
  return {
    events,
    lastHash,
    goodLength: start,
    ...(start < bytes.length ? { tail: bytes.subarray(start) } : {}),
    ...(chainBrokenAt !== undefined ? { chainBrokenAt } : {}),
    ...(hashAtHead !== undefined ? { hashAtHead } : {}),
  };
}

function writeHead(fd: number, head: HeadRecord): void {
  const written = writeSync(fd, encodeHead(head), 0, HEAD_SIZE, 0);
  if (written !== HEAD_SIZE) throw new Error(`short write of the head record: ${written} of ${HEAD_SIZE} bytes`);
}

/** `journal.jsonl` → `journal.torn-<n>.jsonl`, the first n not taken; durable before the journal is cut. */
function moveAside(path: string, tail: Buffer): string {
  const base = path.endsWith('.jsonl') ? path.slice(0, -'.jsonl'.length) : path;
  for (let n = 1; ; n++) {
    const target = `${base}.torn-${n}.jsonl`;
    let fd: number;
    try {
      fd = openSync(target, 'wx', 0o644);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw err;
    }
    try {
      const written = writeSync(fd, tail);
      if (written !== tail.length) throw new Error(`short write to ${target}: ${written} of ${tail.length} bytes`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return target;
  }
}

/** A new or renamed file survives power loss only once its directory entry is synced too. */
function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
