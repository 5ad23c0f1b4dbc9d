/** `firebreak undo RUN [STEP…]`: reverse completed steps, newest first, as a run of its own. */
import { startRun } from '../../engine/session.js';
import { noteOnSource, prepareUndo } from '../../engine/undo.js';
import { out } from '../output.js';
import { chooseBackend } from '../../backend/backend.js';
import { chooseHost, finish, refuseSim, type RunCliOptions } from './run.js';
import { loadConfig } from '../../config/config.js';
import { runStoreFor } from '../../engine/local-store.js';
import { runsOnStepFunctions } from '../../sfn/approve-task.js';
import { undoExecution, type UndoExecutionOptions } from './undo-execution.js';

export async function undo(
  runId: string,
  steps: string[],
  opts: RunCliOptions & { interactive?: boolean; home?: string } & UndoExecutionOptions,
): Promise<void> {
  refuseSim('undo', runId, opts);
  const home = { ...(opts.home ? { home: opts.home } : {}), ...(opts.runsDir ? { runsDir: opts.runsDir } : {}) };
  // A run Step Functions executed is undone by an execution of the deployment's undo state machine.
  const store = runStoreFor(loadConfig(opts.config).config.store, home);
  const record = await store.open(runId);
  if (runsOnStepFunctions(record)) return undoExecution(store, record, steps, opts);
  const prep = prepareUndo(runId, steps, opts.auto ? 'auto' : 'required', home);
  const host = chooseHost(opts);
  if (!opts.json) {
    out(`undo of run ${runId} → run ${prep.undoRunId}, ${prep.entries.length} step${prep.entries.length === 1 ? '' : 's'}, newest first:`);
    for (const e of prep.entries) out(`  ${e.step}: ${e.action}`);
  }
  await noteOnSource(runId, 'undo.requested', { undoRun: prep.undoRunId, steps: prep.entries.map((e) => e.step) }, home);
  // The undo acts where the run it reverses acted, as that place is now: the current world of its simulated chain, or the same account.
  const backend = chooseBackend({
    ...(prep.backend === 'sim' ? { sim: prep.worldFile! } : {}),
    ...((opts.region ?? prep.region) ? { region: (opts.region ?? prep.region)! } : {}),
    ...((opts.profile ?? prep.profile) ? { profile: (opts.profile ?? prep.profile)! } : {}),
  });
  const handle = await startRun({
    run: {
      playbook: prep.playbookFile,
      inputs: {},
      runId: prep.undoRunId,
      incident: prep.incident,
      dryRun: !!opts.dryRun,
      trigger: { undoOf: runId },
    },
    backend,
    host,
    ...(opts.config ? { configFile: opts.config } : {}),
    ...home,
  });
  const outcome = await handle.result;
  await noteOnSource(runId, 'undo.finished', { undoRun: prep.undoRunId, status: outcome.status }, home);
  finish(outcome, opts);
}
