/**
 * Task tokens of a run that Step Functions executes: the token a waiting step's task got, kept with
 * the run so `firebreak approve` (from any machine with access to the store) can answer it. A token
 * answers a task for up to a year, so it is kept beside the run, never in the journal anyone may read.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileDurablySync } from '../core/durable-write.js';
import { TokenAlreadyAnswered } from '../store/errors.js';
import type { TokenAnswer } from '../store/types.js';

const usedOf = (runDir: string, key: string) => join(runDir, 'tokens', `${encodeURIComponent(key)}.answered.json`);
const fileOf = (runDir: string, key: string) => join(runDir, 'tokens', `${encodeURIComponent(key)}.json`);

export function keepTaskToken(runDir: string, key: string, token: string): void {
  mkdirSync(join(runDir, 'tokens'), { recursive: true, mode: 0o700 });
  if (readTaskToken(runDir, key) === token) return;
  // A new token: the step waits again, so the old token's answer no longer stands.
  rmSync(usedOf(runDir, key), { force: true });
  writeFileDurablySync(fileOf(runDir, key), `${JSON.stringify({ token })}\n`);
}

/** Take the token to answer it, once: the answered file is created exclusively ('wx'), so two approvals cannot both take it. */
export function claimTaskToken(runId: string, runDir: string, key: string, token: string, answer: TokenAnswer) {
  const used = usedOf(runDir, key);
  try {
    writeFileSync(used, `${JSON.stringify({ token, answer })}\n`, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const first = JSON.parse(readFileSync(used, 'utf8')) as { answer?: TokenAnswer };
    throw new TokenAlreadyAnswered(runId, key, first.answer ?? {});
  }
  return { release: async () => rmSync(used, { force: true }) };
}

export function readTaskToken(runDir: string, key: string): string | undefined {
  const file = fileOf(runDir, key);
  if (!existsSync(file)) return undefined;
  return (JSON.parse(readFileSync(file, 'utf8')) as { token: string }).token;
}
