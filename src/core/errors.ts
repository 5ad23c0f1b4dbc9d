/**
 * Error classes and the exit codes they map to. One top-level catch in the CLI turns these
 * into one clear line and an exit code; nothing else in Firebreak calls process.exit.
 *
 * Exit codes: 0 completed, 1 failed or aborted, 2 invalid input, 3 waiting for approval,
 * 130 interrupted.
 */
export const EXIT = { ok: 0, failed: 1, invalid: 2, waiting: 3, interrupted: 130 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A place in a file: every input error names one when there is a file. */
export interface SourcePos {
  file: string;
  line: number; // 1-based
  col: number; // 1-based
}

export function formatPos(pos: SourcePos | undefined): string {
  return pos ? `${pos.file}:${pos.line}:${pos.col}` : '';
}

/** Base class: an error Firebreak expects and can explain. `hint` names the command that fixes it. */
export class FirebreakError extends Error {
  readonly exitCode: ExitCode = EXIT.failed;
  hint?: string;
  constructor(message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    if (opts.hint) this.hint = opts.hint;
  }
}

/** Bad input: a playbook, input value, alert, scenario, world or config that does not validate. Exit 2. */
export class InputError extends FirebreakError {
  override readonly exitCode = EXIT.invalid;
  readonly pos?: SourcePos;
  readonly field?: string;
  /** Further problems found in the same pass (the first one is this error's message). */
  readonly more: InputError[];
  constructor(message: string, opts: { pos?: SourcePos; field?: string; hint?: string; cause?: unknown; more?: InputError[] } = {}) {
    super(message, opts);
    if (opts.pos) this.pos = opts.pos;
    if (opts.field) this.field = opts.field;
    this.more = opts.more ?? [];
  }
  /** `file:line:col: field: message` — the one line a user sees. */
  get line(): string {
    const where = formatPos(this.pos);
    const field = this.field ? `${this.field}: ` : '';
    return `${where ? `${where}: ` : ''}${field}${this.message}`;
  }
}

/** The run stopped because a step needs a human decision (automatic mode). Exit 3. */
export class WaitingForApproval extends FirebreakError {
  override readonly exitCode = EXIT.waiting;
  constructor(
    readonly runId: string,
    readonly step: string,
    kind: 'approval' | 'manual' = 'approval',
  ) {
    super(`run ${runId} is waiting for ${kind === 'manual' ? 'a manual task to be confirmed' : 'approval'} of step '${step}'`, {
      hint:
        kind === 'manual'
          ? `firebreak approve ${runId} ${step} --note "done"   (confirms the task)`
          : `firebreak approve ${runId} ${step}   (or --deny)`,
    });
  }
}

/** The user pressed Ctrl-C or the process got SIGINT/SIGTERM. Exit 130; the run stays resumable. */
export class Interrupted extends FirebreakError {
  override readonly exitCode = EXIT.interrupted;
  constructor(readonly runId?: string) {
    super(runId ? `interrupted; run ${runId} can be resumed` : 'interrupted', runId ? { hint: `firebreak resume ${runId}` } : {});
  }
}

/** The run was aborted by a person at an approval prompt, or denied. Exit 1. */
export class Aborted extends FirebreakError {}

/** A guardrail refused a change (account not allowed, protected tag, too many targets). Exit 1. */
export class GuardrailRefusal extends FirebreakError {}

/**
 * An AWS call failed with an error no one tolerated. Keeps the AWS error code and the resource,
 * so "failed to <verb> <thing>: <Code>: <message>" can be shown.
 */
export class ActionFailed extends FirebreakError {
  constructor(
    message: string,
    readonly code?: string,
    opts: { hint?: string; cause?: unknown } = {},
  ) {
    super(message, opts);
  }
}

/** The AWS error code of an SDK v3 error (its `name`), or undefined for non-AWS errors. */
export function awsErrorCode(err: unknown): string | undefined {
  if (err && typeof err === 'object' && '$metadata' in err && typeof (err as { name?: unknown }).name === 'string') {
    return (err as unknown as { name: string }).name;
  }
  return undefined;
}

/** True when `err` is an AWS error whose code is one of `codes`. The only way Firebreak tolerates AWS errors. */
export function isAwsError(err: unknown, ...codes: string[]): boolean {
  const code = awsErrorCode(err);
  return code !== undefined && codes.includes(code);
}
