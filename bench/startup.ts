/**
 * Start-up: whole processes, as a shell or a CI job runs them. The median of `runs` runs, after
 * two unmeasured runs that warm the page cache (none for a smoke run of fewer than 5).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, runCli, tempDir } from './lib/child.js';
import { median, quantile, round } from './lib/stats.js';

export interface StartupResult {
  command: string;
  runs: number;
  medianMs: number;
  p10Ms: number;
  p90Ms: number;
  /** @aws-sdk/* packages the command loaded (from one extra run with the probe). */
  awsSdkPackages: string[];
  peakRssMiB: number;
}

async function timeCommand(args: string[], runs: number): Promise<StartupResult> {
  const home = tempDir('fb-bench-start-');
  for (let i = 0; i < (runs >= 5 ? 2 : 0); i++) await runCli(args, { home });
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await runCli(args, { home });
    if (r.code !== 0) throw new Error(`'firebreak ${args.join(' ')}' exited ${r.code}: ${r.stderr.slice(0, 1000)}`);
    times.push(r.wallMs);
  }
  const probed = await runCli(args, { home, probe: true });
  return {
    command: `firebreak ${args.map((a) => (a.startsWith(ROOT) ? a.slice(ROOT.length + 1) : a)).join(' ')}`,
    runs,
    medianMs: round(median(times)),
    p10Ms: round(quantile(times, 0.1)),
    p90Ms: round(quantile(times, 0.9)),
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
