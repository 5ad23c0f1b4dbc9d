/**
 * Exclusive lock files: one per run (`run.lock`) and one per target resource
 * (`<home>/locks/<kind>-<id>.lock`), so two runs never fight over an instance or a key.
 *
 * Why not a lock library: a run killed with SIGKILL (OOM killer, a closed laptop lid, kill -9)
 * must not keep its locks, because the responder's next command is `firebreak resume`, seconds
 * later. Libraries such as proper-lockfile decide staleness by mtime (2 s at the least, and only
 * while the holder stops refreshing it), so they would refuse resume or need a sleep. A lock here
 * names its holder's pid and host instead: on the same host, a holder whose pid is gone
 * (`kill(pid, 0)` fails with ESRCH) is dead at once, whatever the clock says.
 *
 * How a lock is taken: the content `{ pid, host, runId, purpose, since }` is written and fsynced
 * to a temp file, then link()ed to the lock path. link fails with EEXIST when the lock exists, and
 * when it succeeds the lock appears with its whole content: no reader ever sees an empty lock.
 *
 * The race closed on takeover: two processes that find the same dead holder's lock must not both
 * replace it (rename and unlink act on whatever is at the path *now*, so the second would destroy
 * the first one's fresh lock, and both would run). Replacing a stale lock therefore needs a claim:
 * a lock file named after the stale lock's identity (inode and content), taken with the same
 * link() step. One process wins the claim, checks that the path still holds that stale lock, and
 * renames its own lock over it; while the claim is held nothing else can change the path (its
 * owner is dead, and a new lock cannot be linked over an existing file). A claimer that dies
 * leaves a stale claim, which is taken over the same way, one level down.
 *
 * Limits, each failing safe (the lock stays held, never shared): a lock from another host is never
 * judged stale, since its pid cannot be checked from here; a dead holder whose pid was reused
 * looks alive until that process ends. Either way the holder message names the file to remove.
 */
import { closeSync, fstatSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { systemClock, type Clock } from '../core/clock.js';
import { FirebreakError } from '../core/errors.js';
import { renameDurablySync } from '../core/durable-write.js';

export interface LockOwner {
  runId: string;
  purpose: string;
}

export interface LockInfo extends LockOwner {
  pid: number;
  host: string;
  since: string; // ISO time
}

export interface Lock {
  readonly path: string;
  readonly info: LockInfo;
  /** Remove the lock. Throws if the file is no longer this holder's: nothing is removed then. */
  release(): void;
}

export interface LockOptions {
  clock?: Clock;
  /**
   * Let the same run take a lock it already holds in this process (a run whose steps target the
   * same instance twice). Each handle must be released; the file goes with the last one.
   */
  reentrant?: boolean;
  /**
   * Called when the lock's holder is found dead, before its lock is taken over: the engine
   * journals whose lock it inherited.
   */
  onStaleHolder?: (holder: LockInfo) => void;
}

/** The file is this one: same inode and same bytes (an inode number alone can be reused). */
interface Identity {
  ino: number;
  raw: string;
}

interface Held extends Identity {
  info: LockInfo;
}

/** Locks this process holds, for re-entry and for telling our own lock from a stranger's. */
const heldHere = new Map<string, Held & { handles: number }>();

/** Nested claims only happen when claimers die mid-takeover; a deep chain means something else is wrong. */
const MAX_CLAIM_DEPTH = 8;
const MAX_ATTEMPTS = 20;

/** Take the lock at `path`, or return null when a live process holds it. Takes over a dead holder's lock. */
export function tryLock(path: string, owner: LockOwner, opts: LockOptions = {}): Lock | null {
  const abs = resolve(path);
  const mine = heldHere.get(abs);
  if (mine) {
    if (!opts.reentrant || mine.info.runId !== owner.runId) return null;
    mine.handles++;
    return handle(abs, mine);
  }
  const info: LockInfo = {
    pid: process.pid,
    host: hostname(),
    runId: owner.runId,
    purpose: owner.purpose,
    since: (opts.clock ?? systemClock).now().toISOString(),
  };
  const held = lockAt(abs, info, 0, opts.onStaleHolder);
  if (!held) return null;
  const entry = { ...held, handles: 1 };
  heldHere.set(abs, entry);
  return handle(abs, entry);
}

/** The promise form of `tryLock`, for async callers. */
export async function acquireLock(path: string, owner: LockOwner, opts: LockOptions = {}): Promise<Lock | null> {
  return tryLock(path, owner, opts);
}

/** Who holds the lock at `path`, or undefined when it is free. */
export function readLock(path: string): LockInfo | undefined {
  return inspect(resolve(path))?.info;
}

/** "resource X is locked by run Y (pid Z on H, purpose) since T": what a refused caller shows. */
export function describeHolder(resource: string, info: LockInfo): string {
  return `${resource} is locked by run ${info.runId} (pid ${info.pid} on ${info.host}, ${info.purpose}) since ${info.since}`;
}

/**
 * The lock file of one resource: `<home>/locks/<scope>/<kind>-<id>.lock`, with the id made
 * file-safe. The scope says where the resource lives (account and region, and for a simulated
 * cloud which world): an instance id is unique only within its account and region.
 */
export function resourceLockPath(home: string, kind: string, id: string, scope?: string): string {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(kind)) throw new FirebreakError(`failed to lock ${kind} ${id}: '${kind}' is not a resource kind`);
  if (id.length === 0) throw new FirebreakError(`failed to lock ${kind}: empty resource id`);
  return join(home, 'locks', ...(scope ? [safeName(scope)] : []), `${kind}-${safeName(id)}.lock`);
}

