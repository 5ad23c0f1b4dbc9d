/**
 * The worker Lambda's entry (`worker.handler` in the package): the contract checks of `workerHandler`
 * around the engine.
 *
 * NOT WIRED YET: `runWorkerPhaseInEngine` must run one phase of one step through the engine's run API
 * against the run store (plan → approval → apply → verify, journaled; `approval.requested` with the
 * task token kept and SNS notified for `plan`/`manual`; `StepFailed` named by the error code). Until
 * that API lands it refuses every task, loudly, so a deployment made now fails its first step instead
 * of pretending to contain anything.
 */
import { FirebreakError } from '../core/errors.js';
import { workerHandler, type RunWorkerPhase } from './worker.js';

export const runWorkerPhaseInEngine: RunWorkerPhase = async (task) => {
  throw new FirebreakError(
    `failed to run ${task.stepKey} of run ${task.run.id}: the Step Functions worker is not wired to Firebreak's engine in this version`,
  );
};

export const handler = workerHandler(runWorkerPhaseInEngine);
