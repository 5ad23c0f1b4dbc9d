/**
 * Fleet containment: find N instances by tag (ec2.find-instances) and isolate them in one run
 * (one map step), against a simulated cloud
 * that throttles like EC2: token buckets for mutating and non-mutating calls, answering
 * RequestLimitExceeded when a bucket is empty.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { awsCalls, criticalPath, isNonMutating, readJournal, type AwsCall } from './lib/calls.js';
import { ROOT, runCli, tempDir } from './lib/child.js';
import { round } from './lib/stats.js';
import { fleetWorld } from './lib/worlds.js';

/**
 * EC2's documented defaults per account and Region: mutating actions 200 tokens refilled at
 * 5/s, non-mutating 100 tokens at 20/s. Refill rates are multiplied by `timeScale` (capacities
 * unchanged) so that N = 500 takes tens of seconds instead of minutes; every figure is reported
 * against the floor of the scaled buckets.
 */
export function ec2Buckets(timeScale: number) {
  return {
    mutating: { capacity: 200, refillPerSecond: 5 * timeScale },
    describe: { capacity: 100, refillPerSecond: 20 * timeScale },
  };
}

export interface FleetCase {
  instances: number;
  concurrency: number;
  retryMode: 'adaptive' | 'standard';
  timeScale: number;
}

/**
 * The default set: the product's settings (adaptive retries, concurrency 10) at 10, 100 and 500
 * instances with time-scaled buckets, and at 500 with EC2's real refill rates (six minutes: the
 * SDK's adaptive limiter works in real seconds, so only real rates show what it does in AWS);
 * then, at EC2's real rates where throttling is certain, standard against adaptive retries at two
 * map concurrencies.
 */
export const DEFAULT_FLEET_CASES: FleetCase[] = [
  ...[10, 100, 500].map((instances) => ({ instances, concurrency: 10, retryMode: 'adaptive' as const, timeScale: 10 })),
  { instances: 500, concurrency: 10, retryMode: 'adaptive', timeScale: 1 },
  ...[10, 50].flatMap((concurrency) =>
    (['adaptive', 'standard'] as const).map((retryMode) => ({ instances: 100, concurrency, retryMode, timeScale: 1 })),
  ),
];

export interface FleetResult {
  timeScale: number;
  buckets: ReturnType<typeof ec2Buckets>;
  instances: number;
  concurrency: number;
  retryMode: string;
  /** What the EC2 client reported using (from its resolved config). */
  retryModeSeen: string[];
  status: string;
  exitCode: number | null;
  wallMs: number;
  /** First AWS call start → last AWS call end. */
  awsPhaseMs: number;
  /** (calls − capacity) / refill, worst bucket: what the buckets alone allow. */
  bucketFloorMs: number;
  /** Lower bound that also counts the map step's structure (all plans then applies, or each target in turn when pipelined) and its concurrency × latency. */
  structuralFloorMs: number;
  /** The map step planned and applied each target in turn (policy approval, runner.ts). */
  pipelined: boolean;
  ratioToBucketFloor: number;
  ratioToStructuralFloor: number;
  calls: { mutating: number; nonMutating: number; other: number };
  attempts: number;
  retries: number;
  throttledCalls: number;
  failedCalls: number;
  /** Targets not isolated. */
  failedTargets: number;
  failedIn: 'plan' | 'apply' | null;
  error?: string;
  roundTripsPerTarget: number;
  peakRssMiB: number;
  cpuMs: number;
  /** Event loop blocked in fsync/fdatasync/rename/link (journal, world saves, locks), ms. */
  syncIoMs: number;
  syncIo: Record<string, { calls: number; ms: number }>;
}

function playbookWithConcurrency(dir: string, concurrency: number): string {
  const src = readFileSync(join(ROOT, 'bench/playbooks/fleet-containment.yaml'), 'utf8');
  const text = src.replace(/^(\s+concurrency:) \d+$/m, `$1 ${concurrency}`);
  if (!text.includes(`concurrency: ${concurrency}`))
    throw new Error('failed to set the concurrency of bench/playbooks/fleet-containment.yaml: no concurrency line');
  const file = join(dir, `fleet-containment-c${concurrency}.yaml`);
  writeFileSync(file, text);
  return file;
}

