/**
 * Which store the read commands (`runs`, `audit`, `report`) look in: with `store: aws` in
 * ./firebreak.config.yaml, the table is the truth, not a local folder. A run read from the table
 * is written to a private temporary folder in the journal's own format, so the same report and
 * chain checks run on it as on a local run.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeHead, headPathFor } from '../../audit/verify.js';
import { loadConfig } from '../../config/config.js';
import { InputError } from '../../core/errors.js';
import { createAwsStore, type AwsRunStore } from '../../store/aws.js';

export function configuredAwsStore(configFile?: string): AwsRunStore | undefined {
  const { config } = loadConfig(configFile);
  return config.store.kind === 'aws' ? createAwsStore(config.store) : undefined;
}

/** The run's stored journal as a runs folder of its own (returned); an InputError when the store has no such run. */
export async function materializeRun(aws: AwsRunStore, runId: string): Promise<string> {
  const lines = await aws.readEvents(runId);
  if (lines.length === 0)
    throw new InputError(`no run ${runId} in the store (table ${aws.config.table})`, {
      field: 'RUN',
      hint: 'firebreak runs   (lists runs)',
    });
  const root = mkdtempSync(join(tmpdir(), 'firebreak-run-'));
  const dir = join(root, runId);
  mkdirSync(dir);
  const file = join(dir, 'journal.jsonl');
  writeFileSync(file, lines.map((l) => `${l.line}\n`).join(''));
  const last = lines.at(-1)!;
  writeFileSync(headPathFor(file), encodeHead({ seq: last.seq, sha256: last.hash }));
  return root;
}
