/**
 * The worker Lambda's cold start: a new Node process per run loads `worker.mjs` from the package
 * (`firebreak package`, unzipped as Lambda unzips it) and does its first step — block-attack-source's
 * `plan` phase against the simulated demo world (plan, journal approval.requested, keep the token).
 * Reported: load (process start → module loaded) and load + first step, median and min–max.
 *   npm run build && node dist/bench/worker-cold-start.js [runs]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildLambdaPackage } from '../src/deploy/package.js';
import { ROOT } from './lib/child.js';
import { median, round } from './lib/stats.js';

const PROBE = `
const t0 = performance.now();
const m = await import(process.env.WORKER);
const loaded = performance.now();
const task = { phase: 'plan', stepId: 'block', taskToken: 'token-bench',
  run: { id: 'run-bench', incident: 'inc-bench', playbook: 'block-attack-source', approval: {} },
  inputs: { cidrs: ['203.0.113.0/24'], subnetIds: ['subnet-0aa11bb22cc33dd44'] }, steps: {} };
const r = await m.handler(task);
const done = performance.now();
if (r.status !== 'waiting') throw new Error('unexpected answer ' + JSON.stringify(r));
console.log(JSON.stringify({ startup: t0, load: loaded, first: done }));
`;

async function main() {
  const runs = Number(process.argv[2] ?? 15);
  const dir = mkdtempSync(join(tmpdir(), 'fb-bench-worker-'));
  const pkg = await buildLambdaPackage({ root: ROOT, outDir: dir, version: 'bench' });
  const code = join(dir, 'code');
  execFileSync('unzip', ['-q', pkg.file, '-d', code]);
  const load: number[] = [];
  const first: number[] = [];
  for (let i = 0; i < runs; i++) {
    const home = mkdtempSync(join(tmpdir(), 'fb-bench-home-'));
    const out = spawnSync(process.execPath, ['--input-type=module', '-e', PROBE], {
      cwd: code,
      env: {
        ...process.env,
        WORKER: join(code, 'worker.mjs'),
        FIREBREAK_HOME: home,
        FIREBREAK_SIM: join(ROOT, 'worlds/demo.yaml'),
        NODE_DISABLE_COMPILE_CACHE: '1',
      },
      encoding: 'utf8',
    });
    if (out.status !== 0) throw new Error(`run ${i} failed: ${out.stderr}`);
    // performance.now() counts from the process's start (timeOrigin): the runtime's own start-up is in it.
    const t = JSON.parse(out.stdout.trim().split('\n').pop()!);
    load.push(t.load);
    first.push(t.first);
  }
  const fmt = (xs: number[]) => `median ${round(median(xs))} ms (min ${round(Math.min(...xs))}, max ${round(Math.max(...xs))})`;
  console.log(`worker cold start over ${runs} runs, package ${pkg.bytes} bytes`);
  console.log(`  load worker.mjs:          ${fmt(load)}`);
  console.log(`  load + first step (plan): ${fmt(first)}`);
}

await main();