function safeName(id: string): string {
  const safe = id.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\./, '_');
  // ARNs lose their ':' and '/'; the hash keeps ids that differ only there from sharing a lock.
  return safe === id && safe.length <= 120 ? safe : `${safe.slice(0, 120)}-${createHash('sha256').update(id).digest('hex').slice(0, 12)}`;
}

/** Lock one target resource for a run. Re-entrant for the same run in this process. */
export async function lockResource(
  home: string,
  kind: string,
  id: string,
  owner: LockOwner,
  opts: Omit<LockOptions, 'reentrant'> & { scope?: string } = {},
): Promise<Lock | null> {
  const { scope, ...lockOpts } = opts;
  return tryLock(resourceLockPath(home, kind, id, scope), owner, { ...lockOpts, reentrant: true });
}

function handle(path: string, entry: Held & { handles: number }): Lock {
  let released = false;
  return {
    path,
    info: entry.info,
    release() {
      if (released) return;
      released = true;
      if (--entry.handles > 0) return;
      heldHere.delete(path);
      const now = inspect(path);
      if (!now) throw new FirebreakError(`failed to release lock ${path}: the file is gone (removed by hand?)`);
      if (now.ino !== entry.ino || now.raw !== entry.raw) {
        throw new FirebreakError(
          `failed to release lock ${path}: ${describeHolder(basename(path), now.info)}, not by this process; it was left in place`,
        );
      }
      unlinkSync(path);
    },
  };
}

function lockAt(path: string, info: LockInfo, depth: number, onStaleHolder?: (holder: LockInfo) => void): Held | null {
  if (depth > MAX_CLAIM_DEPTH)
    throw new FirebreakError(`failed to lock ${path}: ${depth} nested takeover claims; remove ${path}.claim-* if no run is active`);
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (err) {
    throw lockError(path, err);
  }
  const raw = `${JSON.stringify(info)}\n`;
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const ino = writeDurably(tmp, raw);
  const mine: Held = { ino, raw, info };
  try {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      try {
        linkSync(tmp, path);
        return mine;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw lockError(path, err);
      }
      const holder = inspect(path);
      if (!holder) continue; // released between our link and our read: try again
      if (!isDead(holder.info)) return null;
      onStaleHolder?.(holder.info);
      const outcome = takeOver(path, holder, tmp, info, depth);
      if (outcome === 'taken') return mine;
      if (outcome === 'busy') return null;
    }
    throw new FirebreakError(`failed to lock ${path}: it changed hands ${MAX_ATTEMPTS} times while trying`);
  } finally {
    unlinkIfPresent(tmp);
  }
}