export async function measureFleet(
  n: number,
  concurrency: number,
  retryMode: 'adaptive' | 'standard',
  o: { latencyMs: number; timeScale: number },
): Promise<FleetResult> {
  const home = tempDir('fb-bench-fleet-');
  const buckets = ec2Buckets(o.timeScale);
  const { file } = fleetWorld(home, { instances: n, latencyMs: o.latencyMs, rateLimits: buckets });
  const playbook = playbookWithConcurrency(home, concurrency);
  const retryProbe = join(home, 'retry-probe.json');
  const r = await runCli(['run', playbook, '--sim', file, '--auto', '--json', '--input', 'tag=role=web'], {
    home,
    probe: true,
    nodeArgs: ['--import', join(ROOT, 'dist/bench/lib/retry-probe.js')],
    env: { FIREBREAK_BENCH_RETRY_MODE: retryMode, FIREBREAK_BENCH_RETRY_PROBE: retryProbe },
  });
  let out: { runId?: string; status?: string; error?: { code: string; message: string } | null };
  try {
    out = JSON.parse(r.stdout);
  } catch {
    throw new Error(`fleet run printed no JSON (exit ${r.code}): ${r.stderr.slice(-3000)}`);
  }
  const events = readJournal(join(home, 'runs', out.runId!, 'journal.jsonl'));
  const calls = awsCalls(events);
  const ec2 = calls.filter((c) => c.service === 'ec2');
  const mutating = ec2.filter((c) => !c.error && !isNonMutating(c.operation)).length;
  const nonMutating = ec2.filter((c) => !c.error && isNonMutating(c.operation)).length;
  const first = Math.min(...calls.map((c) => c.start));
  const last = Math.max(...calls.map((c) => c.end));
  const awsPhaseMs = last - first;

  const found = events.find((e) => e.type === 'step.completed' && e.step === 'find');
  const foundIds = (found?.output as { instanceIds?: string[] } | undefined)?.instanceIds ?? [];
  if (foundIds.length !== n)
    throw new Error(`fleet run ${out.runId} found ${foundIds.length} instances, expected ${n} (${out.status}): ${r.stderr.slice(-2000)}`);
  // A failure while planning fails the map step before any item starts: no item events then.
  const planned = events.find((e) => e.type === 'step.planned' && e.step === 'isolate');
  const contained = events.filter((e) => e.type === 'item.completed' && e.step === 'isolate').length;
  const planReads = ec2.filter((c) => !c.error && c.step?.startsWith('isolate[') && c.seq < (planned?.seq ?? Infinity)).length;
  const rtPerTarget = targetRoundTrips(calls);
  const bucketFloorMs = Math.max(0, floor(mutating, buckets.mutating), floor(nonMutating, buckets.describe));
  const planFloor = Math.max(floor(planReads, buckets.describe), (n * 1 * o.latencyMs) / concurrency);
  const applyFloor = Math.max(
    floor(mutating, buckets.mutating),
    ((nonMutating - planReads) / buckets.describe.refillPerSecond) * 1000,
    (n * Math.max(0, rtPerTarget - 1) * o.latencyMs) / concurrency,
  );
  // Pipelined (the policy approves the map step unseen, runner.ts): each target is planned and
  // applied in turn, so reads and writes drain their buckets together; only the buckets and
  // concurrency × latency bound it. Otherwise the plan and apply phases' floors add up.
  const pipelined = planned?.pipelined === true;
  const structuralFloorMs = pipelined ? Math.max(bucketFloorMs, (n * rtPerTarget * o.latencyMs) / concurrency) : planFloor + applyFloor;

  return {
    timeScale: o.timeScale,
    buckets,
    instances: n,
    concurrency,
    retryMode,
    retryModeSeen: [...new Set((JSON.parse(readFileSync(retryProbe, 'utf8')) as Array<{ used: string }>).map((s) => s.used))],
    status: out.status ?? 'unknown',
    exitCode: r.code,
    wallMs: round(r.wallMs),
    awsPhaseMs: round(awsPhaseMs),
    bucketFloorMs: round(bucketFloorMs),
    structuralFloorMs: round(structuralFloorMs),
    ratioToBucketFloor: round(bucketFloorMs > 0 ? awsPhaseMs / bucketFloorMs : NaN, 2),
    ratioToStructuralFloor: round(awsPhaseMs / structuralFloorMs, 2),
    calls: { mutating, nonMutating, other: calls.length - ec2.length },
    attempts: calls.reduce((s, c) => s + c.attempts, 0),
    retries: calls.reduce((s, c) => s + c.attempts - 1, 0),
    throttledCalls: calls.filter((c) => c.attempts > 1 || c.error === 'RequestLimitExceeded').length,
    failedCalls: calls.filter((c) => c.error).length,
    failedTargets: n - contained,
    ...(out.error ? { error: `${out.error.code}: ${out.error.message}`.slice(0, 300) } : {}),
    failedIn: !planned
      ? 'plan'
      : contained === n
        ? null
        : events.some((e) => e.type === 'item.failed' && e.step === 'isolate' && e.phase !== 'plan')
          ? 'apply'
          : 'plan',
    pipelined,
    roundTripsPerTarget: rtPerTarget,
    peakRssMiB: round(r.probe!.maxRssKiB / 1024),
    cpuMs: round(r.probe!.userCpuMs + r.probe!.systemCpuMs),
    syncIoMs: round(Object.values(r.probe!.syncIo).reduce((s, x) => s + x.ms, 0)),
    syncIo: Object.fromEntries(Object.entries(r.probe!.syncIo).map(([k, v]) => [k, { calls: v.calls, ms: round(v.ms) }])),
  };
}

/** Seconds the bucket needs beyond its initial capacity, in ms. */
function floor(calls: number, b: { capacity: number; refillPerSecond: number }): number {
  return Math.max(0, ((calls - b.capacity) / b.refillPerSecond) * 1000);
}

/** Sequential round trips of one target (item 0): plan, apply and verify. */
function targetRoundTrips(calls: readonly AwsCall[]): number {
  const mine = calls.filter((c) => c.step === 'isolate[0]' && !c.error);
  if (mine.length === 0) return 0;
  const lastCall = mine.reduce((a, b) => (b.end > a.end ? b : a));
  return criticalPath(mine, lastCall).length;
}

export async function benchFleet(cases: readonly FleetCase[], o: { latencyMs: number }): Promise<FleetResult[]> {
  const results: FleetResult[] = [];
  for (const c of cases)
    results.push(await measureFleet(c.instances, c.concurrency, c.retryMode, { latencyMs: o.latencyMs, timeScale: c.timeScale }));
  return results;
}
