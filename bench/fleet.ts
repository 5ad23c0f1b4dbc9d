/**
 * Fleet containment: find N instances by tag (ec2.find-instances) and isolate them in one run
 * (one map step), against a simulated cloud
 * that throttles like EC2: token buckets for mutating and non-mutating calls, answering
 * RequestLimitExceeded when a bucket is empty.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { awsCalls, criticalPath, isNonMutating, readJournal, type AwsCall, type JournalEntry } from './lib/calls.js';
import { ROOT, runCli, tempDir } from './lib/child.js';
import { median, round } from './lib/stats.js';
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
  let out: {
    runId?: string;
    status?: string;
    stopReason?: { code: string; message: string } | null;
    error?: { code: string; message: string };
  };
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
    // stopReason: why the run stopped; error: the command itself failed.
    ...((out.stopReason ?? out.error)
      ? { error: `${(out.stopReason ?? out.error)!.code}: ${(out.stopReason ?? out.error)!.message}`.slice(0, 300) }
      : {}),
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

// ---------------------------------------------------------------------------------------------
// The shipped playbook: `ec2-fleet-compromise` as an alert route runs it (every fleet step's
// approval set to `auto`), in-process, on a fleet whose VPC has no isolation groups yet.

export interface PlaybookFleetResult {
  instances: number;
  runs: number;
  /** Per run: calls per instance (reads, writes), the same in every run of a size. */
  readsPerInstance: number[];
  writesPerInstance: number[];
  /** The fewest writes the containment's changes need (see minimumWrites), and the run's writes over it. */
  minimumWrites: number;
  writesOverMinimum: number[];
  /** Run start → the last instance isolated, and → run end, ms. */
  isolatedMs: number[];
  totalMs: number[];
  /** The mutating bucket's floor for the minimum writes alone (isolation swaps; whole playbook), ms. */
  isolationFloorMs: number;
  playbookFloorMs: number;
  failedTargets: number[];
  errors: Record<string, number>;
  /** Per run: CreateTags calls of each fleet step (one per 1,000 resources of a tag set at best). */
  createTags: Record<string, number[]>;
  /** The process's peak RSS after this size's runs, MiB (it only grows: the largest size is the one to read). */
  peakRssMiB: number;
}

/**
 * The fewest writes `ec2-fleet-compromise` needs, from what its plans say changes (never from the
 * calls made): 2 swaps per network interface; preserve, 1 ModifyInstanceAttribute per attribute it
 * changes (all volumes' DeleteOnTermination in one); 1 CreateSnapshots per instance; Auto Scaling
 * detach, 1 call per 20 instances of a group; tags, 1 CreateTags per 1,000 resources of one tag
 * set; a VPC's isolation groups, 2 creations and the rules that make them (1 revoke, 3 authorizations).
 */
function minimumWrites(events: readonly JournalEntry[]): { isolation: number; all: number } {
  const changes = (step: string) =>
    events
      .filter((e) => e.type === 'item.planned' && e.step === step)
      .flatMap((e) => (e.plan as { changes?: Array<{ field: string; resource: string }> }).changes ?? []);
  const iso = changes('isolate');
  const swaps = 2 * iso.filter((c) => c.field === 'security groups').length;
  const groupSetUp = iso.filter((c) => c.field.startsWith('security group ')).length > 0 ? 6 : 0;
  const tagged = (n: number) => Math.ceil(n / 1000);
  const isoTags = tagged(iso.filter((c) => c.field === 'tags').length) + tagged(iso.filter((c) => c.field === 'security groups').length);
  const pres = changes('preserve');
  const presInstances = new Set(pres.filter((c) => c.field === 'DeleteOnTermination').map((c) => c.resource.split(' ')[0]));
  const preserve =
    pres.filter((c) => c.field === 'DisableApiTermination' || c.field === 'InstanceInitiatedShutdownBehavior').length +
    presInstances.size +
    tagged(pres.filter((c) => c.field.startsWith('tag ')).length);
  const detach = changes('detach').filter((c) => /auto scaling/i.test(c.field)).length;
  const volumesOf = new Map<string, number>();
  for (const c of changes('snapshot')) {
    const id = c.resource.split(' ')[0]!;
    volumesOf.set(id, (volumesOf.get(id) ?? 0) + 1);
  }
  // A one-volume set gets its device tag at creation; a larger set's snapshots are tagged after.
  const laterTagged = [...volumesOf.values()].filter((v) => v > 1).reduce((a, v) => a + v, 0);
  const isolation = swaps + groupSetUp + isoTags;
  return { isolation, all: isolation + preserve + Math.ceil(detach / 20) + volumesOf.size + tagged(laterTagged) };
}

