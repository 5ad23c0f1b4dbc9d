/** `firebreak run` and `firebreak resume`. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Journal } from '../../audit/journal.js';
import { exitNow } from '../main.js';
import { parseDuration } from '../../core/clock.js';
import { EXIT, InputError } from '../../core/errors.js';
import { autoHost } from '../../engine/auto-host.js';
import type { RunHost } from '../../engine/host.js';
import { chooseBackend } from '../../backend/backend.js';
import { existingRunDir } from '../../engine/home.js';
import { parseAccounts, parseRegions, type Across } from '../../engine/locations.js';
import { loadConfig } from '../../config/config.js';
import { resumeRun, startRun, type RunOutcome } from '../../engine/session.js';
import { type ProgressOptions, progressPrinter } from '../display.js';
import { interactiveHost } from '../interactive-host.js';
import { roleOptions, type RoleCliOptions } from '../role-options.js';
import { c, err, out, printJson } from '../output.js';
import type { ResumeCliOptions } from './resume.js';

export interface RunCliOptions extends RoleCliOptions {
  input?: string[];
  auto?: boolean;
  interactive?: boolean;
  dryRun?: boolean;
  sim?: string | boolean;
  region?: string;
  profile?: string;
  config?: string;
  runsDir?: string;
  incident?: string;
  waitForApproval?: string;
  accounts?: string[];
  regions?: string[];
  verbose?: boolean;
  json?: boolean;
}

/** `--accounts` and `--regions`: a fleet across accounts, or nothing. Checked before anything runs. */
export function acrossOptions(opts: RunCliOptions): Across | undefined {
  const accounts = opts.accounts ?? [];
  const regions = opts.regions ?? [];
  if (accounts.length === 0) {
    if (regions.length > 0)
      throw new InputError('--regions applies with --accounts', { field: '--regions', hint: '--accounts 111111111111,222222222222' });
    return undefined;
  }
  if (opts.roleArn !== undefined)
    throw new InputError('--role-arn names one account; with --accounts the role is the roleArn template in firebreak.config.yaml', {
      field: '--role-arn',
      hint: "roleArn: 'arn:aws:iam::{% account %}:role/FirebreakResponder' in firebreak.config.yaml",
    });
  const accountList = parseAccounts(accounts);
  const regionList = regions.length > 0 ? regions : opts.region ? [opts.region] : [];
  if (regionList.length === 0)
    throw new InputError('--accounts needs --regions (or --region)', { field: '--regions', hint: '--regions us-east-1,eu-west-1' });
  return { accounts: accountList, regions: parseRegions(regionList, regions.length > 0 ? '--regions' : '--region') };
}

export function chooseHost(opts: RunCliOptions, history?: ProgressOptions['history']): RunHost {
  const progress = progressPrinter({ verbose: !!opts.verbose, ...(history ? { history } : {}) });
  const print = (e: { type: string }) => progress.onEvent(e);
  if (opts.auto || opts.dryRun) {
    const waitMs = opts.waitForApproval ? parseDuration(opts.waitForApproval) : 0;
    const host = autoHost({
      waitMs,
      onWaiting: ({ runId, step, kind }: { runId: string; step: string; kind: string }) => {
        err(c.yellow(`⏸ run ${runId} needs a person: ${kind === 'manual' ? 'confirm the manual task' : 'approve'} step ${step}`));
        err(`  firebreak approve ${runId} ${step}${kind === 'manual' ? ' --note "done"' : '   (or --deny / --abort)'}`);
        if (waitMs > 0) err(c.dim(`  waiting up to ${opts.waitForApproval} for an answer…`));
      },
    });
    return { ...host, onEvent: print };
  }
  if (!process.stdin.isTTY && !opts.interactive) {
    throw new InputError('an interactive run needs a terminal to ask for approvals', {
      field: '--auto',
      hint: 'add --auto (unattended, waits for firebreak approve) or --dry-run',
    });
  }
  return interactiveHost({ verbose: !!opts.verbose, ...(history ? { history } : {}) });
}

/** SIGINT/SIGTERM stop the run between AWS calls; a second signal exits at once. */
function interruptOnSignals(): { signal: AbortSignal; dispose: () => void } {
  const ac = new AbortController();
  let count = 0;
  const on = (sig: NodeJS.Signals) => {
    count++;
    if (count > 1) exitNow(EXIT.interrupted);
    err(c.yellow(`\n${sig}: stopping after the current AWS call; the run stays resumable (press Ctrl-C again to exit now)`));
    ac.abort(new Error(sig));
  };
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
  return {
    signal: ac.signal,
    dispose: () => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
    },
  };
}

