/**
 * Alert → isolated: from the process start to the isolation's last write (the final
 * ModifyNetworkInterfaceAttribute that moves an interface into the no-rules group), on the
 * simulated cloud with a modelled per-call latency.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { awsCalls, criticalPath, readJournal, tsOf, type AwsCall } from './lib/calls.js';
import { ROOT, runCli, tempDir, type ChildRun } from './lib/child.js';
import { median, medianBy, round } from './lib/stats.js';
import { containmentWorld, DEMO_INSTANCE } from './lib/worlds.js';

export interface ContainmentOptions {
  runs: number;
  latencyMs: number;
}

export interface ContainmentVariant {
  name: string;
  playbook: string;
  warm: boolean;
}

export const VARIANTS: ContainmentVariant[] = [
  { name: 'ec2-instance-compromise, new VPC', playbook: 'ec2-instance-compromise', warm: false },
  { name: 'ec2-instance-compromise, groups exist', playbook: 'ec2-instance-compromise', warm: true },
  { name: 'fast-containment, new VPC', playbook: join(ROOT, 'bench/playbooks/fast-containment.yaml'), warm: false },
  { name: 'fast-containment, groups exist', playbook: join(ROOT, 'bench/playbooks/fast-containment.yaml'), warm: true },
];

/** One run, decomposed. All times in ms. */
export interface ContainmentRun {
  /** process start (spawn) → the isolation's last write ends. */
  wallMs: number;
  /** Sequential AWS round trips up to and including that write. */
  roundTrips: number;
  /** wallMs − roundTrips × latency: everything that is not modelled AWS latency. */
  overheadMs: number;
  /** spawn → the child's time origin (fork, exec, Node's own boot). */
  processStartMs: number;
  /** time origin → run.started in the journal (module loading, playbook, world, lock, journal). */
  toRunStartedMs: number;
  /** run.started → the first AWS call starts. */
  toFirstCallMs: number;
  /** first AWS call start → the isolation's last write ends. */
  awsPhaseMs: number;
  /** awsPhaseMs − roundTrips × latency: the engine's own time between round trips. */
  engineOverheadMs: number;
  /** The critical path, as service:Operation per round trip. */
  path: string[];
  callsBeforeIsolated: number;
  exitCode: number | null;
  maxRssMiB: number;
  /** Event loop blocked in fsync/fdatasync/rename/link up to the process exit, ms. */
  syncIoMs: number;
}

export interface ContainmentResult {
  variant: string;
  playbook: string;
  warm: boolean;
  latencyMs: number;
  via: 'trigger' | 'run';
  runs: number;
  median: ContainmentRun;
  wallMsAll: number[];
}

export const GUARDDUTY_FINDING = join(ROOT, 'bench/fixtures/guardduty-finding.json');

/** `firebreak trigger` is used when it is built; without it, `firebreak run --auto`. */
export function triggerAvailable(): boolean {
  return existsSync(join(ROOT, 'dist/src/triggers/dispatch.js'));
}

/** A routing table that sends the finding to the variant's playbook, with the playbook's own approval policy. */
function routesFor(dir: string, playbook: string): string {
  const file = join(dir, 'routes.yaml');
  writeFileSync(
    file,
    [
      'routes:',
      '  - name: bench-crypto-mining',
      '    match: { source: guardduty, type: "CryptoCurrency:EC2/*", minSeverity: 5 }',
      `    playbook: ${JSON.stringify(playbook)}`,
      "    inputs: { instanceId: '{% resources.instanceIds[0] %}' }",
      '',
    ].join('\n'),
  );
  return file;
}

export async function measureOnce(
  v: ContainmentVariant,
  latencyMs: number,
  via: 'trigger' | 'run' = triggerAvailable() ? 'trigger' : 'run',
): Promise<ContainmentRun> {
  const home = tempDir('fb-bench-contain-');
  const world = containmentWorld(home, { latencyMs, warm: v.warm });
  const args =
    via === 'trigger'
      ? ['trigger', '--event', GUARDDUTY_FINDING, '--routes', routesFor(home, v.playbook), '--sim', world, '--json']
      : ['run', v.playbook, '--sim', world, '--auto', '--json', '--input', `instanceId=${DEMO_INSTANCE}`];
  const r = await runCli(args, { home, probe: true });
  return analyse(r, home, latencyMs);
}

