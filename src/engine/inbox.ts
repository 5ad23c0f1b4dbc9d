/**
 * Approvals that arrive from another process (`firebreak approve`) while a run is alive.
 * The live run is the journal's only writer, so the approver drops an answer file here
 * (written atomically) and the run journals it when it reads it. When no process holds the
 * run, `firebreak approve` journals the answer itself instead (see cli/approve.ts).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync, fsyncSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import type { Approval } from './events.js';

const fileOf = (runDir: string, key: string) => join(runDir, 'inbox', `${encodeURIComponent(key)}.json`);

export function postApproval(runDir: string, key: string, approval: Approval & { at: string }): void {
  mkdirSync(join(runDir, 'inbox'), { recursive: true });
  const file = fileOf(runDir, key);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(approval)}\n`);
  const fd = openSync(tmp, 'r');
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, file);
}

export function readApproval(runDir: string, key: string): (Approval & { at: string }) | undefined {
  const file = fileOf(runDir, key);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as Approval & { at: string };
}
