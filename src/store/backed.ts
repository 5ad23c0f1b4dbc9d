/**
 * The engine's run store over the AWS store: the local folder stays the run's working copy (the
 * journal file the engine writes, the simulated world), and every line the journal writes is
 * appended to the table in order, conditional on its seq. The engine awaits `settle()` before
 * each AWS call, so whatever it acts on is in the store first; `seal()` puts what was written
 * under Object Lock. Opening a run reads the table, never the folder: a run started on another
 * machine resumes here from its stored lines, written back as the working copy, and a rehearsal's
 * simulated world from the store (saved at each seal: sim-world.ts).
 *
 * Locks are leases in the table, renewed while the run lives (a third of the lease time), so a
 * crashed owner's lock is taken over once it expires by the store's clock.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Journal, JournalEvent } from '../audit/journal.js';
import { encodeHead, headPathFor } from '../audit/verify.js';
import { FirebreakError, InputError } from '../core/errors.js';
import type { AwsRunStore } from './aws.js';
import { fetchSimWorld, putSimWorld } from './sim-world.js';
import type { HeldLock, Lease, LeaseOwner, RunRecord, RunStore, StoredEvent } from './types.js';

export interface BackedOptions {
  host: string;
  /** Where a run's working copy lives (the local store's folder for it). */
  workingDir: (runId: string) => string;
  /** The fields `firebreak runs` shows, derived from the events. */
  summarize: (events: readonly JournalEvent[]) => Record<string, unknown>;
}

const WAITS = new Set(['run.waiting', 'run.interrupted', 'run.ended']);

export function awsBackedRunStore(local: RunStore, aws: AwsRunStore, o: BackedOptions): RunStore {
  const owner = (runId: string, purpose: string): LeaseOwner => ({ runId, host: o.host, purpose });
  const held = new Map<string, { runId: string; handle(): HeldLock }>();

  function shared(resource: string, runId: string, lease: HeldLock): HeldLock {
    let count = 0;
    const handle = (): HeldLock => {
      count++;
      let released = false;
      return {
        async release() {
          if (released) return;
          released = true;
          if (--count > 0) return;
          held.delete(resource);
          await lease.release();
        },
      };
    };
    held.set(resource, { runId, handle });
    return handle();
  }

  async function lease(
    resource: string,
    who: LeaseOwner,
    describe: string,
    opts: { waitMs?: number; signal?: AbortSignal; onWait?: (h: { runId: string; host: string }) => void } = {},
  ): Promise<HeldLock> {
    const deadline = Date.now() + (opts.waitMs ?? 0);
    let told = false;
    for (;;) {
      // A run may lock a target it already holds (several steps on one instance): one lease, counted handles.
      const mine = held.get(resource);
      if (mine && mine.runId === who.runId) return mine.handle();
      const got = await aws.acquireLease(resource, who);
      if (got.ok) return shared(resource, who.runId, renewing(aws, got.lease));
      if (Date.now() >= deadline || opts.signal?.aborted)
        throw new FirebreakError(
          `${describe} is locked by run ${got.holder.owner.runId} on ${got.holder.owner.host} until ${got.holder.expiresAt}`,
          {
            hint: 'firebreak runs   (find the run working on it); a lease whose owner stopped renewing it is taken over when it expires',
          },
        );
      if (!told) opts.onWait?.({ runId: got.holder.owner.runId, host: got.holder.owner.host });
      told = true;
      await new Promise((r) => setTimeout(r, Math.min(1000, Math.max(50, deadline - Date.now()))));
    }
  }

  const record = (runId: string, dir: string, inner: RunRecord): RunRecord => {
    let queue: Promise<void> = Promise.resolve();
    let failure: unknown;
    let lastSeq = 0;
    const enqueue = (what: () => Promise<unknown>) => {
      queue = queue.then(async () => {
        if (failure) return;
        try {
          await what();
        } catch (err) {
          failure = err;
        }
      });
    };
    const settle = async () => {
      await queue;
      if (failure) throw failure;
    };
    return {
      runId,
      dir,
      lock: async (req) => {
        const held = await aws.acquireLease(`run/${runId}`, owner(runId, req.purpose));
        return held.ok ? renewing(aws, held.lease) : undefined;
      },
      openJournal(clock) {
        const journal: Journal = inner.openJournal(clock);
        // The kill -9 tests' hook (never set by Firebreak): with this store a line counts once the table has it.
        const crashAt = journal.takeCrashHook();
        const append = async (l: { seq: number; line: string }) => {
          await aws.append(runId, l);
          if (l.seq === crashAt) process.kill(process.pid, 'SIGKILL');
        };
        // Lines the journal wrote while opening (repairs), or before a crash cut the copy short.
        enqueue(async () => {
          const stored = (await aws.lastEvent(runId))?.seq ?? 0;
          for (const l of fileLines(join(dir, 'journal.jsonl')).slice(stored)) await append(l);
        });
        journal.onLine((w) => {
          lastSeq = w.seq;
          enqueue(() => append({ seq: w.seq, line: w.line }));
          // A step that asks a person gets a pending approval record: `firebreak approve` on any machine answers it there.
          if (w.type === 'approval.requested' || w.type === 'manual.requested') {
            const e = JSON.parse(w.line) as { step: string; policy?: string; title?: string };
            if (w.type === 'manual.requested' || e.policy === 'required')
              enqueue(() =>
                aws.requestApproval(runId, e.step, { kind: w.type === 'manual.requested' ? 'manual' : 'approval', seq: w.seq }),
              );
          }
          if (WAITS.has(w.type)) {
            enqueue(() => aws.seal(runId, w.seq));
            // A rehearsal's simulated world goes with it, so another machine resumes against it (sim-world.ts).
            enqueue(() => putSimWorld(aws, runId, dir));
          }
        });
        lastSeq = journal.lastSeq;
        return journal;
      },
      readJournal: () => inner.readJournal(),
      async postedApproval(step) {
        const rec = await aws.readApproval(runId, step);
        if (rec?.status !== 'answered' || !rec.answer) return inner.postedApproval(step);
        const a = rec.answer;
        return { decision: a.decision, by: a.by, ...(a.note ? { note: a.note } : {}), via: a.via ?? 'approve-command', at: a.at };
      },
      // In the table, not the working copy: `firebreak approve` answers from any machine (a Lambda's /tmp is gone).
      keepTaskToken: (step, token) => aws.keepTaskToken(runId, step, token),
      taskToken: async (step) => (await aws.readTaskToken(runId, step))?.token,
      async claimTaskToken(step, token, answer) {
        await aws.claimTaskToken(runId, step, token, answer);
        return { release: () => aws.releaseTaskToken(runId, step, token, answer) };
      },
      writeSummary(events) {
        inner.writeSummary(events);
        const fields = o.summarize(events);
        const started = String(events[0]?.ts ?? new Date().toISOString());
        const updatedAt = String(events.at(-1)?.ts ?? started);
        enqueue(() => aws.putSummary({ runId, startedAt: started, updatedAt, fields }));
      },
      settle,
      async seal() {
        const upto = lastSeq;
        enqueue(() => aws.seal(runId, upto));
        await settle();
      },
    };
  };

  return {
    kind: 'aws',
    async create(runId) {
      if (await aws.lastEvent(runId))
        throw new InputError(`run ${runId} already exists in the store`, { field: 'RUN', hint: `firebreak resume ${runId}` });
      const inner = await local.create(runId);
      return record(runId, inner.dir, inner);
    },
    async open(runId, opts = {}) {
      const lines = await aws.readEvents(runId);
      // Killed before its first line reached the table: this machine's working copy is all there is
      // (nothing was acted on yet: every AWS call waits for the table); opening its journal sends it.
      if (lines.length === 0 && fileLines(join(o.workingDir(runId), 'journal.jsonl')).length > 0) {
        const inner = await local.open(runId);
        return record(runId, inner.dir, inner);
      }
      if (lines.length === 0)
        throw new InputError(`no run ${runId} in the store (table ${aws.config.table})`, {
          field: 'RUN',
          hint: 'firebreak runs   (lists runs)',
        });
      const dir = o.workingDir(runId);
      writeWorkingCopy(dir, lines);
      // A rehearsal started on another machine: its simulated world comes from the store. This
      // machine's own copy, when it has one, has every change (the store's is as of the last seal).
      if (
        !opts.journalOnly &&
        !existsSync(join(dir, 'world.json')) &&
        !(await fetchSimWorld(aws, runId, dir)) &&
        JSON.parse(lines[0]!.line).backend === 'sim'
      )
        throw new InputError(`run ${runId} is a rehearsal whose simulated world is not in the store: it stopped before its first seal`, {
          field: 'RUN',
          hint: `resume it on the machine that started it (${String(JSON.parse(lines[0]!.line).operator?.host ?? 'its host')})`,
        });
      const inner = await local.open(runId);
      return record(runId, inner.dir, inner);
    },
    lockTarget: (kind, id, req, opts = {}) =>
      lease(opts.scope ? `${opts.scope}/${kind}/${id}` : `${kind}/${id}`, owner(req.runId, req.purpose), `${kind} ${id}`, {
        ...(opts.waitMs ? { waitMs: opts.waitMs } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.onWait ? { onWait: opts.onWait } : {}),
      }),
  };
}

