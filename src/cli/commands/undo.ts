/** `firebreak undo RUN [STEP…]`: reverse completed steps, newest first, as a run of its own. */
import { startRun } from '../../engine/session.js';
import { noteOnSource, prepareUndo } from '../../engine/undo.js';
import { out } from '../output.js';
import { chooseHost, finish, type RunCliOptions } from './run.js';
import { runDir } from '../../engine/home.js';

export async function undo(runId: string, steps: string[], opts: RunCliOptions & { interactive?: boolean }): Promise<void> {
  const home = opts.runsDir ? { runsDir: opts.runsDir } : {};
  const prep = prepareUndo(runId, steps, opts.auto ? 'auto' : 'required', home);
  const host = chooseHost(opts, () => runDir(prep.undoRunId, home));
  if (!opts.json) {
    out(`undo of run ${runId} → run ${prep.undoRunId}, ${prep.entries.length} step${prep.entries.length === 1 ? '' : 's'}, newest first:`);
    for (const e of prep.entries) out(`  ${e.step}: ${e.action}`);
  }
  await noteOnSource(runId, 'undo.requested', { undoRun: prep.undoRunId, steps: prep.entries.map((e) => e.step) }, home);
  const outcome = await startRun({
    playbook: prep.playbookFile,
    inputs: {},
    host,
    runId: prep.undoRunId,
    incident: prep.incident,
    dryRun: !!opts.dryRun,
    ...(prep.backend === 'sim' ? { sim: prep.worldFile! } : {}),
    ...((opts.region ?? prep.region) ? { region: (opts.region ?? prep.region)! } : {}),
    ...((opts.profile ?? prep.profile) ? { profile: (opts.profile ?? prep.profile)! } : {}),
    ...(opts.config ? { configFile: opts.config } : {}),
    ...home,
    trigger: { undoOf: runId },
    onJournal: (j) => j.onAppend((e: { type: string; [k: string]: unknown }) => host.onEvent?.(e)),
  });
  await noteOnSource(runId, 'undo.finished', { undoRun: prep.undoRunId, status: outcome.status }, home);
  finish(outcome, opts);
}
