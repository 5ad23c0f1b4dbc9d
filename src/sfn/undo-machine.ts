/**
 * `firebreak undo RUN` for a run Step Functions executed: the undo runs as an execution of one state
 * machine every deployment has (`<stack>-undo`), not in the process that asked. Its input carries the
 * undo plan — the run's recorded undo entries, newest first, as `firebreak undo` reads them from the
 * journal (engine/undo.ts) — and the Map state runs them one at a time through the same worker and the
 * same phases as a playbook's steps: `run` when the undo is approved by policy (`--auto`), otherwise
 * `plan` with a task token (answered by `firebreak approve UNDO-RUN STEP`) then `apply`; a denied
 * entry is recorded as denied and the next one runs, as in the CLI.
 *
 * The worker runs a step of a playbook it can load: the undo's playbook is generated from the plan
 * (engine/undo.ts `undoPlaybook`, deterministic: the same plan gives the same text and digest), so
 * each task writes it where the worker finds it before it runs (`prepareUndoTask`), in whichever
 * execution environment the task lands.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';
import { InputError } from '../core/errors.js';
import { homeDir, type HomeOptions } from '../engine/home.js';
import { undoPlaybook, undoStepId, type UndoPlanEntry } from '../engine/undo.js';
import type { Asl } from './compile.js';
import { LAMBDA_SERVICE_ERRORS, TASK_ERRORS } from './worker.js';

const TOKEN_TASK = 'arn:aws:states:::lambda:invoke.waitForTaskToken';

/** What the undo execution's `run` carries besides the run's own fields: the plan it undoes. */
export const UndoPlan = z.strictObject({
  source: z.string().min(1),
  approval: z.enum(['auto', 'required']),
  entries: z.array(z.strictObject({ step: z.string(), action: z.string(), input: z.unknown() })).min(1),
});
export type UndoPlanT = z.infer<typeof UndoPlan>;

/** The undo state machine of a deployment: `<stack>-undo`, beside `<stack>-<playbook>`. */
export const UNDO_MACHINE = 'undo';

/** The generic undo definition (JSONPath, as compile.ts writes playbooks); `workerFunction` is the worker's ARN or a placeholder. */
export function undoDefinition(o: { workerFunction: string; approvalTimeoutSeconds?: number }): Asl {
  const payload = (phase: string) => ({ phase, 'run.$': '$.run', 'stepId.$': '$.stepId', 'inputs.$': '$.inputs', steps: {} });
  const retry = [
    { ErrorEquals: LAMBDA_SERVICE_ERRORS, IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2 },
    { ErrorEquals: [TASK_ERRORS.transient], IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2 },
  ];
  return {
    Comment: 'Firebreak undo: the recorded undo entries of a run, newest first, one at a time (firebreak undo RUN)',
    StartAt: 'undo',
    States: {
      undo: {
        Type: 'Map',
        ItemsPath: '$.steps',
        MaxConcurrency: 1,
        ItemSelector: { 'stepId.$': '$$.Map.Item.Value', 'run.$': '$.run', 'inputs.$': '$.inputs' },
        ItemProcessor: {
          ProcessorConfig: { Mode: 'INLINE' },
          StartAt: 'undo.policy',
          States: {
            'undo.policy': {
              Type: 'Choice',
              Choices: [{ Variable: '$.run.undo.approval', StringEquals: 'auto', Next: 'undo.run' }],
              Default: 'undo.plan',
            },
            'undo.run': { Type: 'Task', Resource: o.workerFunction, Parameters: payload('run'), Retry: retry, End: true },
            'undo.plan': {
              Type: 'Task',
              Resource: TOKEN_TASK,
              Parameters: { FunctionName: o.workerFunction, Payload: { ...payload('plan'), 'taskToken.$': '$$.Task.Token' } },
              ...(o.approvalTimeoutSeconds ? { TimeoutSeconds: o.approvalTimeoutSeconds } : {}),
              Retry: retry,
              Catch: [{ ErrorEquals: [TASK_ERRORS.denied], ResultPath: '$.caught', Next: 'undo.denied' }],
              ResultPath: null,
              Next: 'undo.apply',
            },
            'undo.apply': { Type: 'Task', Resource: o.workerFunction, Parameters: payload('apply'), Retry: retry, End: true },
            'undo.denied': { Type: 'Pass', End: true },
          },
        },
        ResultPath: null,
        End: true,
      },
    },
  };
}

/** The undo state machine's ARN beside the one that ran `executionArn` (`<stack>-<playbook>` → `<stack>-undo`). */
export function undoMachineArn(executionArn: string, playbook: string): string {
  const m = /^(arn:aws[\w-]*:states:[\w-]+:\d{12}):execution:([^:]+):[^:]+$/.exec(executionArn);
  if (!m || !m[2]!.endsWith(`-${playbook}`))
    throw new InputError(
      `failed to find the undo state machine: execution ${executionArn} is not of a state machine named <stack>-${playbook}`,
      {
        field: '--state-machine',
        hint: 'firebreak undo RUN --state-machine <the deployment’s UndoStateMachineArn output>',
      },
    );
  return `${m[1]}:stateMachine:${m[2]!.slice(0, -playbook.length - 1)}-${UNDO_MACHINE}`;
}

/** The undo execution's input: the undo run's context with its plan, and the steps the Map runs in order. */
export function undoExecutionInput(o: { undoRunId: string; incident: string; plan: UndoPlanT; execution: string }) {
  return {
    inputs: {},
    run: { id: o.undoRunId, incident: o.incident, playbook: `undo-${o.plan.source}`, approval: {}, execution: o.execution, undo: o.plan },
    steps: o.plan.entries.map((e, i) => undoStepId(e.step, i)),
  };
}

/**
 * A worker task of an undo execution, made runnable: its playbook, generated from the plan it
 * carries, written under the run store's folder, and `run.playbook` pointing at it. Any other task
 * passes through unchanged.
 */
export function prepareUndoTask(event: unknown, home: HomeOptions = {}): unknown {
  const run = (event as { run?: { id?: unknown; undo?: unknown } } | null)?.run;
  if (!run || run.undo === undefined) return event;
  const plan = UndoPlan.safeParse(run.undo);
  if (!plan.success)
    throw new InputError(`failed to read the undo plan of the task: ${z.prettifyError(plan.error)}`, { field: 'run.undo' });
  const dir = join(homeDir(home), 'undo');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${String(run.id).replace(/[^A-Za-z0-9_.-]+/g, '-')}.yaml`);
  writeFileSync(file, undoPlaybook(plan.data.source, plan.data.entries as UndoPlanEntry[], plan.data.approval));
  return { ...(event as object), run: { ...run, playbook: file } };
}