/** A held lease renewed in the background until released; a lost lease is reported at release. */
function renewing(aws: AwsRunStore, first: Lease): HeldLock {
  let current = first;
  let lost: unknown;
  let renewal: Promise<void> = Promise.resolve();
  const timer = setInterval(
    () => {
      renewal = aws.renewLease(current).then(
        (l) => {
          current = l;
        },
        (err) => {
          lost ??= err;
          clearInterval(timer);
        },
      );
    },
    Math.max(1000, (aws.config.leaseSeconds * 1000) / 3),
  );
  timer.unref();
  return {
    async release() {
      clearInterval(timer);
      await renewal;
      if (lost) throw lost;
      await aws.releaseLease(current);
    },
  };
}

/** The journal file's lines as written (each without its newline); a torn last line is not one. */
function fileLines(file: string): Array<{ seq: number; line: string }> {
  if (!existsSync(file)) return [];
  const text = readFileSync(file, 'utf8');
  const parts = text.split('\n').slice(0, -1);
  return parts.map((line, i) => ({ seq: i + 1, line }));
}

/** The store's lines become the working copy (the store is the truth), with a head that matches them. */
function writeWorkingCopy(dir: string, lines: StoredEvent[]): void {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'journal.jsonl');
  const text = lines.map((l) => `${l.line}\n`).join('');
  if (existsSync(file) && readFileSync(file, 'utf8') === text) return;
  rmSync(headPathFor(file), { force: true });
  writeFileSync(file, text);
  const last = lines.at(-1) as StoredEvent;
  writeFileSync(headPathFor(file), encodeHead({ seq: last.seq, sha256: last.hash }));
}
