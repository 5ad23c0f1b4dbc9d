import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, renameSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { SimClock } from '../../src/core/clock.js';
import { describeHolder, lockResource, readLock, resourceLockPath, tryLock, acquireLock, type Lock } from '../../src/engine/lock.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
let build: string; // lock.ts and what it imports, compiled for child processes
let dir: string;
let lockFile: string;
const children: ChildProcess[] = [];
const held: Lock[] = [];

/** Children run the real lock code: compile lock.ts and its imports to plain ESM once. */
beforeAll(() => {
  build = mkdtempSync(join(tmpdir(), 'fb-lock-build-'));
  for (const f of ['src/engine/lock.ts', 'src/core/clock.ts', 'src/core/errors.ts', 'src/core/durable-write.ts']) {
    const out = ts.transpileModule(readFileSync(join(repo, f), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    mkdirSync(dirname(join(build, f)), { recursive: true });
    writeFileSync(join(build, f.replace(/\.ts$/, '.js')), out);
  }
  writeFileSync(join(build, 'package.json'), '{"type":"module"}');
  // Takes the lock (at once, or when a line arrives on stdin), prints the outcome, then stays
  // alive holding it until killed or its stdin closes.
  writeFileSync(
    join(build, 'child.js'),
    `import { tryLock } from './src/engine/lock.js';
const [path, runId, when] = process.argv.slice(2);
const take = () => {
  try { process.stdout.write((tryLock(path, { runId, purpose: 'test' }) ? 'locked' : 'refused') + '\\n'); }
  catch (err) { process.stdout.write('error ' + err.message + '\\n'); }
};
if (when === 'on-go') process.stdin.once('data', take); else take();
process.stdin.on('end', () => process.exit(0));
`,
  );
});

afterAll(() => rmSync(build, { recursive: true, force: true }));

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fb-lock-'));
  lockFile = join(dir, 'runs', 'r1', 'run.lock');
});

afterEach(async () => {
  for (const l of held.splice(0)) l.release();
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) await kill(c);
  rmSync(dir, { recursive: true, force: true });
});

function child(path: string, runId: string, when: 'now' | 'on-go' = 'now'): { proc: ChildProcess; result: Promise<string> } {
  const proc = spawn(process.execPath, [join(build, 'child.js'), path, runId, when], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(proc);
  const result = new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    proc.once('exit', (code, signal) => reject(new Error(`child exited (${code ?? signal}) before answering: ${out}`)));
  });
  return { proc, result };
}

function kill(proc: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill('SIGKILL');
  });
}

const take = (path: string, runId: string, opts = {}) => {
  const l = tryLock(path, { runId, purpose: 'run' }, opts);
  if (l) held.push(l);
  return l;
};

