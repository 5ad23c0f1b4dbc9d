/**
 * The `{ code, message, hint }` an error is recorded as in the journal, a trigger log or a
 * server's answer: AWS's own error code where there is one, else the error class's name.
 */
import { ActionFailed, awsErrorCode, FirebreakError, InputError } from './errors.js';

export interface ErrorInfo {
  code: string;
  message: string;
  hint?: string;
}

/** A failure replayed from the journal, so a resumed run takes the same onError path again. */
export class ReplayedFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function errorInfo(err: unknown): ErrorInfo {
  const aws = awsErrorCode(err);
  if (aws) return { code: aws, message: (err as Error).message };
  if (err instanceof ReplayedFailure) return { code: err.code, message: err.message };
  if (err instanceof ActionFailed)
    return { code: err.code ?? 'ActionFailed', message: err.message, ...(err.hint ? { hint: err.hint } : {}) };
  if (err instanceof InputError) return { code: 'InvalidInput', message: err.line };
  if (err instanceof FirebreakError) return { code: err.name, message: err.message, ...(err.hint ? { hint: err.hint } : {}) };
  if (err instanceof Error) return { code: err.name || 'Error', message: err.message };
  return { code: 'Error', message: String(err) };
}
