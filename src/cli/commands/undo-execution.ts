/**
 * `firebreak undo RUN` for a run Step Functions executed: the undo starts as an execution of the
 * deployment's undo state machine (sfn/undo-machine.ts), named by the undo run's id, and is journaled
 * on the run (`undo.requested` with the execution). Its steps wait for `firebreak approve` unless
 * `--auto`; `firebreak runs` follows it.
 */
import { StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { InputError } from '../../core/errors.js';
import type { RunRecord, RunStore } from '../../engine/local-store.js';
import { undoEntries } from '../../engine/undo.js';
import { executionArnOf, sfnClientFor } from '../../sfn/executions.js';
import { journalUnderLock } from '../../sfn/redrive.js';
import { executionArnFor } from '../../sfn/router.js';
import { undoExecutionInput, undoMachineArn } from '../../sfn/undo-machine.js';
import { out, printJson } from '../output.js';

export interface UndoExecutionOptions {
  auto?: boolean;
  json?: boolean;
  dryRun?: boolean;
  stateMachine?: string;
  sfn?: Pick<SFNClient, 'send'>;
}

export async function undoExecution(store: RunStore, record: RunRecord, steps: string[], opts: UndoExecutionOptions): Promise<void> {
  const runId = record.runId;
  const events = record.readJournal();
  const started = events.find((e) => e.type === 'run.started') as { playbook?: { id?: string }; incident?: string } | undefined;
  const source = executionArnOf(events);
  if (opts.dryRun)
    throw new InputError(
      `--dry-run is not an option of undo for run ${runId}: it ran on Step Functions, and its undo plans in its own execution`,
      {
        field: '--dry-run',
        hint: `firebreak undo ${runId}   (each undo step waits for firebreak approve, showing its plan, unless --auto)`,
      },
    );
  const entries = undoEntries(events as Parameters<typeof undoEntries>[0], steps);
  if (entries.length === 0)
    throw new InputError(`run ${runId} has no completed step with an undo`, { field: 'RUN', hint: `firebreak audit show ${runId}` });
  const stateMachineArn =
    opts.stateMachine ??
    (source
      ? undoMachineArn(source, started?.playbook?.id ?? '')
      : (() => {
          throw new InputError(`run ${runId} names no execution to find its deployment's undo state machine by`, {
            field: '--state-machine',
            hint: `firebreak undo ${runId} --state-machine <the deployment's UndoStateMachineArn output>`,
          });
        })());
  let n = 1;
  while (await exists(store, `${runId}-undo-${n}`)) n++;
  const undoRunId = `${runId}-undo-${n}`;
  const executionArn = executionArnFor(stateMachineArn, undoRunId);
  const input = undoExecutionInput({
    undoRunId,
    incident: started?.incident ?? runId,
    plan: { source: runId, approval: opts.auto ? 'auto' : 'required', entries },
    execution: executionArn,
  });
  const sfn = opts.sfn ?? sfnClientFor(stateMachineArn);
  // Journaled first, as every decision is: the run says which undo was asked for even if the start fails.
  await journalUnderLock(record, undefined, (j) =>
    j.append('undo.requested', { undoRun: undoRunId, steps: entries.map((e) => e.step), execution: executionArn }),
  );
  const startedExecution = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: undoRunId, input: JSON.stringify(input) }));
  if (opts.json)
    return printJson({
      runId,
      undoRun: undoRunId,
      execution: startedExecution.executionArn!,
      steps: input.steps,
      approval: input.run.undo.approval,
    });
  out(
    `undo of run ${runId} → run ${undoRunId}, ${entries.length} step${entries.length === 1 ? '' : 's'}, newest first, as execution ${startedExecution.executionArn}:`,
  );
  for (const e of entries) out(`  ${e.step}: ${e.action}`);
  out(
    opts.auto
      ? `  approved by --auto; follow it with firebreak runs`
      : `  each step waits for firebreak approve ${undoRunId} <step>; firebreak runs shows which`,
  );
}

async function exists(store: RunStore, runId: string): Promise<boolean> {
  return store.open(runId).then(
    () => true,
    (err: unknown) => {
      if (err instanceof InputError) return false;
      throw err;
    },
  );
}
