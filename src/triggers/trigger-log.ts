/**
 * The trigger log: `<home>/triggers.jsonl` (and `<home>/serve.jsonl` for the server), one event per
 * alert outcome — started, repeated, duplicate, ignored (with why), rejected (with why). It uses the
 * run journal's format and class, so it is hash-chained and `firebreak audit verify FILE` checks it.
 *
 * Several processes (CLI triggers, a Lambda invocation) may log at once, and a hash chain has one
 * writer: each append takes `<file>.lock`, opens the log, appends and closes. The server, which
 * logs continuously, holds its own log open for its lifetime instead (`hold`).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { triggerEventSchemas, TriggerEventType } from '../audit/events.js';
import { Journal, type JournalEvent } from '../audit/journal.js';

type TriggerJournal = Journal<typeof triggerEventSchemas>;
import { FirebreakError } from '../core/errors.js';
import { acquireLock, describeHolder, readLock, type Lock } from '../engine/lock.js';

const LOCK_WAIT_MS = 30_000;

export class TriggerLog {
  private held: { lock: Lock; journal: TriggerJournal } | undefined;

  constructor(readonly file: string) {}

  /** Keep the log open (and locked) until `close`. Fails at once if another process holds it. */
  async hold(purpose: string): Promise<void> {
    const lock = await acquireLock(`${this.file}.lock`, { runId: 'trigger-log', purpose });
    if (!lock) {
      const holder = readLock(`${this.file}.lock`);
      throw new FirebreakError(
        `failed to open ${this.file}: ${holder ? describeHolder('it', holder) : 'it is locked by another process'}`,
        {
          hint: 'is another firebreak serve running with the same FIREBREAK_HOME? stop it or use another home',
        },
      );
    }
    try {
      this.held = { lock, journal: Journal.open<typeof triggerEventSchemas>(this.file) };
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  async append(type: TriggerEventType, fields: Record<string, unknown>): Promise<JournalEvent> {
    if (this.held) return this.held.journal.append(type, fields);
    const lock = await this.waitForLock();
    try {
      const journal = Journal.open<typeof triggerEventSchemas>(this.file);
      try {
        return journal.append(type, fields);
      } finally {
        journal.close();
      }
    } finally {
      lock.release();
    }
  }

  close(): void {
    if (!this.held) return;
    const { lock, journal } = this.held;
    this.held = undefined;
    try {
      journal.close();
    } finally {
      lock.release();
    }
  }

  private async waitForLock(): Promise<Lock> {
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      const lock = await acquireLock(`${this.file}.lock`, { runId: 'trigger-log', purpose: 'append' });
      if (lock) return lock;
      if (Date.now() > deadline) {
        const holder = readLock(`${this.file}.lock`);
        throw new FirebreakError(
          `failed to append to ${this.file}: ${holder ? describeHolder('it', holder) : 'it stayed locked'} for ${LOCK_WAIT_MS / 1000}s`,
          {
            hint: holder?.purpose.startsWith('serve')
              ? 'firebreak serve holds this log; send the alert to the server, or use another FIREBREAK_HOME'
              : `remove ${this.file}.lock if no firebreak process is running`,
          },
        );
      }
      await sleep(15);
    }
  }
}