export function analyse(r: ChildRun, home: string, latencyMs: number): ContainmentRun {
  let out: { runId?: string; status?: string };
  try {
    const parsed = JSON.parse(r.stdout) as { runId?: string; status?: string } | Array<{ runId?: string; status?: string }>;
    // `trigger --json` prints one entry per alert of the document.
    out = Array.isArray(parsed) ? (parsed[0] ?? {}) : parsed;
  } catch {
    throw new Error(`containment run printed no JSON (exit ${r.code}): ${r.stderr.slice(0, 2000)}`);
  }
  if (!out.runId) throw new Error(`containment run gave no run id (exit ${r.code}): ${r.stderr.slice(0, 2000)}`);
  const events = readJournal(join(home, 'runs', out.runId, 'journal.jsonl'));
  const calls = awsCalls(events);
  const writes = calls.filter((c) => c.operation === 'ModifyNetworkInterfaceAttribute' && !c.error);
  const target = writes[writes.length - 1];
  if (!target) throw new Error(`run ${out.runId} (${out.status}) made no ModifyNetworkInterfaceAttribute call: ${r.stderr.slice(0, 2000)}`);
  const path = criticalPath(calls, target);
  const started = tsOf(events, 'run.started')!;
  const first = Math.min(...calls.map((c) => c.start));
  const wallMs = target.end - r.spawnAt;
  const awsPhaseMs = target.end - first;
  return {
    wallMs,
    roundTrips: path.length,
    overheadMs: wallMs - path.length * latencyMs,
    processStartMs: r.probe!.timeOrigin - r.spawnAt,
    toRunStartedMs: started - r.probe!.timeOrigin,
    toFirstCallMs: first - started,
    awsPhaseMs,
    engineOverheadMs: awsPhaseMs - path.length * latencyMs,
    path: path.map(label),
    callsBeforeIsolated: calls.filter((c) => c.end <= target.end).length,
    exitCode: r.code,
    maxRssMiB: r.probe!.maxRssKiB / 1024,
    syncIoMs: Object.values(r.probe!.syncIo).reduce((s, x) => s + x.ms, 0),
  };
}

const label = (c: AwsCall) => `${c.service}:${c.operation}`;

export async function benchContainment(o: ContainmentOptions, variants = VARIANTS): Promise<ContainmentResult[]> {
  const via = triggerAvailable() ? 'trigger' : 'run';
  const results: ContainmentResult[] = [];
  for (const v of variants) {
    const runs: ContainmentRun[] = [];
    for (let i = 0; i < o.runs; i++) runs.push(await measureOnce(v, o.latencyMs, via));
    const m = medianBy(runs, (r) => r.wallMs);
    results.push({
      variant: v.name,
      playbook: v.playbook.startsWith(ROOT) ? v.playbook.slice(ROOT.length + 1) : v.playbook,
      warm: v.warm,
      latencyMs: o.latencyMs,
      via,
      runs: runs.length,
      median: {
        ...m,
        // Each component's own median: the run with the median wall time is kept whole above.
        wallMs: round(median(runs.map((r) => r.wallMs))),
        overheadMs: round(median(runs.map((r) => r.overheadMs))),
        processStartMs: round(median(runs.map((r) => r.processStartMs))),
        toRunStartedMs: round(median(runs.map((r) => r.toRunStartedMs))),
        toFirstCallMs: round(median(runs.map((r) => r.toFirstCallMs))),
        awsPhaseMs: round(median(runs.map((r) => r.awsPhaseMs))),
        engineOverheadMs: round(median(runs.map((r) => r.engineOverheadMs))),
        maxRssMiB: round(median(runs.map((r) => r.maxRssMiB))),
        syncIoMs: round(median(runs.map((r) => r.syncIoMs))),
      },
      wallMsAll: runs.map((r) => round(r.wallMs)),
    });
  }
  return results;
}

export interface WarmContainmentResult {
  variant: string;
  latencyMs: number;
  runs: number;
  /** startRun() called → the isolation's last write ends. */
  wallMs: number;
  roundTrips: number;
  overheadMs: number;
  /** startRun() called → run.started in the journal (playbook, world, lock, journal open). */
  toRunStartedMs: number;
  path: string[];
}

/**
 * The same containment started inside this process once every module is loaded: what an alert
 * costs a process that is already running (the `serve` shape), i.e. the engine without start-up.
 */
export async function benchContainmentWarm(o: ContainmentOptions, variants = VARIANTS): Promise<WarmContainmentResult[]> {
  const { runInProcess } = await import('./lib/in-process.js');
  const { epochNow } = await import('./lib/child.js');
  const out: WarmContainmentResult[] = [];
  for (const v of variants) {
    const runs: Array<{ wallMs: number; roundTrips: number; overheadMs: number; toRunStartedMs: number; path: string[] }> = [];
    for (let i = 0; i < o.runs + 1; i++) {
      const home = tempDir('fb-bench-warm-');
      const world = containmentWorld(home, { latencyMs: o.latencyMs, warm: v.warm });
      const t0 = epochNow();
      const r = await runInProcess({ home, playbook: v.playbook, world, inputs: [`instanceId=${DEMO_INSTANCE}`] });
      if (i === 0) continue; // the first run loads the modules
      const events = readJournal(join(r.runDir, 'journal.jsonl'));
      const calls = awsCalls(events);
      const writes = calls.filter((c) => c.operation === 'ModifyNetworkInterfaceAttribute' && !c.error);
      const target = writes[writes.length - 1];
      if (!target) throw new Error(`in-process run ${r.runId} (${r.status}) made no ModifyNetworkInterfaceAttribute call`);
      const path = criticalPath(calls, target);
      runs.push({
        wallMs: target.end - t0,
        roundTrips: path.length,
        overheadMs: target.end - t0 - path.length * o.latencyMs,
        toRunStartedMs: tsOf(events, 'run.started')! - t0,
        path: path.map(label),
      });
    }
    const m = medianBy(runs, (r) => r.wallMs);
    out.push({
      variant: v.name,
      latencyMs: o.latencyMs,
      runs: runs.length,
      wallMs: round(median(runs.map((r) => r.wallMs))),
      roundTrips: m.roundTrips,
      overheadMs: round(median(runs.map((r) => r.overheadMs))),
      toRunStartedMs: round(median(runs.map((r) => r.toRunStartedMs))),
      path: m.path,
    });
  }
  return out;
}
