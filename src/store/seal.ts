/**
 * Sealing: the journal lines not sealed yet, through `uptoSeq`, go to S3 as one segment under
 * Object Lock, then a digest naming it and the previous digest, then the SEAL item records the
 * new anchor. Every S3 write carries `If-None-Match: *`, so of two sealers (or a sealer and its
 * own retry after a lost response) one writes seal n and the other adopts what is there when it
 * is the same journal, or fails when it is not: a seal never forks the digest chain.
 *
 * A crash between the writes leaves a segment without a digest (or a digest the SEAL item does
 * not name yet); the next seal finds it with the 412 and adopts it, so nothing is left half done.
 */
import type { PutObjectCommandInput } from '@aws-sdk/client-s3';
import { FirebreakError } from '../core/errors.js';
import { S3 } from '../cloud/sdk.js';
import type { AwsRunStore } from './aws.js';
import { digestBody, segmentBody, sha256Hex, ZERO_HASH, type SealDigest } from './digest.js';
import { isAwsError } from './errors.js';
import { digestKey, runPk, SEAL_SK, segmentKey } from './keys.js';
import type { SealResult, StoredEvent } from './types.js';

interface SealState {
  digests: number;
  sealedSeq: number;
  lastEventHash: string;
  lastDigestHash: string | null;
}

const DAY_MS = 86_400_000;

export async function sealRun(store: AwsRunStore, runId: string, uptoSeq: number): Promise<SealResult> {
  const item = await store.get(runPk(runId), SEAL_SK, `read the seal state of run ${runId}`);
  const state: SealState = item
    ? {
        digests: Number(item.digests),
        sealedSeq: Number(item.sealedSeq),
        lastEventHash: String(item.lastEventHash),
        lastDigestHash: item.lastDigestHash ?? null,
      }
    : { digests: 0, sealedSeq: 0, lastEventHash: ZERO_HASH, lastDigestHash: null };
  if (uptoSeq <= state.sealedSeq) return { sealedSeq: state.sealedSeq };

  const unsealed = await store.readEvents(runId, { fromSeq: state.sealedSeq + 1 });
  checkChain(runId, unsealed, state);
  let events = unsealed.filter((e) => e.seq <= uptoSeq);
  if (events.at(-1)?.seq !== uptoSeq) {
    throw new FirebreakError(
      `failed to seal run ${runId} through event ${uptoSeq}: its journal ends at ${unsealed.at(-1)?.seq ?? state.sealedSeq}`,
    );
  }

  const n = state.digests + 1;
  const segKey = segmentKey(runId, n);
  let body = segmentBody(events);
  let seg = await putLocked(store, segKey, body, 'application/x-ndjson');
  if (!seg.written) {
    // Seal n was begun before (a crash, a retry, another sealer): adopt its segment if it is this journal.
    const existing = await getObject(store, segKey);
    const lines = existing.body.split('\n').slice(0, -1);
    const same = lines.length > 0 && lines.length <= unsealed.length && lines.every((l, i) => l === unsealed[i]!.line);
    if (!same)
      throw new FirebreakError(`failed to seal run ${runId}: ${segKey} already holds lines that are not this run's journal`, {
        hint: `firebreak audit verify ${runId}`,
      });
    events = unsealed.slice(0, lines.length);
    body = existing.body;
    seg = { written: false, ...(existing.versionId ? { versionId: existing.versionId } : {}) };
  }

  const last = events.at(-1)!;
  const digest: SealDigest = {
    format: 'firebreak-digest/1',
    runId,
    digest: n,
    previousDigestHash: state.lastDigestHash,
    segment: {
      key: segKey,
      ...(seg.versionId ? { versionId: seg.versionId } : {}),
      sha256: sha256Hex(body),
      bytes: Buffer.byteLength(body),
    },
    firstSeq: events[0]!.seq,
    lastSeq: last.seq,
    firstPrev: state.lastEventHash,
    lastEventHash: last.hash,
    sealedAt: store.clock.now().toISOString(),
  };
  const dKey = digestKey(runId, n);
  let dBody = digestBody(digest);
  const put = await putLocked(store, dKey, dBody, 'application/json');
  if (!put.written) {
    const existing = await getObject(store, dKey);
    const theirs = JSON.parse(existing.body) as SealDigest;
    if (theirs.segment.sha256 !== digest.segment.sha256 || theirs.previousDigestHash !== digest.previousDigestHash) {
      throw new FirebreakError(`failed to seal run ${runId}: ${dKey} already names another segment`, {
        hint: `firebreak audit verify ${runId}`,
      });
    }
    dBody = existing.body;
  }

  const next = { digests: n, sealedSeq: last.seq, lastEventHash: last.hash, lastDigestHash: sha256Hex(dBody), lastDigestKey: dKey };
  const recorded = await store.putIf(
    { pk: runPk(runId), sk: SEAL_SK, runId, ...next },
    'attribute_not_exists(pk) OR digests < :n',
    { ':n': n },
    `record seal ${n} of run ${runId}`,
  );
  if (!recorded) {
    // Another sealer recorded seal n (or later) first; it sealed these same lines.
    const now = await store.get(runPk(runId), SEAL_SK, `read the seal state of run ${runId}`);
    return { sealedSeq: Number(now?.sealedSeq ?? last.seq) };
  }
  return { digest: n, firstSeq: digest.firstSeq, sealedSeq: last.seq };
}

