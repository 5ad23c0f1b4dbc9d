/**
 * Where runs live. Default `./.firebreak/runs/<run-id>/`; `FIREBREAK_HOME` moves the whole home,
 * `--runs-dir` moves only the runs. Locks live in `<home>/locks`.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError } from '../core/errors.js';

export interface HomeOptions {
  runsDir?: string;
  home?: string;
}

export function homeDir(opts: HomeOptions = {}): string {
  return resolve(opts.home ?? process.env.FIREBREAK_HOME ?? '.firebreak');
}

export function runsDir(opts: HomeOptions = {}): string {
  return resolve(opts.runsDir ?? join(homeDir(opts), 'runs'));
}

export function locksDir(opts: HomeOptions = {}): string {
  return join(homeDir(opts), 'locks');
}

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{2,127}$/;

export function runDir(runId: string, opts: HomeOptions = {}): string {
  if (!RUN_ID.test(runId)) throw new InputError(`'${runId}' is not a run id`, { field: 'RUN', hint: 'firebreak runs   (lists run ids)' });
  return join(runsDir(opts), runId);
}

/** The folder of an existing run, or an InputError (exit 2) naming the command that lists runs. */
export function existingRunDir(runId: string, opts: HomeOptions = {}): string {
  const dir = runDir(runId, opts);
  if (!existsSync(join(dir, 'journal.jsonl'))) {
    throw new InputError(`no run '${runId}' in ${runsDir(opts)}`, { field: 'RUN', hint: 'firebreak runs   (lists run ids)' });
  }
  return dir;
}

/** `20261128-124950-3fa9c1`: sortable by start time, unique enough for one responder's machine. */
export function newRunId(now: Date): string {
  const iso = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, '');
  const [d, t] = iso.split('T') as [string, string];
  return `${d}-${t}-${randomBytes(3).toString('hex')}`;
}
