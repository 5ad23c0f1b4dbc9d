/**
 * A run started inside the benchmark's own process, after a first run has loaded every module:
 * what an alert costs a process that is already up (`firebreak serve`), without start-up.
 */
import { chooseBackend } from '../../src/backend/backend.js';
import { autoHost } from '../../src/engine/auto-host.js';
import { startRun, type RunOutcome } from '../../src/engine/session.js';

export async function runInProcess(o: { home: string; playbook: string; world: string; inputs: string[] }): Promise<RunOutcome> {
  const handle = await startRun({
    run: { playbook: o.playbook, inputArgs: o.inputs },
    backend: chooseBackend({ sim: o.world }),
    host: autoHost({ waitMs: 0 }),
    home: o.home,
  });
  return handle.result;
}
