/**
 * A `--sim` run's simulated world in the store, so a rehearsal resumed on another machine
 * continues against the same world. The run's working copy keeps the world as the simulated cloud
 * writes it (`world.json` and its change log `world.json.changes`, whose first line names the world
 * file it applies to by hash); both are put together as one object, `runs/<run>/world.json` (a
 * new version each time, SSE-KMS), at each point the journal is sealed: a wait for a person, an
 * interruption, the end. One object, because the pair is only meaningful together: a change log
 * beside another world's file is ignored.
 *
 * What another machine resumes from is the world as of the last of those points. A run killed
 * between them is resumed with every change on the machine that ran it (its working copy has them
 * all); elsewhere, changes since the last seal are missing. Only rehearsals have a world: a run
 * against AWS has none, and this costs it nothing.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { S3 } from '../cloud/sdk.js';
import { FirebreakError } from '../core/errors.js';
import type { AwsRunStore } from './aws.js';
import { RUNS_PREFIX } from './config.js';
import { isAwsError } from './errors.js';

export const simWorldKey = (runId: string) => `${RUNS_PREFIX}${runId}/world.json`;
const WORLD = 'world.json';
const CHANGES = 'world.json.changes';

interface Stored {
  world: string;
  changes?: string;
}

const read = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : undefined);

/** Put the working copy's world in the store; nothing when the run has none (a run against AWS). */
export async function putSimWorld(store: AwsRunStore, runId: string, dir: string): Promise<boolean> {
  // The simulated cloud may fold its change log into the world file meanwhile (at run end):
  // read until the world file is the same before and after its log, so the pair belongs together.
  for (let attempt = 0; attempt < 5; attempt++) {
    const world = read(join(dir, WORLD));
    if (world === undefined) return false;
    const changes = read(join(dir, CHANGES));
    if (read(join(dir, WORLD)) !== world) continue;
    const body: Stored = { world, ...(changes ? { changes } : {}) };
    try {
      await store.s3.send(
        new S3.PutObjectCommand({
          Bucket: store.config.bucket,
          Key: simWorldKey(runId),
          Body: JSON.stringify(body),
          ContentType: 'application/json',
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: store.config.kmsKeyId,
          // A bucket with Object Lock takes no PUT without an integrity checksum.
          ChecksumAlgorithm: 'SHA256',
        }),
      );
      return true;
    } catch (err) {
      throw new FirebreakError(
        `failed to save the simulated world of run ${runId} to s3://${store.config.bucket}/${simWorldKey(runId)}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }
  throw new FirebreakError(`failed to save the simulated world of run ${runId}: its file kept changing while it was read`);
}

/** Write the stored world into a working folder that has none; false when the store has none for the run. */
export async function fetchSimWorld(store: AwsRunStore, runId: string, dir: string): Promise<boolean> {
  let text: string;
  try {
    const out = await store.s3.send(new S3.GetObjectCommand({ Bucket: store.config.bucket, Key: simWorldKey(runId) }));
    text = await out.Body!.transformToString('utf8');
  } catch (err) {
    if (isAwsError(err, 'NoSuchKey')) return false;
    throw new FirebreakError(
      `failed to read the simulated world of run ${runId} from s3://${store.config.bucket}/${simWorldKey(runId)}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  const stored = JSON.parse(text) as Stored;
  mkdirSync(dir, { recursive: true });
  // The log first: without its world file it is never read; the world file last makes the pair.
  if (stored.changes) writeFileSync(join(dir, CHANGES), stored.changes);
  writeFileSync(join(dir, WORLD), stored.world);
  return true;
}
