/** Run the built CLI as its own process, as a responder or an alert pipeline would, and time it. */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest folder above this file with a package.json (from bench/ or dist/bench/). */
export const ROOT = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`failed to find the repository root above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
  return dir;
})();
export const BIN = join(ROOT, 'bin/firebreak.js');
const PROBE = join(ROOT, 'dist/bench/lib/probe.js');

export interface ProbeReport {
  timeOrigin: number;
  probeLoadedAt: number;
  exitAt: number;
  exitCode: number;
  maxRssKiB: number;
  userCpuMs: number;
  systemCpuMs: number;
  /** Synchronous durable I/O (fsync family, rename, link): calls and total blocked time. */
  syncIo: Record<string, { calls: number; ms: number }>;
  /** @aws-sdk/* packages the process loaded. */
  awsSdkPackages: string[];
}

export interface ChildRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Epoch ms (fractional) just before spawn() and when the parent saw the process close. */
  spawnAt: number;
  closedAt: number;
  wallMs: number;
  probe?: ProbeReport;
}

export const epochNow = () => performance.timeOrigin + performance.now();

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** An environment that can never reach real AWS: no credentials, an unroutable endpoint. */
export function benchEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    FIREBREAK_HOME: home,
    NO_COLOR: '1',
    AWS_ACCESS_KEY_ID: '',
    AWS_SECRET_ACCESS_KEY: '',
    AWS_PROFILE: '',
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    ...extra,
  };
}

export interface SpawnOptions {
  home: string;
  env?: Record<string, string>;
  /** Preload the probe (peak RSS, time origin). Off for start-up timing, where it would add a module. */
  probe?: boolean;
  nodeArgs?: string[];
  cwd?: string;
  /**
   * Start-up is measured in the user's environment (everything the shell passes, as a person or
   * a CI job runs the command), with only FIREBREAK_HOME moved to the bench's folder: a stripped
   * environment skips what the SDK and Node read from it and would flatter the figure.
   */
  userEnv?: boolean;
}

export function runCli(args: string[], o: SpawnOptions): Promise<ChildRun> {
  const probeFile = o.probe ? join(o.home, `probe-${process.pid}-${Math.random().toString(36).slice(2)}.json`) : undefined;
  const nodeArgs = [...(o.nodeArgs ?? []), ...(probeFile ? ['--import', PROBE] : [])];
  const extra = { ...(o.env ?? {}), ...(probeFile ? { FIREBREAK_BENCH_PROBE: probeFile } : {}) };
  const env = o.userEnv ? { ...process.env, FIREBREAK_HOME: o.home, ...extra } : benchEnv(o.home, extra);
  return new Promise((resolvePromise, reject) => {
    const spawnAt = epochNow();
    const child = spawn(process.execPath, [...nodeArgs, BIN, ...args], { cwd: o.cwd ?? ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const closedAt = epochNow();
      let probe: ProbeReport | undefined;
      if (probeFile) {
        try {
          probe = JSON.parse(readFileSync(probeFile, 'utf8')) as ProbeReport;
          rmSync(probeFile, { force: true });
        } catch (err) {
          reject(
            new Error(`failed to read the probe of 'firebreak ${args.join(' ')}' (exit ${code}): ${(err as Error).message}\n${stderr}`),
          );
          return;
        }
      }
      resolvePromise({ code, stdout, stderr, spawnAt, closedAt, wallMs: closedAt - spawnAt, ...(probe ? { probe } : {}) });
    });
  });
}