/** Where `run`, `resume` and `undo` act, from the command line's flags. */
export function cliBackend(opts: RunCliOptions) {
  return chooseBackend({
    ...(opts.sim !== undefined ? { sim: opts.sim } : {}),
    ...(opts.region ? { region: opts.region } : {}),
    ...(opts.profile ? { profile: opts.profile } : {}),
    ...roleOptions(opts),
  });
}

export const cliSettings = (opts: RunCliOptions) => ({
  ...(opts.config ? { configFile: opts.config } : {}),
  ...(opts.runsDir ? { runsDir: opts.runsDir } : {}),
});

export async function run(playbook: string, opts: RunCliOptions): Promise<void> {
  const across = acrossOptions(opts);
  const backend = cliBackend(opts);
  const host = chooseHost(opts);
  const intr = interruptOnSignals();
  try {
    const handle = await startRun({
      run: {
        playbook,
        inputArgs: opts.input ?? [],
        dryRun: !!opts.dryRun,
        ...(opts.incident ? { incident: opts.incident } : {}),
        ...(across ? { across } : {}),
      },
      backend,
      host,
      ...cliSettings(opts),
      signal: intr.signal,
    });
    finish(await handle.result, opts);
  } finally {
    intr.dispose();
  }
}

export async function resume(runId: string, opts: RunCliOptions & { home?: string; sfn?: ResumeCliOptions['sfn'] }): Promise<void> {
  refuseSim('resume', runId, opts);
  // A run on Step Functions goes on in its execution (redriven when it failed), not in this process.
  if (await (await import('./resume.js')).resumeIfExecution(runId, opts)) return;
  // Unknown run: exit 2 before anything else (with store: aws, opening it from the table says so).
  const dir = loadConfig(opts.config).config.store.kind === 'local' ? existingRunDir(runId, cliSettings(opts)) : undefined;
  const backend = cliBackend({ ...opts, sim: undefined });
  const journalFile = dir ? join(dir, 'journal.jsonl') : undefined;
  const host = chooseHost(opts, journalFile && existsSync(journalFile) ? Journal.read(journalFile) : undefined);
  const intr = interruptOnSignals();
  try {
    const handle = await resumeRun({ runId, backend, host, ...cliSettings(opts), signal: intr.signal });
    finish(await handle.result, opts);
  } finally {
    intr.dispose();
  }
}

/** `--sim` would do nothing on resume or undo: refused (exit 2) rather than ignored, so nobody believes it chose the cloud. */
export function refuseSim(command: 'resume' | 'undo', runId: string, opts: { sim?: string | boolean }): void {
  if (opts.sim === undefined) return;
  throw new InputError(
    `--sim is not an option of ${command}: ${command} acts where run ${runId} acted (the simulated world or the AWS account its run.started records)`,
    { field: '--sim', hint: `firebreak ${command} ${runId}   (without --sim; firebreak audit show ${runId} shows where it acted)` },
  );
}

const CODE: Record<string, number> = {
  succeeded: EXIT.ok,
  planned: EXIT.ok,
  waiting: EXIT.waiting,
  interrupted: EXIT.interrupted,
  failed: EXIT.failed,
  aborted: EXIT.failed,
};

export function finish(o: RunOutcome, opts: { json?: boolean }): void {
  if (opts.json) {
    printJson({
      runId: o.runId,
      status: o.status,
      outcome: o.outcome ?? null,
      waitingStep: o.waitingStep ?? null,
      runDir: o.runDir,
      stopReason: o.error ?? null,
    });
  } else {
    out(`run ${o.runId}: ${o.status}${o.waitingStep ? ` (step ${o.waitingStep})` : ''}`);
    if (o.error && o.status !== 'waiting') out(`  ${o.error.code}: ${o.error.message}`);
    if (o.error?.hint && o.status !== 'waiting') out(`  fix: ${o.error.hint}`);
    if (o.status === 'waiting') out(`  next: firebreak approve ${o.runId} ${o.waitingStep}   then   firebreak resume ${o.runId} --auto`);
    if (o.status === 'interrupted' || o.status === 'failed') out(`  resume: firebreak resume ${o.runId}`);
    out(`  journal: firebreak audit show ${o.runId}`);
  }
  // A dry run whose plan fails (no onError path took over) fails: the real run would stop there.
  process.exitCode = o.status === 'planned' && o.outcome === 'failure' ? EXIT.failed : (CODE[o.status] ?? EXIT.failed);
}
