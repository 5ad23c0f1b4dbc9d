/**
 * Waiting for a per-resource lock instead of failing at once. Two alerts about the same instance
 * arrive seconds apart (GuardDuty raises one finding per behaviour): the second run must not act
 * on the instance while the first one does, but it should not fail either, because the first run
 * releases the lock as soon as it ends or stops to wait for a person.
 *
 * Polling, not a notification: the holder may be another process (a CLI trigger, `firebreak
 * resume`), and a lock file carries no wake-up channel. A dead holder is taken over by `tryLock`
 * itself on the next poll.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { FirebreakError, Interrupted } from '../core/errors.js';
import { describeHolder, lockResource, readLock, resourceLockPath, type Lock, type LockInfo, type LockOwner } from './lock.js';

export interface LockWaitOptions {
  /** Give up after this long (ms). 0: one attempt, as before. */
  timeoutMs: number;
  pollMs?: number;
  signal?: AbortSignal;
  /** Called once, when the first attempt finds the lock held (the engine journals it). */
  onWait?: (holder: LockInfo | undefined) => void;
  /** Where the resource lives (see resourceLockPath). */
  scope?: string;
}

/** Take the lock of one resource, waiting up to `timeoutMs` for its holder to release it. */
export async function waitForResourceLock(home: string, kind: string, id: string, owner: LockOwner, opts: LockWaitOptions): Promise<Lock> {
  const path = resourceLockPath(home, kind, id, opts.scope);
  const deadline = Date.now() + opts.timeoutMs;
  let told = false;
  for (;;) {
    const lock = await lockResource(home, kind, id, owner, opts.scope ? { scope: opts.scope } : {});
    if (lock) return lock;
    const holder = readLock(path);
    if (!told) {
      told = true;
      opts.onWait?.(holder);
    }
    if (Date.now() >= deadline) {
      const who = holder ? describeHolder(`${kind} ${id}`, holder) : `${kind} ${id} is locked by another run`;
      throw new FirebreakError(
        `failed to lock ${kind} ${id}: ${who}${opts.timeoutMs > 0 ? `; waited ${Math.round(opts.timeoutMs / 1000)}s` : ''}`,
        {
          hint: 'firebreak runs   (find the run working on it; this run resumes with firebreak resume once it is free)',
        },
      );
    }
    if (opts.signal?.aborted) throw new Interrupted(owner.runId);
    await sleep(
      Math.min(opts.pollMs ?? 200, Math.max(1, deadline - Date.now())),
      undefined,
      opts.signal ? { signal: opts.signal } : undefined,
    ).catch((err) => {
      if (opts.signal?.aborted) throw new Interrupted(owner.runId);
      throw err;
    });
  }
}
