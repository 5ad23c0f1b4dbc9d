/**
 * `npm run bench`: every benchmark, a table on stdout, and the figures as JSON in
 * bench/results/<date>.json (`--latest` also writes bench/results/latest.json).
 *
 *   node dist/bench/run.js [--only containment,warm,fleet,startup,compile-cache,journal] [--quick]
 *     [--runs N] [--latency MS] [--latest] [--out FILE]
 *     [--sizes 10,100,500 --concurrency 10,50 --retry-modes adaptive,standard --time-scale 10]
 *
 * The fleet grid options replace the default fleet cases (DEFAULT_FLEET_CASES) when any is given.
 * With `--only` and `--latest`, the sections measured replace those of latest.json and the others
 * are kept; each section records the load average it was measured under.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchContainment, benchContainmentWarm } from './containment.js';
import { benchFleet, DEFAULT_FLEET_CASES, type FleetCase } from './fleet.js';
import { type AppendResult, benchAppend, benchVerify } from './journal.js';
import { median, medianBy } from './lib/stats.js';
import { ROOT } from './lib/child.js';
import { load, machine } from './lib/machine.js';
import { table } from './lib/table.js';
import { benchCompileCache, benchStartup } from './startup.js';

const ALL = ['containment', 'warm', 'fleet', 'startup', 'compile-cache', 'journal'] as const;
type Bench = (typeof ALL)[number];

export interface BenchOptions {
  only: Bench[];
  quick: boolean;
  runs: number;
  latencyMs: number;
  fleetCases: FleetCase[];
  verifyEvents: number;
  appendEvents: number;
}

const list = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
const ints = (s: string, what: string) =>
  list(s).map((x) => {
    const n = Number(x);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`failed to read ${what}: '${x}' is not a positive integer`);
    return n;
  });

export const USAGE = `usage: npm run bench -- [options]   (or: node dist/bench/run.js [options] after npm run build)

  --only LIST          some of: ${ALL.join(', ')} (default: all)
  --quick              small sizes and few runs (a smoke test, not figures to report)
  --runs N             runs per figure (at least 15 where a median with min–max is reported)
  --latency MS         latency of each simulated AWS call (default 50)
  --sizes 10,100,500   fleet sizes; with --concurrency 10,50 --retry-modes adaptive,standard --time-scale 10
  --latest             also write bench/results/latest.json
  --out FILE           write the JSON figures to FILE instead of bench/results/<date>.json
  -h, --help           this help
`;

/** `--help`: print the usage and exit 0. */
export class HelpRequested extends Error {}

export function parseOptions(argv: string[]): BenchOptions & { latest: boolean; out?: string } {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: 'string' },
      quick: { type: 'boolean', default: false },
      runs: { type: 'string' },
      latency: { type: 'string', default: '50' },
      sizes: { type: 'string' },
      concurrency: { type: 'string' },
      'retry-modes': { type: 'string' },
      'time-scale': { type: 'string' },
      latest: { type: 'boolean', default: false },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) throw new HelpRequested();
  const only = values.only ? list(values.only) : [...ALL];
  for (const b of only)
    if (!(ALL as readonly string[]).includes(b))
      throw new Error(`failed to read --only: unknown benchmark '${b}' (one of ${ALL.join(', ')})`);
  const modes = list(values['retry-modes'] ?? 'adaptive');
  for (const m of modes)
    if (m !== 'adaptive' && m !== 'standard') throw new Error(`failed to read --retry-modes: '${m}' is not adaptive or standard`);
  const quick = values.quick!;
  const grid =
    values.sizes !== undefined ||
    values.concurrency !== undefined ||
    values['retry-modes'] !== undefined ||
    values['time-scale'] !== undefined ||
    quick;
  const sizes = values.sizes ? ints(values.sizes, '--sizes') : quick ? [3] : [10, 100, 500];
  const concurrency = ints(values.concurrency ?? '10', '--concurrency');
  const timeScale = ints(values['time-scale'] ?? '10', '--time-scale')[0]!;
  return {
    only: only as Bench[],
    quick,
    runs: values.runs ? ints(values.runs, '--runs')[0]! : quick ? 1 : 5,
    latencyMs: ints(values.latency!, '--latency')[0]!,
    fleetCases: grid
      ? sizes.flatMap((instances) =>
          concurrency.flatMap((c) =>
            (modes as Array<'adaptive' | 'standard'>).map((retryMode) => ({ instances, concurrency: c, retryMode, timeScale })),
          ),
        )
      : DEFAULT_FLEET_CASES,
    verifyEvents: quick ? 1_000 : 100_000,
    appendEvents: quick ? 50 : 2_000,
    latest: values.latest!,
    ...(values.out ? { out: values.out } : {}),
  };
}

