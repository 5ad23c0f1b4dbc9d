/**
 * Start-up: whole processes, as a shell or a CI job runs them, in the environment this benchmark
 * was started with (the user's). The median of `runs` runs, after two unmeasured runs that warm
 * the page cache (none for a smoke run of fewer than 5).
 */
import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readJournal, tsOf } from './lib/calls.js';
import { benchEnv, type ChildRun, epochNow, ROOT, runCli, tempDir } from './lib/child.js';
import { DEMO_INSTANCE } from './lib/worlds.js';
import { median, quantile, round } from './lib/stats.js';

export interface StartupResult {
  command: string;
  runs: number;
  medianMs: number;
  p10Ms: number;
  p90Ms: number;
  minMs: number;
  maxMs: number;
  /** @aws-sdk/* packages the command loaded (from one extra run with the probe). */
  awsSdkPackages: string[];
  peakRssMiB: number;
}

async function timeCommand(args: string[], runs: number): Promise<StartupResult> {
  const home = tempDir('fb-bench-start-');
  for (let i = 0; i < (runs >= 5 ? 2 : 0); i++) await runCli(args, { home, userEnv: true });
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await runCli(args, { home, userEnv: true });
    if (r.code !== 0) throw new Error(`'firebreak ${args.join(' ')}' exited ${r.code}: ${r.stderr.slice(0, 1000)}`);
    times.push(r.wallMs);
  }
  const probed = await runCli(args, { home, probe: true, userEnv: true });
  return {
    command: `firebreak ${args.map((a) => (a.startsWith(ROOT) ? a.slice(ROOT.length + 1) : a)).join(' ')}`,
    runs,
    medianMs: round(median(times)),
    p10Ms: round(quantile(times, 0.1)),
    p90Ms: round(quantile(times, 0.9)),
    minMs: round(Math.min(...times)),
    maxMs: round(Math.max(...times)),
    awsSdkPackages: probed.probe!.awsSdkPackages,
    peakRssMiB: round(probed.probe!.maxRssKiB / 1024),
  };
}

export async function benchStartup(o: { runs: number }): Promise<StartupResult[]> {
  const playbooks = readdirSync(join(ROOT, 'playbooks'))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => join(ROOT, 'playbooks', f));
  return [await timeCommand(['--version'], o.runs), await timeCommand(['validate', ...playbooks], o.runs)];
}

/**
 * The compile cache (`module.enableCompileCache()` in bin/firebreak.js and the Lambda handler):
 * each workload in a new process, `runs` times per mode — "off" (NODE_DISABLE_COMPILE_CACHE=1),
 * "first run" (an empty cache folder each time: the run compiles everything and writes the cache)
 * and "warm" (a cache written by one unmeasured run before). The cache folder is chosen with
 * TMPDIR, so the launcher's own default (<tmpdir>/node-compile-cache) is what is measured.
 */
export type CacheMode = 'off' | 'first run' | 'warm';

export interface CompileCacheResult {
  workload: string;
  mode: CacheMode;
  runs: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
}

interface Workload {
  name: string;
  /** One measured run in `home` with `env`; returns milliseconds. */
  once(home: string, env: Record<string, string>): Promise<number>;
}

function cliWorkload(name: string, args: (home: string) => string[], measure?: (r: ChildRun, home: string) => number): Workload {
  return {
    name,
    async once(home, env) {
      const r = await runCli(args(home), { home, env, userEnv: true });
      if (r.code !== 0 && r.code !== 3) throw new Error(`'firebreak ${args(home).join(' ')}' exited ${r.code}: ${r.stderr.slice(0, 1000)}`);
      return measure ? measure(r, home) : r.wallMs;
    },
  };
}

/** `await import('dist/bundle/lambda.js')` and one GuardDuty finding against the simulated cloud, in a new process. */
const LAMBDA_SCRIPT = `
const { handler } = await import(process.env.FB_LAMBDA);
const event = JSON.parse(require('node:fs').readFileSync(process.env.FB_EVENT, 'utf8'));
const r = await handler(event, { getRemainingTimeInMillis: () => 600000 });
if (r.rejected) { console.error(r.rejected); process.exit(1); }`;

const lambdaWorkload: Workload = {
  name: 'Lambda: load the handler + one finding (simulated cloud)',
  once: (home, env) =>
    new Promise((resolvePromise, reject) => {
      const routes = join(home, 'routes.yaml');
      writeFileSync(
        routes,
        [
          'routes:',
          '  - name: bench-crypto-mining',
          '    match: { source: guardduty, type: "CryptoCurrency:EC2/*", minSeverity: 5 }',
          `    playbook: ${JSON.stringify(join(ROOT, 'playbooks/ec2-instance-compromise.yaml'))}`,
          "    inputs: { instanceId: '{% resources.instanceIds[0] %}' }",
          '',
        ].join('\n'),
      );
      const start = epochNow();
      const child = spawn(process.execPath, ['--input-type=commonjs', '-e', `(async () => {${LAMBDA_SCRIPT}})()`], {
        cwd: ROOT,
        env: {
          ...benchEnv(home, env),
          FB_LAMBDA: join(ROOT, 'dist/bundle/lambda.js'),
          FB_EVENT: join(ROOT, 'bench/fixtures/guardduty-finding.json'),
          FIREBREAK_ROUTES: routes,
          FIREBREAK_SIM: join(ROOT, 'worlds/demo.yaml'),
          AWS_REGION: 'us-east-1',
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) =>
        code === 0 ? resolvePromise(epochNow() - start) : reject(new Error(`the Lambda handler exited ${code}: ${stderr.slice(0, 1000)}`)),
      );
    }),
};

export async function benchCompileCache(o: { runs: number }): Promise<CompileCacheResult[]> {
  const playbooks = readdirSync(join(ROOT, 'playbooks'))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => join(ROOT, 'playbooks', f));
  const toRunStarted = (r: ChildRun, home: string) => {
    const out = JSON.parse(r.stdout) as { runId: string };
    return tsOf(readJournal(join(home, 'runs', out.runId, 'journal.jsonl')), 'run.started')! - r.spawnAt;
  };
  const workloads: Workload[] = [
    cliWorkload('firebreak --version', () => ['--version']),
    cliWorkload('firebreak validate playbooks/*.yaml', () => ['validate', ...playbooks]),
    cliWorkload(
      'firebreak run … --sim --auto: spawn → run.started',
      () => ['run', 'ec2-instance-compromise', '--sim', '--auto', '--dry-run', '--json', '--input', `instanceId=${DEMO_INSTANCE}`],
      toRunStarted,
    ),
    lambdaWorkload,
  ];
  const results: CompileCacheResult[] = [];
  for (const w of workloads) {
    for (const mode of ['off', 'first run', 'warm'] as const) {
      const warmTmp = tempDir('fb-bench-cc-');
      if (mode === 'warm') await w.once(tempDir('fb-bench-start-'), { TMPDIR: warmTmp });
      const times: number[] = [];
      for (let i = 0; i < o.runs; i++) {
        const home = tempDir('fb-bench-start-');
        const env: Record<string, string> =
          mode === 'off' ? { NODE_DISABLE_COMPILE_CACHE: '1' } : { TMPDIR: mode === 'warm' ? warmTmp : tempDir('fb-bench-cc-') };
        times.push(await w.once(home, env));
      }
      results.push({
        workload: w.name,
        mode,
        runs: o.runs,
        medianMs: round(median(times)),
        minMs: round(Math.min(...times)),
        maxMs: round(Math.max(...times)),
      });
    }
  }
  return results;
}