describe('tryLock', () => {
  it('is exclusive within a process and names its holder', () => {
    const clock = new SimClock('2026-03-01T10:00:00Z');
    const a = take(lockFile, 'run-a', { clock });
    expect(a).not.toBeNull();
    expect(take(lockFile, 'run-b')).toBeNull();
    expect(take(lockFile, 'run-a')).toBeNull(); // not re-entrant unless asked
    const holder = readLock(lockFile)!;
    expect(holder).toEqual({ pid: process.pid, host: hostname(), runId: 'run-a', purpose: 'run', since: '2026-03-01T10:00:00.000Z' });
    expect(describeHolder('instance i-0abc', holder)).toBe(
      `instance i-0abc is locked by run run-a (pid ${process.pid} on ${hostname()}, run) since 2026-03-01T10:00:00.000Z`,
    );

    for (const l of held.splice(0)) l.release();
    expect(readLock(lockFile)).toBeUndefined();
    expect(take(lockFile, 'run-b')).not.toBeNull();
    expect(readLock(lockFile)?.runId).toBe('run-b');
  });

  it('leaves no temp files behind', async () => {
    const l = (await acquireLock(lockFile, { runId: 'r', purpose: 'run' }))!;
    expect(readdirSync(dirname(lockFile))).toEqual(['run.lock']);
    l.release();
    expect(readdirSync(dirname(lockFile))).toEqual([]);
  });

  it('reports a lock held by a live process, then takes it over once that process is killed with SIGKILL', async () => {
    const holder = child(lockFile, 'run-held');
    expect(await holder.result).toBe('locked');

    expect(take(lockFile, 'run-mine')).toBeNull();
    expect(readLock(lockFile)).toMatchObject({ pid: holder.proc.pid, runId: 'run-held', host: hostname() });

    await kill(holder.proc);
    const mine = take(lockFile, 'run-mine');
    expect(mine).not.toBeNull();
    expect(readLock(lockFile)).toMatchObject({ pid: process.pid, runId: 'run-mine' });
    expect(readdirSync(dirname(lockFile))).toEqual(['run.lock']);
  });

  it("lets exactly one of several processes take over a dead holder's lock", async () => {
    const dead = child(lockFile, 'run-dead');
    expect(await dead.result).toBe('locked');
    await kill(dead.proc);

    const racers = Array.from({ length: 6 }, (_, i) => child(lockFile, `run-${i}`, 'on-go'));
    // Wait until every racer is up, then start them together.
    await Promise.all(racers.map((r) => new Promise((resolve) => r.proc.once('spawn', resolve))));
    for (const r of racers) r.proc.stdin!.write('go\n');
    const results = await Promise.all(racers.map((r) => r.result));

    expect(results.filter((r) => r === 'locked')).toHaveLength(1);
    expect(results.filter((r) => r === 'refused')).toHaveLength(5);
    const winner = racers[results.indexOf('locked')]!;
    expect(readLock(lockFile)).toMatchObject({ pid: winner.proc.pid });
    expect(readdirSync(dirname(lockFile))).toEqual(['run.lock']);
  });

  it('does not replace a lock that another process took over while this one was deciding', async () => {
    const dead = child(lockFile, 'run-dead');
    expect(await dead.result).toBe('locked');
    await kill(dead.proc);
    const live = child(join(dir, 'elsewhere.lock'), 'run-winner');
    expect(await live.result).toBe('locked');
    const winnersLock = readFileSync(join(dir, 'elsewhere.lock'), 'utf8');

    const seen: string[] = [];
    const mine = take(lockFile, 'run-slow', {
      // The slow process has seen the dead holder; now the fast one completes its takeover.
      onStaleHolder: (h: { runId: string }) => {
        seen.push(h.runId);
        writeFileSync(`${lockFile}.winner`, winnersLock);
        renameSync(`${lockFile}.winner`, lockFile);
      },
    });
    expect(seen).toEqual(['run-dead']);
    expect(mine).toBeNull();
    expect(readLock(lockFile)).toMatchObject({ pid: live.proc.pid, runId: 'run-winner' });
    expect(readdirSync(dirname(lockFile))).toEqual(['run.lock']);
  });

  it("takes over a dead holder's lock even when a claimer died in the middle of taking it over", async () => {
    const dead = child(lockFile, 'run-dead');
    expect(await dead.result).toBe('locked');
    await kill(dead.proc);
    // The claim a process leaves when it dies between winning the claim and replacing the lock.
    const claimer = child(join(dir, 'scratch.lock'), 'run-claimer');
    expect(await claimer.result).toBe('locked');
    await kill(claimer.proc);
    const id = createHash('sha256')
      .update(`${statSync(lockFile).ino}\n${readFileSync(lockFile, 'utf8')}`)
      .digest('hex')
      .slice(0, 16);
    renameSync(join(dir, 'scratch.lock'), `${lockFile}.claim-${id}`);

    expect(take(lockFile, 'run-mine')).not.toBeNull();
    expect(readLock(lockFile)).toMatchObject({ pid: process.pid, runId: 'run-mine' });
    expect(readdirSync(dirname(lockFile))).toEqual(['run.lock']);
  });

  it('never takes over a lock from another host', () => {
    mkdirSync(dirname(lockFile), { recursive: true });
    const foreign = { pid: 999_999, host: 'other-host', runId: 'run-x', purpose: 'run', since: '2026-01-01T00:00:00.000Z' };
    writeFileSync(lockFile, JSON.stringify(foreign));
    expect(take(lockFile, 'run-mine')).toBeNull();
    expect(readLock(lockFile)).toEqual(foreign);
  });

  it('refuses a file that is not a lock, and leaves it alone', () => {
    mkdirSync(dirname(lockFile), { recursive: true });
    writeFileSync(lockFile, 'garbage');
    expect(() => take(lockFile, 'run-mine')).toThrow(/failed to read lock .*run\.lock: not a Firebreak lock file/);
    expect(readFileSync(lockFile, 'utf8')).toBe('garbage');
  });

  it('refuses to release a lock file that is no longer its own', () => {
    const l = tryLock(lockFile, { runId: 'run-a', purpose: 'run' })!;
    const other = { pid: process.pid, host: hostname(), runId: 'run-z', purpose: 'run', since: '2026-01-01T00:00:00.000Z' };
    writeFileSync(`${lockFile}.new`, JSON.stringify(other));
    renameSync(`${lockFile}.new`, lockFile);
    expect(() => l.release()).toThrow(/failed to release lock .*: run\.lock is locked by run run-z/);
    expect(readLock(lockFile)).toEqual(other);
  });
});

