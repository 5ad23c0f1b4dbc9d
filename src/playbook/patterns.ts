/**
 * Regular expressions written by playbook and routing-table authors run against values that come
 * from alerts and the command line. JavaScript's engine backtracks, so a pattern with a repeated
 * group that itself repeats (`(a+)+`) can take exponential time on a long value and hang the
 * process. Such patterns are refused when the file is loaded (safe-regex2 measures star height).
 */
import safeRegex from 'safe-regex2';

export const UNSAFE_PATTERN =
  'it nests quantifiers (like (a+)+), which can take exponential time on a long value; write it without a repeated group that itself repeats';

/** Undefined for a pattern that is safe to run on untrusted text, else why it is not. */
export function unsafePattern(pattern: string | RegExp): string | undefined {
  return safeRegex(pattern) ? undefined : UNSAFE_PATTERN;
}

/** A RegExp that refuses unsafe patterns: JSONata's regex engine for expressions (`$match(s, /…/)`). */
export class SafeRegExp extends RegExp {
  constructor(pattern: string | RegExp, flags?: string) {
    const why = unsafePattern(pattern);
    if (why) throw new Error(`the regular expression ${String(pattern)} is refused: ${why}`);
    super(pattern, flags);
  }
}
