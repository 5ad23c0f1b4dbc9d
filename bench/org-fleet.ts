/**
 * A fleet across the organization: `ec2-fleet-compromise` over 20 accounts × 2 Regions × 50
 * instances (2,000) with `--accounts/--regions`, against one account's 100 instances, on the
 * simulated cloud with EC2's documented request-rate buckets (per account and Region). Each run is
 * the CLI in its own process (`firebreak run … --auto`), every fleet step approved by policy (as an
 * alert's route sets it); the time is the run's, from its first journal event to its last.
 *
 * `node dist/bench/org-fleet.js [--runs 3] [--accounts 20] [--regions 2] [--per 50] [--single 100] [--time-scale 1]`
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import { awsCalls, readJournal } from './lib/calls.js';
import { ROOT, runCli, tempDir } from './lib/child.js';
import { fleetWorldDoc } from './lib/fleet-world.js';
import { load } from './lib/machine.js';
import { memberAccounts, ORG_EXTERNAL_ID, ORG_ROLE_TEMPLATE, orgWorldDoc } from './lib/org-world.js';
import { median, round } from './lib/stats.js';

const REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2', 'eu-central-1'];

/** EC2's documented defaults per account and Region (refill × timeScale): mutating 200 at 5/s, non-mutating 100 at 20/s. */
const buckets = (timeScale: number) => ({
  mutating: { capacity: 200, refillPerSecond: 5 * timeScale },
  describe: { capacity: 100, refillPerSecond: 20 * timeScale },
});

export interface OrgFleetRun {
  shape: string;
  instances: number;
  status: string;
  /** First journal event → last (the run waiting at the hand-over to forensics, every step before it done). */
  runMs: number;
  /** First journal event → the last instance's isolation. */
  isolatedMs: number;
  contained: number;
  calls: number;
  throttled: number;
  peakRssMiB: number;
  loadBefore: number[];
}

/** Every fleet step approved by policy: what a route with `approval: auto` gives the run. */
function unattendedPlaybook(dir: string): string {
  const text = readFileSync(join(ROOT, 'playbooks/ec2-fleet-compromise.yaml'), 'utf8').replace(/approval: required/g, 'approval: auto');
  const file = join(dir, 'ec2-fleet-compromise.yaml');
  writeFileSync(file, text);
  return file;
}

async function measure(shape: 'single' | 'org', o: { accounts: number; regions: number; per: number; single: number; timeScale: number }) {
  const home = tempDir('fb-bench-org-');
  const time = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const rateLimits = buckets(o.timeScale);
  const accounts = memberAccounts(o.accounts);
  const regions = REGIONS.slice(0, o.regions);
  const doc =
    shape === 'single'
      ? { ...fleetWorldDoc(o.single, { rateLimits }), time }
      : orgWorldDoc({ accounts, regions, perLocation: o.per, rateLimits, time });
  const world = join(home, 'world.json');
  writeFileSync(world, JSON.stringify(doc));
  const config = join(home, 'firebreak.config.yaml');
  const instances = shape === 'single' ? o.single : o.accounts * o.regions * o.per;
  writeFileSync(
    config,
    stringify({ roleArn: ORG_ROLE_TEMPLATE, externalId: ORG_EXTERNAL_ID, guardrails: { maxTargets: Math.max(1000, instances) } }),
  );
  const args = ['run', unattendedPlaybook(home), '--sim', world, '--auto', '--json', '--config', config, '-i', 'tags=role=web'];
  if (shape === 'org') args.push('--accounts', accounts.join(','), '--regions', regions.join(','));
  // The single-account run acts with the world's own credentials: the config's role template is for --accounts only.
  if (shape === 'single') writeFileSync(config, stringify({ guardrails: { maxTargets: Math.max(1000, instances) } }));
  const loadBefore = load();
  const r = await runCli(args, { home, probe: true });
  const out = JSON.parse(r.stdout) as { runId: string; status: string; waitingStep: string | null };
  const events = readJournal(join(home, 'runs', out.runId, 'journal.jsonl'));
  const start = Date.parse(events[0]!.ts);
  const isolated = events.filter((e) => e.type === 'item.completed' && e.step === 'isolate');
  const calls = awsCalls(events);
  const result: OrgFleetRun = {
    shape: shape === 'single' ? `1 account × 1 Region × ${o.single}` : `${o.accounts} accounts × ${o.regions} Regions × ${o.per}`,
    instances,
    status: out.status,
    runMs: Date.parse(events.at(-1)!.ts) - start,
    isolatedMs: Math.max(...isolated.map((e) => Date.parse(e.ts))) - start,
    contained: events.filter((e) => e.type === 'item.completed' && e.step === 'snapshot').length,
    calls: calls.length,
    throttled: calls.filter((c) => c.attempts > 1).length,
    peakRssMiB: round(r.probe!.maxRssKiB / 1024),
    loadBefore,
  };
  // The fleet is contained when the run reaches the playbook's hand-over to forensics (a manual task: the run waits there).
  if (out.status !== 'waiting' || out.waitingStep !== 'forensics' || result.contained !== instances)
    throw new Error(`${result.shape}: ${out.status}, ${result.contained} of ${instances} contained (${home}): ${r.stderr.slice(-2000)}`);
  return result;
}

