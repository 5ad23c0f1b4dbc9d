/**
 * Everything a run persists, behind one object: its folder, journal, head, run lock, target
 * locks, approval inbox and summary. `localRunStore` keeps them in `runs/<run-id>/` and
 * `<home>/locks`; the engine asks this object and never builds a run's paths itself, so another
 * store (DynamoDB and S3) can take its place.
 */
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Journal, type JournalEvent } from '../audit/journal.js';
import type { Clock } from '../core/clock.js';
import { FirebreakError, InputError } from '../core/errors.js';
import { existingRunDir, homeDir, runDir as runDirOf, runsDir, type HomeOptions } from './home.js';
import { readApproval } from './inbox.js';
import { acquireLock, describeHolder, lockResource, readLock, resourceLockPath, type Lock, type LockInfo, type LockOwner } from './lock.js';
import { waitForResourceLock } from './lock-wait.js';
import { readSummary, writeSummary, type RunSummary } from './run-summary.js';
import { keepTaskToken, readTaskToken } from './task-tokens.js';
import type { Approval } from './events.js';

export interface TargetLockOptions {
  /** Wait this long for another run to release it (ms); 0 or absent: fail at once. */
  waitMs?: number;
  signal?: AbortSignal;
  onWait?: (holder: LockInfo | undefined) => void;
}

/** One run's persistence. */
export interface RunRecord {
  readonly runId: string;
  /** Where the run's files are (the simulated world's copy lives here too). */
  readonly dir: string;
  /** The run's one writer: undefined when another process holds it. */
  lock(owner: LockOwner): Promise<Lock | undefined>;
  openJournal(clock: Clock): Journal;
  readJournal(): JournalEvent[];
  /** An answer `firebreak approve` posted for a step while the run was alive. */
  postedApproval(step: string): (Approval & { at: string }) | undefined;
  /** The task token a step waits with on Step Functions, kept for `firebreak approve`. */
  keepTaskToken(step: string, token: string): void;
  taskToken(step: string): string | undefined;
  writeSummary(events: readonly JournalEvent[]): void;
  readSummary(): RunSummary | undefined;
}

export interface RunStore {
  /** A new run: refuses a run id whose journal exists. */
  create(runId: string): RunRecord;
  /** An existing run, or an InputError (exit 2) naming the command that lists runs. */
  open(runId: string): RunRecord;
  /** Every run id, oldest first (ids sort by start time). */
  list(): string[];
  /** A target resource, held by one run at a time. */
  lockTarget(kind: string, id: string, owner: LockOwner, opts?: TargetLockOptions): Promise<Lock>;
}

export function localRunStore(home: HomeOptions = {}): RunStore {
  const record = (runId: string, dir: string): RunRecord => ({
    runId,
    dir,
    lock: async (owner) => (await acquireLock(join(dir, 'run.lock'), owner)) ?? undefined,
    openJournal: (clock) => Journal.open(join(dir, 'journal.jsonl'), { clock }),
    readJournal: () => Journal.read(join(dir, 'journal.jsonl')),
    postedApproval: (step) => readApproval(dir, step),
    keepTaskToken: (step, token) => keepTaskToken(dir, step, token),
    taskToken: (step) => readTaskToken(dir, step),
    writeSummary: (events) => writeSummary(dir, events),
    readSummary: () => readSummary(dir),
  });
  return {
    create(runId) {
      const dir = runDirOf(runId, home);
      if (existsSync(join(dir, 'journal.jsonl')))
        throw new InputError(`run ${runId} already exists`, { field: 'RUN', hint: `firebreak resume ${runId}` });
      mkdirSync(dir, { recursive: true });
      return record(runId, dir);
    },
    open: (runId) => record(runId, existingRunDir(runId, home)),
    list() {
      const root = runsDir(home);
      if (!existsSync(root)) return [];
      return readdirSync(root)
        .filter((id) => existsSync(join(root, id, 'journal.jsonl')))
        .sort();
    },
    async lockTarget(kind, id, owner, opts = {}) {
      const base = homeDir(home);
      if (opts.waitMs) {
        return waitForResourceLock(base, kind, id, owner, {
          timeoutMs: opts.waitMs,
          ...(opts.signal ? { signal: opts.signal } : {}),
          ...(opts.onWait ? { onWait: opts.onWait } : {}),
        });
      }
      const lock = await lockResource(base, kind, id, owner);
      if (lock) return lock;
      const holder = readLock(resourceLockPath(base, kind, id));
      throw new FirebreakError(holder ? describeHolder(`${kind} ${id}`, holder) : `${kind} ${id} is locked by another run`, {
        hint: 'firebreak runs   (find the run working on it)',
      });
    },
  };
}