export async function benchFleetPlaybook(sizes: readonly number[], o: { runs: number; latencyMs: number; timeScale: number }) {
  const { startRun } = await import('../src/engine/session.js');
  const { chooseBackend } = await import('../src/backend/backend.js');
  const { fleetWorldDoc } = await import('./lib/fleet-world.js');
  const buckets = ec2Buckets(o.timeScale);
  const host = {
    kind: 'auto' as const,
    approvesUnseen: (p: 'auto' | 'required') => p === 'auto',
    approve: async () => ({ decision: 'approve' as const, by: 'policy', via: 'script' as const }),
    manual: async () => ({ decision: 'approve' as const, by: 'bench', via: 'script' as const }),
  };
  const out: PlaybookFleetResult[] = [];
  for (const n of sizes) {
    const r: PlaybookFleetResult = {
      instances: n,
      runs: o.runs,
      readsPerInstance: [],
      writesPerInstance: [],
      minimumWrites: 0,
      writesOverMinimum: [],
      isolatedMs: [],
      totalMs: [],
      isolationFloorMs: 0,
      playbookFloorMs: 0,
      failedTargets: [],
      errors: {},
      createTags: {},
      peakRssMiB: 0,
    };
    for (let k = 0; k < o.runs; k++) {
      const home = tempDir('fb-bench-playbook-');
      const world = join(home, 'world.json');
      writeFileSync(world, JSON.stringify(fleetWorldDoc(n, { latencyMs: o.latencyMs, rateLimits: buckets })));
      const handle = await startRun({
        run: {
          playbook: 'ec2-fleet-compromise',
          inputs: { tags: ['role=web'] },
          incident: 'IR-BENCH',
          approvalOverrides: { isolate: 'auto', preserve: 'auto', detach: 'auto', snapshot: 'auto' },
        },
        backend: chooseBackend({ sim: world }),
        host,
        home,
      });
      const run = await handle.result;
      const events = readJournal(join(home, 'runs', run.runId, 'journal.jsonl'));
      const calls = awsCalls(events).filter((c) => c.service !== 'sts');
      const ok = calls.filter((c) => !c.error);
      for (const c of calls) if (c.error) r.errors[c.error] = (r.errors[c.error] ?? 0) + 1;
      const reads = ok.filter((c) => isNonMutating(c.operation)).length;
      const writes = ok.length - reads;
      const start = Date.parse(events[0]!.ts);
      const isolated = events.filter((e) => e.type === 'item.completed' && e.step === 'isolate');
      const floor = minimumWrites(events);
      r.minimumWrites = floor.all;
      r.isolationFloorMs = round((Math.max(0, floor.isolation - buckets.mutating.capacity) / buckets.mutating.refillPerSecond) * 1000);
      r.playbookFloorMs = round((Math.max(0, floor.all - buckets.mutating.capacity) / buckets.mutating.refillPerSecond) * 1000);
      r.readsPerInstance.push(round(reads / n, 2));
      r.writesPerInstance.push(round(writes / n, 2));
      r.writesOverMinimum.push(round(writes / floor.all, 2));
      r.isolatedMs.push(Math.max(...isolated.map((e) => Date.parse(e.ts))) - start);
      r.totalMs.push(Date.parse(events.at(-1)!.ts) - start);
      r.failedTargets.push(n - isolated.length);
      for (const step of ['isolate', 'preserve', 'snapshot']) {
        const tags = ok.filter((c) => c.operation === 'CreateTags' && c.step?.replace(/\[\d+\]$/, '') === step).length;
        r.createTags[step] = [...(r.createTags[step] ?? []), tags];
      }
      if (run.status !== 'succeeded') throw new Error(`ec2-fleet-compromise on ${n} instances ended ${run.status} (${home})`);
    }
    r.peakRssMiB = round(process.resourceUsage().maxRSS / 1024);
    out.push(r);
  }
  return out;
}

const spread = (xs: readonly number[]) => `${round(median(xs), 2)} (${round(Math.min(...xs), 2)}–${round(Math.max(...xs), 2)})`;

/** `node dist/bench/fleet.js [--sizes 10,50,200] [--runs 15] [--time-scale 10] [--latency 0]`: the shipped playbook's table. */
async function main(argv: string[]) {
  const arg = (name: string, def: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && argv[i + 1] ? argv[i + 1]! : def;
  };
  if (argv.includes('--help')) {
    process.stdout.write('usage: node dist/bench/fleet.js [--sizes 10,50,200] [--runs 15] [--time-scale 10] [--latency 0]\n');
    return;
  }
  const sizes = arg('sizes', '10,50,200').split(',').map(Number);
  const runs = Number(arg('runs', '15'));
  const timeScale = Number(arg('time-scale', '10'));
  const latencyMs = Number(arg('latency', '0'));
  const results = await benchFleetPlaybook(sizes, { runs, latencyMs, timeScale });
  const b = ec2Buckets(timeScale);
  process.stdout.write(
    `ec2-fleet-compromise, every fleet step auto (as a route sets it); VPC without isolation groups; ${runs} runs each; ` +
      `EC2 buckets mutating ${b.mutating.capacity} at ${b.mutating.refillPerSecond}/s, non-mutating ${b.describe.capacity} at ${b.describe.refillPerSecond}/s (refill × ${timeScale}); latency ${latencyMs} ms\n\n`,
  );
  process.stdout.write(
    '| N | reads/instance | writes/instance | minimum writes | writes ÷ minimum | CreateTags isolate / preserve / snapshot | last isolated, ms | isolation floor, ms | whole run, ms | playbook floor, ms | failed targets | failed calls | peak RSS, MiB |\n',
  );
  process.stdout.write('|---|---|---|---|---|---|---|---|---|---|---|---|---|\n');
  for (const r of results)
    process.stdout.write(
      `| ${r.instances} | ${spread(r.readsPerInstance)} | ${spread(r.writesPerInstance)} | ${r.minimumWrites} | ${spread(r.writesOverMinimum)} | ${['isolate', 'preserve', 'snapshot'].map((s) => spread(r.createTags[s] ?? [0])).join(' / ')} | ${spread(r.isolatedMs)} | ${r.isolationFloorMs} | ${spread(r.totalMs)} | ${r.playbookFloorMs} | ${Math.max(...r.failedTargets)} | ${JSON.stringify(r.errors)} | ${r.peakRssMiB} |\n`,
    );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main(process.argv.slice(2));
