/** Deterministic ids, so the same scenario gives the same ids on every run. */
import { createHash } from 'node:crypto';

/** An id AWS assigned when the resource was made, derived from what the world records (stable across runs). */
export function derivedId(prefix: string, from: string): string {
  return `${prefix}-${createHash('sha256').update(`${prefix}/${from}`).digest('hex').slice(0, 17)}`;
}

/** IAM-style unique ids (AIDA…, AROA…, AIPA…): the prefix and 17 upper-case letters and digits. */
export function awsStyleId(prefix: string, from: string): string {
  const digest = createHash('sha256').update(`${prefix}/${from}`).digest();
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let out = prefix;
  for (let i = 0; i < 17; i++) out += alphabet[digest[i]! % 32];
  return out;
}

/** The n-th new resource id of a world: `newId('i')` → `i-` and 17 hex digits. */
export function sequenceId(accountId: string, prefix: string, n: number, hexLength = 17): string {
  return `${prefix}-${createHash('sha256').update(`${accountId}/${prefix}/${n}`).digest('hex').slice(0, hexLength)}`;
}