describe('lockResource', () => {
  it('locks one resource per run, re-entrant for the same run, the file going with the last handle', async () => {
    const home = join(dir, 'home');
    const owner = { runId: 'run-a', purpose: 'target' };
    const first = (await lockResource(home, 'instance', 'i-0abc', owner))!;
    const second = (await lockResource(home, 'instance', 'i-0abc', owner))!;
    expect(first).not.toBeNull();
    expect(second).not.toBeNull();
    expect(await lockResource(home, 'instance', 'i-0abc', { runId: 'run-b', purpose: 'target' })).toBeNull();

    const path = join(home, 'locks', 'instance-i-0abc.lock');
    first.release();
    expect(readLock(path)?.runId).toBe('run-a');
    second.release();
    expect(readLock(path)).toBeUndefined();
  });

  it.each([
    ['instance', 'i-0123456789abcdef0', 'instance-i-0123456789abcdef0.lock'],
    ['access-key', 'AKIAIOSFODNN7EXAMPLE', 'access-key-AKIAIOSFODNN7EXAMPLE.lock'],
    ['role', 'arn:aws:iam::123456789012:role/Admin', /^role-arn_aws_iam__123456789012_role_Admin-[0-9a-f]{12}\.lock$/],
    ['user', '.hidden', /^user-_hidden-[0-9a-f]{12}\.lock$/],
  ])('names the lock of %s %s as a safe file', (kind, id, name) => {
    const path = resourceLockPath('/h', kind, id);
    expect(dirname(path)).toBe(join('/h', 'locks'));
    if (typeof name === 'string') expect(path.slice(path.lastIndexOf('/') + 1)).toBe(name);
    else expect(path.slice(path.lastIndexOf('/') + 1)).toMatch(name);
  });

  it('keeps ids apart that differ only in characters a file name cannot hold', () => {
    expect(resourceLockPath('/h', 'role', 'a:b')).not.toBe(resourceLockPath('/h', 'role', 'a/b'));
    expect(resourceLockPath('/h', 'role', 'a_b')).not.toBe(resourceLockPath('/h', 'role', 'a:b'));
    expect(resourceLockPath('/h', 'role', 'x'.repeat(2000)).length).toBeLessThan(200);
  });

  it.each([['Instance'], ['../x'], ['']])('refuses the resource kind %j', (kind) => {
    expect(() => resourceLockPath('/h', kind, 'i-1')).toThrow(/is not a resource kind/);
  });
});
