/**
 * Reading the files a person or a sender hands Firebreak, with a size limit per kind checked
 * before anything is parsed: a YAML parser holds several times a file's size in memory, so a
 * 50 MB "playbook" would exhaust the heap long before a schema could reject it. The limits are
 * one to two orders of magnitude above the largest real file of each kind.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { InputError } from './errors.js';

const KiB = 1024;
const MiB = 1024 * KiB;

export const SIZE_LIMITS = {
  playbook: 1 * MiB,
  routes: 1 * MiB,
  scenario: 1 * MiB,
  decisions: 1 * MiB,
  config: 256 * KiB,
  // EventBridge and SNS cap a message at 256 KB; a `{"Findings": [...]}` list from the AWS CLI can hold 50.
  alert: 4 * MiB,
  // World files are written by the simulated cloud as well as by hand; a 30-instance fleet is ~100 KB.
  world: 16 * MiB,
} as const;
export type InputKind = keyof typeof SIZE_LIMITS;

/** Nesting limit for alert JSON: AWS findings nest about ten levels; deeper input is refused before any recursive code sees it. */
export const MAX_JSON_DEPTH = 64;

/** The file's text (UTF-8), refusing a file over its kind's limit. `'-'` reads stdin. */
export function readInputFile(file: string, kind: InputKind, field?: string): string {
  return readInputBytes(file, kind, field).toString('utf8');
}

/** The file's bytes, refusing a file over its kind's limit. `'-'` reads stdin. */
export function readInputBytes(file: string, kind: InputKind, field?: string): Buffer {
  const limit = SIZE_LIMITS[kind];
  const name = file === '-' ? 'stdin' : file;
  const fail = (why: string, cause?: unknown) =>
    new InputError(`failed to read ${kind} ${name}: ${why}`, {
      ...(field ? { field } : {}),
      ...(cause === undefined ? {} : { cause }),
    });
  let fd: number;
  try {
    fd = file === '-' ? 0 : openSync(file, 'r');
  } catch (err) {
    throw fail(errnoText(err), err);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw fail('it is a directory');
    if (st.isFile()) {
      if (st.size > limit) throw fail(`it is ${st.size} bytes; the limit for a ${kind} file is ${limit} bytes`);
      return readFileSync(fd);
    }
    // A pipe or terminal: read at most one byte past the limit.
    const chunks: Buffer[] = [];
    let total = 0;
    const buf = Buffer.alloc(64 * KiB);
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') continue;
        if ((err as NodeJS.ErrnoException).code === 'EOF') break;
        throw err;
      }
      if (n === 0) break;
      total += n;
      if (total > limit) throw fail(`it is over the limit of ${limit} bytes for a ${kind}`);
      chunks.push(Buffer.from(buf.subarray(0, n)));
    }
    return Buffer.concat(chunks);
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw fail(errnoText(err), err);
  } finally {
    if (fd !== 0) closeSync(fd);
  }
}

function errnoText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'it is a directory';
  if (code === 'EACCES') return 'permission denied';
  return (err as Error).message;
}

/**
 * Throws when a parsed JSON value nests deeper than `max`. Iterative, so the check itself cannot
 * overflow the stack the way the recursive code after it would.
 */
export function checkJsonDepth(value: unknown, what: string, max = MAX_JSON_DEPTH): void {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > max) throw new InputError(`failed to read ${what}: it nests deeper than ${max} levels`, { field: '(top level)' });
    for (const child of Object.values(v)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
}
