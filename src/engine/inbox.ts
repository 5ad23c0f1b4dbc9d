/**
 * Approvals that arrive from another process (`firebreak approve`) while a run is alive.
 * The live run is the journal's only writer, so the approver drops an answer file here
 * (written atomically) and the run journals it when it reads it. When no process holds the
 * run, `firebreak approve` journals the answer itself instead (see cli/approve.ts).
 */
import { mkdirSync, readFileSync, existsSync } from 'node:fs';
import { writeFileDurablySync } from '../core/durable-write.js';
import { join } from 'node:path';
import type { Approval } from './events.js';

const fileOf = (runDir: string, key: string) => join(runDir, 'inbox', `${encodeURIComponent(key)}.json`);

export function postApproval(runDir: string, key: string, approval: Approval & { at: string }): void {
  mkdirSync(join(runDir, 'inbox'), { recursive: true });
  const file = fileOf(runDir, key);
  writeFileDurablySync(file, `${JSON.stringify(approval)}\n`);
}

export function readApproval(runDir: string, key: string): (Approval & { at: string }) | undefined {
  const file = fileOf(runDir, key);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as Approval & { at: string };
}
