/**
 * Keeps the benchmarks from rotting: each one runs at a tiny size against the built CLI and its
 * figures are checked for shape and consistency. No assertion is about time: the machine decides
 * that, not the code. Needs `npm run build` first (npm test does it).
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { awsCalls, criticalPath, type AwsCall } from '../../bench/lib/calls.js';
import { ROOT } from '../../bench/lib/child.js';
import { benchContainmentWarm, measureOnce, VARIANTS } from '../../bench/containment.js';
import { measureFleet } from '../../bench/fleet.js';
import { benchAppend, benchVerify } from '../../bench/journal.js';
import { benchStartup } from '../../bench/startup.js';
import { parseOptions } from '../../bench/run.js';

const call = (operation: string, start: number, end: number): AwsCall => ({
  seq: start,
  service: 'ec2',
  operation,
  start,
  end,
  durationMs: end - start,
  attempts: 1,
});

describe('critical path', () => {
  it('counts overlapping calls as one round trip and chained calls as several', () => {
    const plan = [call('DescribeInstances', 0, 50), call('DescribeNetworkInterfaces', 1, 51), call('DescribeSecurityGroups', 2, 52)];
    const tags = [call('CreateTags', 53, 103), call('CreateTags', 54, 104)];
    const transit = call('ModifyNetworkInterfaceAttribute', 105, 155);
    const iso = call('ModifyNetworkInterfaceAttribute', 156, 206);
    const path = criticalPath([...plan, ...tags, transit, iso], iso);
    expect(path).toHaveLength(4);
    expect(plan).toContain(path[0]);
    expect(tags).toContain(path[1]);
    expect(path.slice(2)).toEqual([transit, iso]);
  });

  it('reads start and end from the journal event: ts is the end', () => {
    const [c] = awsCalls([
      { seq: 7, ts: '2026-01-01T00:00:01.000Z', type: 'aws.call', service: 'ec2', operation: 'CreateTags', durationMs: 40, attempts: 2 },
    ]);
    expect(c).toMatchObject({ start: Date.parse('2026-01-01T00:00:00.960Z'), end: Date.parse('2026-01-01T00:00:01.000Z'), attempts: 2 });
  });
});

describe('benchmarks at a tiny size', () => {
  it('alert → isolated: the fast playbook in a VPC with its groups needs 3 round trips', async () => {
    const v = VARIANTS.find((x) => x.name === 'fast-containment, groups exist')!;
    // 50 ms a call, as the benchmark itself runs: round trips are counted from call times, and at
    // a few ms a call a busy machine can start two parallel reads a whole call apart.
    const r = await measureOnce(v, 50);
    expect(r.path.at(-1)).toBe('ec2:ModifyNetworkInterfaceAttribute');
    // The plan's reads, the tags beside the transit swap, the isolation swap.
    expect(r.roundTrips).toBe(3);
    expect(r.exitCode).toBe(3); // waits at the manual forensics step
    expect(r.maxRssMiB).toBeGreaterThan(0);
  }, 60_000);

  it('alert → isolated in a running process', async () => {
    // 50 ms a call, as above: at a few ms a busy machine can start two parallel calls a whole call apart.
    const [r] = await benchContainmentWarm({ runs: 1, latencyMs: 50 }, [
      VARIANTS.find((x) => x.name === 'ec2-instance-compromise, groups exist')!,
    ]);
    expect(r!.path.at(-1)).toBe('ec2:ModifyNetworkInterfaceAttribute');
    expect(r!.roundTrips).toBe(3); // isolation is the playbook's first step: reads, tags ∥ transit swap, isolation swap
  }, 60_000);

  it.each(['adaptive', 'standard'] as const)(
    'fleet of 3 with %s retries: every target isolated',
    async (mode) => {
      const r = await measureFleet(3, 2, mode, { latencyMs: 5, timeScale: 10 });
      expect(r).toMatchObject({ status: 'succeeded', failedTargets: 0, retryModeSeen: [mode] });
      // Exactly two swaps per single-interface instance; tags batched: one CreateTags per tag set
      // (instance, interface) per batch. The durable simulated cloud answers changes one at a time,
      // so a wave's tags may split into two batches; never one call per tag set and target (3 × 2).
      expect(r.calls.mutating).toBeGreaterThanOrEqual(3 * 2 + 2);
      expect(r.calls.mutating).toBeLessThan(3 * 2 + 3 * 2);
      // Round trips per target are not pinned here: a batched call is journaled under the target
      // that closed its batch, so one target's chain may carry others' calls or lack its own reads
      // and tags; its two swaps are always its own. The single-instance chain is pinned above (3 to isolated).
      expect(r.roundTripsPerTarget).toBeGreaterThanOrEqual(2);
    },
    60_000,
  );

  it('start-up of --version and validate, and which SDK packages they load', async () => {
    const [version, validate] = await benchStartup({ runs: 1 });
    expect(version!.awsSdkPackages).toEqual([]);
    expect(validate!.command).toMatch(/^firebreak validate /);
  }, 120_000);

  it('journal appends and verify', async () => {
    const a = benchAppend({ events: 20 });
    expect(a).toMatchObject({ events: 20 });
    // The disk's raw write + fdatasync rate is measured beside it, and the ratio is of the two.
    expect(a.rawSyncsPerSecond).toBeGreaterThan(0);
    expect(a.ratioToRaw).toBeCloseTo(a.appendsPerSecond / a.rawSyncsPerSecond, 1);
    const v = await benchVerify({ events: 1_000, runs: 1 });
    expect(v.events).toBe(1_000);
  }, 60_000);

  it('refuses unknown benchmark names and modes', () => {
    expect(() => parseOptions(['--only', 'fleet,nope'])).toThrow(/unknown benchmark 'nope'/);
    expect(() => parseOptions(['--retry-modes', 'legacy'])).toThrow(/legacy/);
    expect(parseOptions(['--quick']).fleetCases).toEqual([{ instances: 3, concurrency: 10, retryMode: 'adaptive', timeScale: 10 }]);
    expect(parseOptions(['--sizes', '5', '--retry-modes', 'adaptive,standard']).fleetCases).toHaveLength(2);
    expect(ROOT).toBe(join(import.meta.dirname, '../..'));
  });

  it('--help prints the usage and exits 0; a bad option prints its message and the usage, exit 2, no stack trace', () => {
    const run = (args: string[]) => spawnSync(process.execPath, [join(ROOT, 'dist/bench/run.js'), ...args], { encoding: 'utf8' });
    const help = run(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage: npm run bench -- \[options\]/);
    expect(help.stdout).toContain('--only');
    expect(help.stderr).toBe('');
    const bad = run(['--frobnicate']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^bench: .*--frobnicate/);
    expect(bad.stderr).toContain('usage:');
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });
});
