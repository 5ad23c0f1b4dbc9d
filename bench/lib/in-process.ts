/**
 * A run started inside the benchmark's own process, after a first run has loaded every module:
 * what an alert costs a process that is already up (`firebreak serve`), without start-up.
 */
import { autoHost } from '../../src/engine/auto-host.js';
import { runDir } from '../../src/engine/home.js';
import { startRun, type RunOutcome } from '../../src/engine/session.js';

export async function runInProcess(o: { home: string; playbook: string; world: string; inputs: string[] }): Promise<RunOutcome> {
  let runId: string | undefined;
  const host = autoHost({
    get runDir() {
      return runDir(runId!, { home: o.home });
    },
    waitMs: 0,
  } as never);
  return startRun({
    playbook: o.playbook,
    inputArgs: o.inputs,
    host,
    sim: o.world,
    home: o.home,
    onJournal: (j) => {
      j.onAppend((e) => {
        if (e.type === 'run.started') runId = e.runId as string;
      });
    },
  });
}