/**
 * Replace a dead holder's lock with ours (`tmp`), under a claim named after the stale lock's
 * identity so that only one process can do it (see the header comment).
 */
function takeOver(path: string, stale: Held, tmp: string, info: LockInfo, depth: number): 'taken' | 'busy' | 'changed' {
  const id = createHash('sha256').update(`${stale.ino}\n${stale.raw}`).digest('hex').slice(0, 16);
  const claimPath = `${path}.claim-${id}`;
  const claim = lockAt(claimPath, { ...info, purpose: `take over ${basename(path)} from dead pid ${stale.info.pid}` }, depth + 1);
  if (!claim) return 'busy';
  try {
    const now = inspect(path);
    if (!now || now.ino !== stale.ino || now.raw !== stale.raw) return 'changed';
    renameDurablySync(tmp, path);
    return 'taken';
  } finally {
    const now = inspect(claimPath);
    if (now && now.ino === claim.ino && now.raw === claim.raw) unlinkSync(claimPath);
  }
}

/** Write a file and fsync it, so a lock linked from it never appears empty after power loss. Returns its inode. */
function writeDurably(path: string, content: string): number {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o644);
  } catch (err) {
    throw lockError(path, err);
  }
  let ino: number;
  try {
    const bytes = Buffer.from(content, 'utf8');
    const written = writeSync(fd, bytes);
    if (written !== bytes.length) throw new Error(`short write: ${written} of ${bytes.length} bytes`);
    fsyncSync(fd);
    ino = fstatSync(fd).ino;
  } catch (err) {
    closeSync(fd);
    unlinkIfPresent(path);
    throw lockError(path, err);
  }
  closeSync(fd);
  return ino;
}

/** The lock at `path` with its identity, read from one open file so both describe the same inode. */
function inspect(path: string): Held | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw lockError(path, err, 'read');
  }
  try {
    const ino = fstatSync(fd).ino;
    const raw = readFileSync(fd, 'utf8');
    return { ino, raw, info: parseInfo(path, raw) };
  } finally {
    closeSync(fd);
  }
}

function parseInfo(path: string, raw: string): LockInfo {
  let v: Partial<LockInfo> | null = null;
  try {
    v = JSON.parse(raw) as Partial<LockInfo>;
  } catch {
    // Reported below with the file's name and what to do.
  }
  if (
    !v ||
    !Number.isSafeInteger(v.pid) ||
    v.pid! <= 0 ||
    typeof v.host !== 'string' ||
    typeof v.runId !== 'string' ||
    typeof v.purpose !== 'string' ||
    typeof v.since !== 'string'
  ) {
    throw new FirebreakError(`failed to read lock ${path}: not a Firebreak lock file`, {
      hint: `remove ${path} if no Firebreak run is active`,
    });
  }
  return { pid: v.pid!, host: v.host, runId: v.runId, purpose: v.purpose, since: v.since };
}

/** Dead only when provably so: same host and no such pid. EPERM means it exists under another user. */
function isDead(info: LockInfo): boolean {
  if (info.host !== hostname()) return false;
  if (info.pid === process.pid) return false;
  try {
    process.kill(info.pid, 0);
    return false;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') return true;
    if (code === 'EPERM') return false;
    throw err;
  }
}

function unlinkIfPresent(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

function lockError(path: string, err: unknown, verb = 'take'): FirebreakError {
  return new FirebreakError(`failed to ${verb} lock ${path}: ${(err as Error).message}`, { cause: err });
}