/** The unsealed lines continue the sealed ones: consecutive seqs, each naming the hash before it. */
function checkChain(runId: string, events: readonly StoredEvent[], state: SealState): void {
  let seq = state.sealedSeq;
  let prev = state.lastEventHash;
  for (const e of events) {
    if (e.seq !== seq + 1 || e.prev !== prev) {
      throw new FirebreakError(`failed to seal run ${runId}: event ${e.seq} does not continue the chain after event ${seq}`, {
        hint: `firebreak audit verify ${runId}`,
      });
    }
    seq = e.seq;
    prev = e.hash;
  }
}

async function putLocked(
  store: AwsRunStore,
  key: string,
  body: string,
  contentType: string,
): Promise<{ written: boolean; versionId?: string }> {
  const cfg = store.config;
  const input: PutObjectCommandInput = {
    Bucket: cfg.bucket,
    Key: key,
    Body: body,
    ContentType: contentType,
    IfNoneMatch: '*',
    ObjectLockMode: cfg.objectLock.mode,
    ObjectLockRetainUntilDate: new Date(store.clock.now().getTime() + cfg.objectLock.days * DAY_MS),
    ServerSideEncryption: 'aws:kms',
    SSEKMSKeyId: cfg.kmsKeyId,
    // Object Lock PUTs must carry an integrity checksum (Content-MD5 or x-amz-checksum-*).
    ChecksumAlgorithm: 'SHA256',
  };
  try {
    const out = await store.s3.send(new S3.PutObjectCommand(input));
    return { written: true, ...(out.VersionId ? { versionId: out.VersionId } : {}) };
  } catch (err) {
    // 412: the key exists; 409: a concurrent conditional PUT to the same key is in flight.
    if (isAwsError(err, 'PreconditionFailed', 'ConditionalRequestConflict')) return { written: false };
    throw new FirebreakError(`failed to seal s3://${cfg.bucket}/${key}: ${(err as Error).name}: ${(err as Error).message}`, { cause: err });
  }
}

export async function getObject(
  store: { s3: AwsRunStore['s3']; config: { bucket: string } },
  key: string,
  versionId?: string,
): Promise<{ body: string; versionId?: string }> {
  try {
    const out = await store.s3.send(
      new S3.GetObjectCommand({ Bucket: store.config.bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }),
    );
    const body = await out.Body!.transformToString('utf8');
    return { body, ...(out.VersionId ? { versionId: out.VersionId } : {}) };
  } catch (err) {
    throw new FirebreakError(`failed to read s3://${store.config.bucket}/${key}: ${(err as Error).name}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
