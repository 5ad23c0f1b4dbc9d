/** What the store refuses, as errors the engine can tell apart (never a swallowed AWS error). */
import { FirebreakError, InputError } from '../core/errors.js';

/** Another writer holds this sequence number: this process is not the run's writer. */
export class AppendConflict extends FirebreakError {
  constructor(
    readonly runId: string,
    readonly seq: number,
    readonly existingHash: string,
  ) {
    super(`failed to append event ${seq} to run ${runId}: another writer already appended a different event ${seq}`, {
      hint: `firebreak runs   (another process is running ${runId}; stop it before resuming here)`,
    });
  }
}

/** The lease was taken over after it expired, or released: its holder must stop acting on the resource. */
export class LeaseLost extends FirebreakError {
  constructor(
    readonly resource: string,
    why: string,
  ) {
    super(`failed to keep the lock on ${resource}: ${why}`, {
      hint: 'the run must re-plan the step: another run may have changed the resource',
    });
  }
}

/** `err` is the AWS error `code` (the SDK's exception name). Only named codes are ever tolerated. */
export const isAwsError = (err: unknown, ...codes: string[]): boolean => err instanceof Error && codes.includes(err.name);

/** The task token was answered before: a second answer would be a second SendTask call. */
export class TokenAlreadyAnswered extends InputError {
  constructor(
    readonly runId: string,
    readonly step: string,
    readonly first: { decision?: string; by?: string; at?: string },
  ) {
    super(
      `step ${step} of run ${runId} was already answered: ${first.decision ?? 'unknown'} by ${first.by ?? 'unknown'} at ${first.at ?? '?'}`,
      { field: 'STEP', hint: `firebreak audit show ${runId}   (the first answer stands)` },
    );
  }
}
