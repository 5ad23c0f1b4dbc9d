/**
 * Task tokens of a run that Step Functions executes: the token a waiting step's task got, kept with
 * the run so `firebreak approve` (from any machine with access to the store) can answer it. A token
 * answers a task for up to a year, so it is kept beside the run, never in the journal anyone may read.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileDurablySync } from '../core/durable-write.js';

const fileOf = (runDir: string, key: string) => join(runDir, 'tokens', `${encodeURIComponent(key)}.json`);

export function keepTaskToken(runDir: string, key: string, token: string): void {
  mkdirSync(join(runDir, 'tokens'), { recursive: true, mode: 0o700 });
  writeFileDurablySync(fileOf(runDir, key), `${JSON.stringify({ token })}\n`);
}

export function readTaskToken(runDir: string, key: string): string | undefined {
  const file = fileOf(runDir, key);
  if (!existsSync(file)) return undefined;
  return (JSON.parse(readFileSync(file, 'utf8')) as { token: string }).token;
}