export async function runBenchmarks(o: BenchOptions, print: (s: string) => void = (s) => process.stdout.write(`${s}\n`)) {
  const info = machine();
  print(
    `firebreak benchmarks · ${info.date} · ${info.nproc} × ${info.cpuModel} · node ${info.node} · load ${info.loadAverage.start.join(' ')}`,
  );
  const results: Record<string, unknown> = { machine: info, options: o };

  if (o.only.includes('containment')) {
    const before = load();
    const r = await benchContainment({ runs: o.runs, latencyMs: o.latencyMs });
    results.containment = { measuredAt: new Date().toISOString(), loadAverage: { start: before, end: load() }, results: r };
    print(
      table(
        `Alert → isolated (new process, 'firebreak ${r[0]?.via ?? 'run'} … --auto', latency ${o.latencyMs} ms/call, median of ${o.runs})`,
        [
          'variant',
          'wall ms',
          'round trips',
          'overhead ms',
          'boot ms',
          'load→run.started ms',
          '→1st call ms',
          'AWS phase ms',
          'engine ovh ms',
          'RSS MiB',
        ],
        r.map((x) => [
          x.variant,
          x.median.wallMs,
          x.median.roundTrips,
          x.median.overheadMs,
          x.median.processStartMs,
          x.median.toRunStartedMs,
          x.median.toFirstCallMs,
          x.median.awsPhaseMs,
          x.median.engineOverheadMs,
          x.median.maxRssMiB,
        ]),
      ),
    );
    for (const x of r) print(`  ${x.variant}: ${x.median.path.join(' → ')}`);
  }
  if (o.only.includes('warm')) {
    const before = load();
    const r = await benchContainmentWarm({ runs: o.runs, latencyMs: o.latencyMs });
    results.containmentWarmProcess = { measuredAt: new Date().toISOString(), loadAverage: { start: before, end: load() }, results: r };
    print(
      table(
        `Alert → isolated (process already running: startRun() in-process, latency ${o.latencyMs} ms/call, median of ${o.runs})`,
        ['variant', 'wall ms', 'round trips', 'overhead ms', '→run.started ms'],
        r.map((x) => [x.variant, x.wallMs, x.roundTrips, x.overheadMs, x.toRunStartedMs]),
      ),
    );
  }
  if (o.only.includes('fleet')) {
    const before = load();
    const r = await benchFleet(o.fleetCases, { latencyMs: o.latencyMs });
    results.fleet = { measuredAt: new Date().toISOString(), loadAverage: { start: before, end: load() }, latencyMs: o.latencyMs, runs: r };
    print(
      table(
        `Fleet containment (find by tag + one map step; EC2 default buckets, mutating 200 at 5/s and non-mutating 100 at 20/s, refill × scale; latency ${o.latencyMs} ms/call)`,
        [
          'N',
          'scale',
          'conc',
          'retry',
          'status',
          'wall s',
          'AWS s',
          'floor s',
          '×floor',
          'struct s',
          '×struct',
          'calls',
          'retries',
          'failed tgts',
          'RSS MiB',
          'CPU s',
          'sync I/O s',
        ],
        r.map((x) => [
          x.instances,
          `×${x.timeScale}`,
          x.concurrency,
          x.retryModeSeen.join('/'),
          x.status,
          x.wallMs / 1000,
          x.awsPhaseMs / 1000,
          x.bucketFloorMs / 1000,
          x.ratioToBucketFloor,
          x.structuralFloorMs / 1000,
          x.ratioToStructuralFloor,
          x.calls.mutating + x.calls.nonMutating + x.calls.other,
          x.retries,
          x.failedTargets,
          x.peakRssMiB,
          x.cpuMs / 1000,
          x.syncIoMs / 1000,
        ]),
      ),
    );
  }
  if (o.only.includes('startup')) {
    const before = load();
    const r = await benchStartup({ runs: o.quick ? 3 : Math.max(20, o.runs) });
    results.startup = { measuredAt: new Date().toISOString(), loadAverage: { start: before, end: load() }, results: r };
    print(
      table(
        "Start-up (whole process in the user's environment, median)",
        ['command', 'runs', 'median ms', 'min ms', 'max ms', 'RSS MiB', 'AWS SDK packages loaded'],
        r.map((x) => [
          x.command.length > 60 ? `${x.command.slice(0, 57)}…` : x.command,
          x.runs,
          x.medianMs,
          x.minMs,
          x.maxMs,
          x.peakRssMiB,
          x.awsSdkPackages.join(' ') || 'none',
        ]),
      ),
    );
  }
  if (o.only.includes('compile-cache')) {
    const before = load();
    const r = await benchCompileCache({ runs: o.quick ? 2 : Math.max(15, o.runs) });
    results.compileCache = { measuredAt: new Date().toISOString(), loadAverage: { start: before, end: load() }, results: r };
    print(
      table(
        'Start-up with the compile cache (whole process; off / first run fills the cache / warm cache)',
        ['workload', 'cache', 'runs', 'median ms', 'min ms', 'max ms'],
        r.map((x) => [x.workload, x.mode, x.runs, x.medianMs, x.minMs, x.maxMs]),
      ),
    );
  }
  if (o.only.includes('journal')) {
    const before = load();
    // Each run measures the journal and then the raw disk, so every ratio compares the two under the same load.
    const appendRuns = Array.from({ length: o.quick ? 1 : Math.max(15, o.runs) }, () => benchAppend({ events: o.appendEvents }));
    const a = medianBy(appendRuns, (x) => x.ratioToRaw);
    const spread = (f: (x: AppendResult) => number) => {
      const xs = appendRuns.map(f);
      return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
    };
    const rates = {
      appendsPerSecond: spread((x) => x.appendsPerSecond),
      rawSyncsPerSecond: spread((x) => x.rawSyncsPerSecond),
      ratioToRaw: spread((x) => x.ratioToRaw),
    };
    const v = await benchVerify({ events: o.verifyEvents, runs: o.quick ? 1 : Math.max(15, o.runs) });
    const mm = (x: { median: number; min: number; max: number }) => `${x.median} (${x.min}–${x.max})`;
    results.journal = {
      measuredAt: new Date().toISOString(),
      loadAverage: { start: before, end: load() },
      runs: appendRuns.length,
      append: a,
      appendRuns: rates,
      verify: v,
    };
    print(
      table(
        'Journal',
        ['measure', 'figure', 'detail'],
        [
          [
            'appends/s (write + fdatasync each)',
            mm(rates.appendsPerSecond),
            `${appendRuns.length} runs of ${a.events} events of ${a.bytesPerEvent} B; median run p50 ${a.p50Ms} ms, p99 ${a.p99Ms} ms`,
          ],
          ['raw disk write + fdatasync/s, same size, same runs', mm(rates.rawSyncsPerSecond), 'measured after each journal run'],
          ['appends/s ÷ raw rate', mm(rates.ratioToRaw), '1 = the journal adds nothing to the disk sync'],
          [
            'verify events/s (in process)',
            v.inProcessEventsPerSecond,
            `${v.events} events, ${v.megabytes} MiB in ${v.inProcessMs} ms (${v.inProcessRangeMs.join('–')})`,
          ],
          [
            'verify events/s (firebreak audit verify)',
            v.cliEventsPerSecond,
            `${v.cliMs} ms (${v.cliRangeMs.join('–')}) including process start-up`,
          ],
        ],
      ),
    );
  }
  info.loadAverage.end = load();
  print(`\nload average at the end: ${info.loadAverage.end.join(' ')}`);
  return results;
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const results = await runBenchmarks(o);
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const file = o.out ?? join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  const text = `${JSON.stringify(results, null, 2)}\n`;
  writeFileSync(file, text);
  process.stdout.write(`results: ${file}\n`);
  if (o.latest) {
    const latest = join(dir, 'latest.json');
    const kept =
      existsSync(latest) && o.only.length < ALL.length ? (JSON.parse(readFileSync(latest, 'utf8')) as Record<string, unknown>) : {};
    writeFileSync(latest, `${JSON.stringify({ ...kept, ...results }, null, 2)}\n`);
    process.stdout.write(`results: ${latest}\n`);
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main().catch((err) => {
    if (err instanceof HelpRequested) {
      process.stdout.write(USAGE);
      return;
    }
    // A mistaken option (parseArgs's ERR_PARSE_ARGS_*, or ours) is a usage error: its message and the usage, no stack.
    const code = (err as { code?: string }).code ?? '';
    if (code.startsWith('ERR_PARSE_ARGS') || (err instanceof Error && err.message.startsWith('failed to read --'))) {
      process.stderr.write(`bench: ${err.message}\n\n${USAGE}`);
      process.exit(2);
    }
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
