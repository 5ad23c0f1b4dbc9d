/**
 * The run store's implementations as the engine builds them (the interface: store/types.ts).
 * `localRunStore` keeps a run in `runs/<run-id>/` and its target locks in `<home>/locks`; with
 * `store: aws` in the config, the same folder is the run's working copy and the AWS store
 * (store/backed.ts) holds the truth: every journal line, the summary, leases and seals.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Journal } from '../audit/journal.js';
import { FirebreakError, InputError } from '../core/errors.js';
import { awsBackedRunStore } from '../store/backed.js';
import { createAwsStore, type AwsRunStore } from '../store/aws.js';
import type { StoreConfig } from '../store/config.js';
import type { RunRecord, RunStore } from '../store/types.js';
import { existingRunDir, homeDir, runDir as runDirOf, type HomeOptions } from './home.js';
import { readApproval } from './inbox.js';
import { acquireLock, describeHolder, lockResource, readLock, resourceLockPath } from './lock.js';
import { waitForResourceLock } from './lock-wait.js';
import { summarize, writeSummary } from './run-summary.js';
import { claimTaskToken, keepTaskToken, readTaskToken } from './task-tokens.js';

export type { RunRecord, RunStore, TargetLockOptions } from '../store/types.js';

export function localRunStore(home: HomeOptions = {}): RunStore {
  const record = (runId: string, dir: string): RunRecord => ({
    runId,
    dir,
    lock: async (owner) => (await acquireLock(join(dir, 'run.lock'), owner)) ?? undefined,
    openJournal: (clock) => Journal.open(join(dir, 'journal.jsonl'), { clock }),
    readJournal: () => Journal.read(join(dir, 'journal.jsonl')),
    postedApproval: (step) => readApproval(dir, step),
    keepTaskToken: async (step, token) => keepTaskToken(dir, step, token),
    taskToken: async (step) => readTaskToken(dir, step),
    claimTaskToken: async (step, token, answer) => claimTaskToken(runId, dir, step, token, answer),
    writeSummary: (events) => writeSummary(dir, events),
    // Every append is already durable on disk when it returns; the head file is the local anchor.
    settle: async () => undefined,
    seal: async () => undefined,
  });
  return {
    kind: 'local',
    async create(runId) {
      const dir = runDirOf(runId, home);
      if (existsSync(join(dir, 'journal.jsonl')))
        throw new InputError(`run ${runId} already exists`, { field: 'RUN', hint: `firebreak resume ${runId}` });
      mkdirSync(dir, { recursive: true });
      return record(runId, dir);
    },
    open: async (runId) => record(runId, existingRunDir(runId, home)),
    async lockTarget(kind, id, owner, opts = {}) {
      const base = homeDir(home);
      if (opts.waitMs) {
        return waitForResourceLock(base, kind, id, owner, {
          timeoutMs: opts.waitMs,
          ...(opts.signal ? { signal: opts.signal } : {}),
          ...(opts.onWait ? { onWait: opts.onWait } : {}),
          ...(opts.scope ? { scope: opts.scope } : {}),
        });
      }
      const lock = await lockResource(base, kind, id, owner, opts.scope ? { scope: opts.scope } : {});
      if (lock) return lock;
      const holder = readLock(resourceLockPath(base, kind, id, opts.scope));
      throw new FirebreakError(holder ? describeHolder(`${kind} ${id}`, holder) : `${kind} ${id} is locked by another run`, {
        hint: 'firebreak runs   (find the run working on it)',
      });
    },
  };
}

/** The store `firebreak.config.yaml` names (`store:`), or the local folder. */
export function runStoreFor(cfg: StoreConfig, home: HomeOptions = {}, aws?: AwsRunStore): RunStore {
  const local = localRunStore(home);
  if (cfg.kind === 'local') return local;
  return awsBackedRunStore(local, aws ?? createAwsStore(cfg), {
    host: hostname(),
    workingDir: (runId) => runDirOf(runId, home),
    summarize: (events) => summarize(events) as unknown as Record<string, unknown>,
  });
}
