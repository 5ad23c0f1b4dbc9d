/**
 * `firebreak resume RUN` for a run Step Functions executes: its execution goes on, not this process.
 * FAILED / TIMED_OUT / ABORTED → redriven; RUNNING → said so, with the steps it waits on; SUCCEEDED →
 * nothing to do. Other runs resume in this process (run.ts).
 */
import type { SFNClient } from '@aws-sdk/client-sfn';
import { loadConfig } from '../../config/config.js';
import { EXIT } from '../../core/errors.js';
import { runStoreFor } from '../../engine/local-store.js';
import { runsOnStepFunctions } from '../../sfn/approve-task.js';
import { executionArnOf, sfnClientFor } from '../../sfn/executions.js';
import { resumeExecution } from '../../sfn/redrive.js';
import { out, printJson } from '../output.js';
import type { RunCliOptions } from './run.js';

export type ResumeCliOptions = RunCliOptions & { home?: string; sfn?: Pick<SFNClient, 'send'> };

/** Resume the run's execution when the run is one; false when the run runs in a process (resume it there). */
export async function resumeIfExecution(runId: string, opts: ResumeCliOptions): Promise<boolean> {
  const home = { ...(opts.home ? { home: opts.home } : {}), ...(opts.runsDir ? { runsDir: opts.runsDir } : {}) };
  const record = await runStoreFor(loadConfig(opts.config).config.store, home).open(runId);
  if (!runsOnStepFunctions(record)) return false;
  const arn = executionArnOf(record.readJournal());
  const r = await resumeExecution(record, { sfn: opts.sfn ?? sfnClientFor(arn ?? '') });
  const x = r.execution;
  if (opts.json)
    printJson({
      runId,
      execution: x.executionArn,
      status: r.kind === 'redriven' ? 'RUNNING' : x.status,
      action: r.kind === 'redriven' ? 'redriven' : 'none',
      waiting: x.waiting,
      redriveCount: x.redriveCount + (r.kind === 'redriven' ? 1 : 0),
    });
  else if (r.kind === 'redriven') {
    out(`run ${runId}: execution ${x.status}${x.error ? ` (${x.error})` : ''}, redriven at ${r.redriveDate}`);
    out('  the states that succeeded keep their results; the failed ones run again');
    out(`  status: firebreak runs   journal: firebreak audit show ${runId}`);
  } else if (r.kind === 'running') {
    out(`run ${runId}: execution RUNNING${x.waiting.length ? `, waiting for ${x.waiting.join(', ')}` : ''}; nothing to resume`);
    for (const step of x.waiting) out(`  next: firebreak approve ${runId} ${step}   [--deny | --abort]`);
  } else out(`run ${runId}: execution SUCCEEDED; nothing to resume`);
  process.exitCode = r.kind === 'running' && x.waiting.length > 0 ? EXIT.waiting : EXIT.ok;
  return true;
}
