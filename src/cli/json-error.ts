/**
 * The one shape an error takes in `--json` output, for every command:
 * `{"error": {"code", "exitCode", "message", "hint"?, "file"?, "line"?, "column"?, "field"?}}`.
 * `code` is a stable string a script can branch on; `exitCode` is the process's exit status.
 */
import {
  ActionFailed,
  Aborted,
  EXIT,
  FirebreakError,
  GuardrailRefusal,
  InputError,
  Interrupted,
  WaitingForApproval,
} from '../core/errors.js';

export interface ProblemJson {
  file?: string;
  line?: number;
  column?: number;
  field?: string;
  message: string;
}

export interface ErrorJson extends ProblemJson {
  code: string;
  exitCode: number;
  hint?: string;
  /** Further problems of the same input, found in the same pass. */
  more?: ProblemJson[];
}

/** Where an input error points, as `{file, line, column, field, message}` (also `validate --json`'s errors). */
export function problemJson(e: InputError): ProblemJson {
  return {
    ...(e.pos ? { file: e.pos.file, line: e.pos.line, column: e.pos.col } : {}),
    ...(e.field ? { field: e.field } : {}),
    message: e.message,
  };
}

/** Stable codes: a class's meaning, not its name (a renamed class must not change what scripts read). */
export function errorCode(e: unknown): string {
  if (e instanceof InputError) return 'invalid-input';
  if (e instanceof WaitingForApproval) return 'waiting-for-approval';
  if (e instanceof Interrupted) return 'interrupted';
  if (e instanceof GuardrailRefusal) return 'guardrail-refused';
  if (e instanceof Aborted) return 'aborted';
  if (e instanceof ActionFailed) return 'action-failed';
  if (e instanceof FirebreakError) return 'failed';
  if (e instanceof Error && e.name === 'CredentialsProviderError') return 'no-credentials';
  return 'internal';
}

export function errorJson(e: unknown, exitCode: number, message: string, hint?: string): { error: ErrorJson } {
  const more = e instanceof InputError && e.more.length ? { more: e.more.map(problemJson) } : {};
  const where = e instanceof InputError ? problemJson(e) : { message };
  return { error: { code: errorCode(e), exitCode, ...where, ...(hint ? { hint } : {}), ...more } };
}

/** A command-line usage error (unknown option, missing argument): exit 2. */
export function usageErrorJson(message: string): { error: ErrorJson } {
  return { error: { code: 'usage', exitCode: EXIT.invalid, message: message.replace(/^error: /, '') } };
}