/** Alternating single and organization runs, so both see the same load. */
export async function benchOrgFleet(o: {
  runs: number;
  accounts: number;
  regions: number;
  per: number;
  single: number;
  timeScale: number;
}) {
  const runs: OrgFleetRun[] = [];
  for (let k = 0; k < o.runs; k++) {
    for (const shape of ['single', 'org'] as const) {
      const r = await measure(shape, o);
      runs.push(r);
      process.stderr.write(
        `${r.shape}: run ${round(r.runMs / 1000)} s, isolated ${round(r.isolatedMs / 1000)} s, RSS ${r.peakRssMiB} MiB, load ${r.loadBefore.join(' ')}\n`,
      );
    }
  }
  return runs;
}

const spread = (xs: number[]) => `${round(median(xs) / 1000)} s (${round(Math.min(...xs) / 1000)}–${round(Math.max(...xs) / 1000)})`;

async function main(argv: string[]) {
  const arg = (name: string, def: string) => {
    const i = argv.indexOf(`--${name}`);
    return Number(i >= 0 && argv[i + 1] ? argv[i + 1]! : def);
  };
  if (argv.includes('--help')) {
    process.stdout.write(
      'usage: node dist/bench/org-fleet.js [--runs 3] [--accounts 20] [--regions 2] [--per 50] [--single 100] [--time-scale 1]\n',
    );
    return;
  }
  const o = {
    runs: arg('runs', '3'),
    accounts: arg('accounts', '20'),
    regions: arg('regions', '2'),
    per: arg('per', '50'),
    single: arg('single', '100'),
    timeScale: arg('time-scale', '1'),
  };
  const runs = await benchOrgFleet(o);
  const b = buckets(o.timeScale);
  process.stdout.write(
    `ec2-fleet-compromise, every fleet step auto; ${o.runs} runs of each shape, alternating; EC2 buckets per account and Region: ` +
      `mutating ${b.mutating.capacity} at ${b.mutating.refillPerSecond}/s, non-mutating ${b.describe.capacity} at ${b.describe.refillPerSecond}/s\n\n`,
  );
  process.stdout.write(
    '| shape | instances | whole run | last isolated | AWS calls | throttled calls | peak RSS | load before |\n|---|---|---|---|---|---|---|---|\n',
  );
  const shapes = [...new Set(runs.map((r) => r.shape))];
  for (const shape of shapes) {
    const rs = runs.filter((r) => r.shape === shape);
    process.stdout.write(
      `| ${shape} | ${rs[0]!.instances} | ${spread(rs.map((r) => r.runMs))} | ${spread(rs.map((r) => r.isolatedMs))} | ${median(rs.map((r) => r.calls))} | ${median(rs.map((r) => r.throttled))} | ${Math.max(...rs.map((r) => r.peakRssMiB))} MiB | ${rs.map((r) => r.loadBefore[0]).join(', ')} |\n`,
    );
  }
  const [single, org] = shapes.map((s) => median(runs.filter((r) => r.shape === s).map((r) => r.runMs)));
  process.stdout.write(`\norganization ÷ single account (medians of the whole run): ${round(org! / single!, 2)}\n`);
  writeFileSync(
    join(ROOT, 'bench/results', `org-fleet-${new Date().toISOString().slice(0, 16).replace(':', '')}.json`),
    JSON.stringify({ o, runs }, null, 2),
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main(process.argv.slice(2));
