import { parseDuration } from '../core/clock.js';
import { InputError } from '../core/errors.js';

/**
 * `--wait-for-approval` as a task token's timeout in seconds: between 1 s and a year, since a task
 * token waits at most as long as a Standard execution lives. Undefined when the option is not given.
 */
export function approvalTimeoutSeconds(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch (e) {
    throw new InputError(`failed to read --wait-for-approval: ${(e as Error).message}`, { field: '--wait-for-approval' });
  }
  if (ms < 1000 || ms > 365 * 86_400_000)
    throw new InputError(`failed to read --wait-for-approval: ${value} is not between 1s and 365d`, { field: '--wait-for-approval' });
  return Math.ceil(ms / 1000);
}
