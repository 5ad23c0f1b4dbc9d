/** Run the built CLI as a separate process, as a responder would. */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const BIN = join(ROOT, 'bin/firebreak.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function tempHome(prefix = 'fb-home-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function cliEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    FIREBREAK_HOME: home,
    NO_COLOR: '1',
    // Real AWS must never be reached from tests: no credentials, an unroutable endpoint.
    AWS_ACCESS_KEY_ID: '',
    AWS_SECRET_ACCESS_KEY: '',
    AWS_PROFILE: '',
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    ...extra,
  };
}

export function cli(
  args: string[],
  opts: { home: string; stdin?: string; env?: Record<string, string>; cwd?: string },
): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? ROOT, env: cliEnv(opts.home, opts.env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
    child.stdin.end(opts.stdin ?? '');
  });
}

/**
 * Drive prompts: each time the output shows `expect`, type `answer` + Enter. Answers go one at a
 * time, after their prompt appears, as a person at a terminal would type them.
 */
export function cliScripted(
  args: string[],
  opts: { home: string; cwd?: string; script: Array<{ expect: RegExp; answer: string }> },
): Promise<CliResult & { unanswered: number }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? ROOT, env: cliEnv(opts.home) });
    let stdout = '';
    let stderr = '';
    let next = 0;
    let seen = 0; // output offset already matched
    const check = () => {
      const all = stdout + stderr;
      const step = opts.script[next];
      if (!step) return;
      const rest = all.slice(seen);
      const m = step.expect.exec(rest);
      if (m) {
        seen += m.index + m[0].length;
        next++;
        child.stdin.write(`${step.answer}\n`);
        setImmediate(check);
      }
    };
    child.stdout.on('data', (d) => {
      stdout += d;
      check();
    });
    child.stderr.on('data', (d) => {
      stderr += d;
      check();
    });
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr, unanswered: opts.script.length - next }));
  });
}

/** Run ids, oldest first by the journal's start time (ids only sort to the second). */
export function runIds(home: string): string[] {
  const dir = join(home, 'runs');
  if (!existsSync(dir)) return [];
  const started = (id: string): string => {
    const file = join(dir, id, 'journal.jsonl');
    const first = existsSync(file) ? readFileSync(file, 'utf8').split('\n', 1)[0]! : '';
    return first ? String(JSON.parse(first).ts) : ''; // no journal yet: a run being created
  };
  return readdirSync(dir)
    .map((id) => [started(id), id] as const)
    .sort((a, b) => a[0].localeCompare(b[0]) || a[1].localeCompare(b[1]))
    .map(([, id]) => id);
}

export function journal(home: string, runId: string): Array<{ type: string; [k: string]: any }> {
  // Only complete lines: a live run may be writing the next one.
  const text = readFileSync(join(home, 'runs', runId, 'journal.jsonl'), 'utf8');
  return text
    .slice(0, text.lastIndexOf('\n') + 1)
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

export function world(home: string, runId: string): any {
  return JSON.parse(readFileSync(join(home, 'runs', runId, 'world.json'), 'utf8'));
}

const READ_ONLY = /^(Describe|Get|List)/;
export function mutatingCalls(events: Array<{ type: string; [k: string]: any }>): string[] {
  return events.filter((e) => e.type === 'aws.call' && !READ_ONLY.test(e.operation)).map((e) => `${e.service}:${e.operation}`);
}

/**
 * Start `firebreak ARGS` and SIGKILL it as soon as its run's journal text satisfies `ready` (up to
 * a minute: on a busy machine the process takes seconds to start). Returns the run id.
 */
export async function killWhen(home: string, args: string[], ready: (journalText: string) => boolean): Promise<string> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: cliEnv(home), stdio: 'ignore' });
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  let id: string | undefined;
  for (let i = 0; i < 12_000; i++) {
    await new Promise((r) => setTimeout(r, 5));
    id ??= runIds(home)[0];
    const f = id && join(home, 'runs', id, 'journal.jsonl');
    if (f && existsSync(f) && ready(readFileSync(f, 'utf8'))) break;
  }
  child.kill('SIGKILL');
  await exited;
  return id!;
}

/**
 * Run `firebreak ARGS` with the journal's crash hook set: the process SIGKILLs itself right after
 * journal line `line` is written. Returns how it ended (a crash shows as signal SIGKILL).
 */
export function cliCrashingAfter(
  args: string[],
  opts: { home: string; line: number },
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const env = cliEnv(opts.home, { FIREBREAK_CRASH_AFTER_LINE: String(opts.line) });
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code, signal, stderr }));
  });
}
