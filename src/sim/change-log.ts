/**
 * The simulated cloud's change log: what makes a persisted world as durable as AWS. AWS keeps a
 * change once the call that made it has answered; so does the simulated cloud with `persistTo`:
 * every call that changed the world appends one line here and fdatasyncs it before the client
 * sees the answer. Rewriting the whole world per call would cost a full serialization, a file
 * creation and two fsyncs for each of the thousands of calls a fleet run makes; a line costs one
 * small append, and calls answered together share one fdatasync (none of them has returned yet).
 *
 * The log sits beside the world file (`<world>.changes`). Its first line names the world file it
 * applies to by the SHA-256 of that file's bytes: compaction writes the new world file first and
 * then replaces the log, so a crash between the two leaves a log whose base no longer matches,
 * which is then ignored instead of applied twice. A last line torn by a crash is dropped: its call
 * never answered, so on AWS its client would not know whether it happened either, and retries.
 */
import { closeSync, existsSync, fdatasync, openSync, readFileSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { writeFileDurablySync } from '../core/durable-write.js';
import type { OpenConnectionSpec } from './connections.js';
import type { SimCaller } from './service.js';

/** A call whose handler ran (and changed the world), replayed by running the handler again. */
export interface CallChange {
  kind: 'call';
  client: string;
  operation: string;
  input: unknown;
  caller: SimCaller;
  /** The account and Region that answered (absent in logs written before worlds held several: the home ones). */
  account?: string;
  region?: string;
  requestId: string;
  /** Simulated time the handler ran at (its clock is pinned there on replay). */
  at: string;
  /** The AWS error code the handler threw after changing the world, if it did. */
  error?: string;
}

/** A long-term access key's last use, recorded by authentication (IAM's GetAccessKeyLastUsed). */
export interface KeyUseChange {
  kind: 'key-use';
  key: string;
  service: string;
  at: string;
  /** The account holding the key and the Region of the client it signed for. */
  account?: string;
  region?: string;
}

/** A flow opened by a tabletop inject. */
export interface ConnectionChange {
  kind: 'connection';
  spec: OpenConnectionSpec;
  at: string;
}

export type ChangeEffect = CallChange | KeyUseChange | ConnectionChange;

export type Change = ChangeEffect & {
  /** The world's `time` and `idCounter` after the change. */
  time: string;
  idCounter: number;
};

interface Header {
  changeLogOf: string;
  version: 1;
}

export const changeLogPath = (worldFile: string) => `${worldFile}.changes`;

const sha256 = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');

/**
 * The changes to apply on top of a world file's text, or none when there is no log or it belongs
 * to another version of the file. A torn last line is dropped; damage anywhere else is an error.
 */
export function readChangeLog(worldFile: string, worldText: string): Change[] {
  const file = changeLogPath(worldFile);
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').split('\n');
  const parsed: unknown[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const last = i === lines.length - 1 || (i === lines.length - 2 && lines[lines.length - 1] === '');
    if (line === '') continue;
    try {
      parsed.push(JSON.parse(line));
    } catch (err) {
      if (last) break;
      throw new Error(
        `failed to read change log ${file}: line ${i + 1} is damaged (${(err as Error).message}); it is not the last line, so a crash did not tear it`,
      );
    }
  }
  const header = parsed[0] as Header | undefined;
  if (header?.version !== 1 || typeof header.changeLogOf !== 'string') {
    throw new Error(`failed to read change log ${file}: its first line does not name the world file it belongs to`);
  }
  if (header.changeLogOf !== sha256(worldText)) return [];
  return parsed.slice(1) as Change[];
}

/** Appends changes, fdatasyncing once per batch of lines written while the previous sync ran. */
export class ChangeLog {
  private fd: number;
  private waiters: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  private syncing = false;
  private failed: Error | undefined;
  /** Lines appended since the world file was last written. */
  entries = 0;

  /** Start a log for the world as it is now: write the world file, then a log holding only its header. */
  constructor(
    private readonly worldFile: string,
    worldText: string,
  ) {
    this.fd = this.restart(worldText);
  }

  private restart(worldText: string): number {
    writeFileDurablySync(this.worldFile, worldText);
    const file = changeLogPath(this.worldFile);
    writeFileDurablySync(file, `${JSON.stringify({ changeLogOf: sha256(worldText), version: 1 } satisfies Header)}\n`);
    this.entries = 0;
    return openSync(file, 'a');
  }

  /** Resolves once the change is on disk. */
  append(change: Change): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    const bytes = Buffer.from(`${JSON.stringify(change)}\n`, 'utf8');
    // One write call per line: O_APPEND keeps it whole against other writers, and a crash can only tear the last line.
    const written = writeSync(this.fd, bytes);
    if (written !== bytes.length) {
      this.failed = new Error(
        `failed to append to change log ${changeLogPath(this.worldFile)}: short write (${written} of ${bytes.length} bytes)`,
      );
      return Promise.reject(this.failed);
    }
    this.entries += 1;
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      if (!this.syncing) this.syncBatch();
    });
  }

  private syncBatch(): void {
    const batch = this.waiters;
    this.waiters = [];
    this.syncing = true;
    fdatasync(this.fd, (err) => {
      this.syncing = false;
      if (err) this.failed = new Error(`failed to sync change log ${changeLogPath(this.worldFile)}: ${err.message}`, { cause: err });
      for (const w of batch) {
        if (this.failed) w.reject(this.failed);
        else w.resolve();
      }
      if (this.waiters.length > 0) this.syncBatch();
    });
  }

  /** True when no line waits for its sync: the log may be compacted now. */
  get idle(): boolean {
    return !this.syncing && this.waiters.length === 0;
  }

  /** Write the whole world to the world file and start an empty log. Only when `idle`. */
  compact(worldText: string): void {
    if (!this.idle) throw new Error('failed to compact the change log: lines are still being synced');
    closeSync(this.fd);
    this.fd = this.restart(worldText);
  }

  close(worldText: string): void {
    this.compact(worldText);
    closeSync(this.fd);
    this.fd = -1;
  }
}
