/**
 * Verifying a run from its sealed digests — the auditor's path, which needs read access to the
 * bucket alone (`verifySealed`) — and then the table against them (`verifyStore`).
 *
 * From S3: every version under the run's prefix is listed, so a key with a second version (a PUT
 * beside a locked object) or a delete marker is reported; the digest chain is walked from the
 * first digest (each names the SHA-256 of the one before); each digest's segment is read at the
 * version the digest names and its SHA-256, seqs and event chain are checked; each object must
 * carry Object Lock retention. The digest and segment read are always the *first* version of a
 * key: what was written under lock, not what was put beside it later.
 *
 * Against the table: a line that differs from its sealed copy (even one rewritten with every
 * later hash recomputed, so the table's own chain checks out) is reported, as is a table whose
 * journal ends before the sealed seq (a deleted tail). Lines after the last seal are checked for
 * their chain only and reported as not sealed yet: nothing outside the writer vouches for them.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { S3 } from '../cloud/sdk.js';
import { FirebreakError } from '../core/errors.js';
import { lineHash } from '../audit/verify.js';
import { sha256Hex, ZERO_HASH, type SealDigest } from './digest.js';
import { digestPrefix, runPrefix } from './keys.js';
import { simWorldKey } from './sim-world.js';
import type { DurableRunStore } from './types.js';

export type ProblemKind =
  | 'replaced-object'
  | 'deleted-object'
  | 'not-locked'
  | 'digest-missing'
  | 'digest-chain'
  | 'segment-hash'
  | 'event-chain'
  | 'store-rewritten'
  | 'store-tail-deleted'
  | 'store-chain';

export interface VerifyProblem {
  kind: ProblemKind;
  message: string;
  key?: string;
  seq?: number;
}

export interface SealedVerification {
  runId: string;
  ok: boolean;
  digests: number;
  /** The last seq the digests vouch for (0: nothing sealed). */
  sealedThrough: number;
  /** The sealed lines, seq 1..sealedThrough, as the segments hold them (for comparison). */
  lines: string[];
  problems: VerifyProblem[];
}

export interface StoreVerification extends SealedVerification {
  /** The last seq in the table. */
  storeThrough: number;
  /** Seqs in the table past the last seal: chain-checked, not yet tamper-evident beyond the writer. */
  unsealed?: { from: number; to: number };
}

interface ObjectVersion {
  versionId: string;
  deleteMarker: boolean;
}

export async function verifySealed(s3: S3Client, bucket: string, runId: string): Promise<SealedVerification> {
  const problems: VerifyProblem[] = [];
  const byKey = await listVersions(s3, bucket, runPrefix(runId));
  for (const [key, versions] of byKey) {
    // A rehearsal's simulated world is replaced at each seal by design (sim-world.ts): not history.
    if (key === simWorldKey(runId)) continue;
    const markers = versions.filter((v) => v.deleteMarker).length;
    if (markers)
      problems.push({ kind: 'deleted-object', key, message: `${key} has ${markers} delete marker(s) on top of its sealed version` });
    const objects = versions.filter((v) => !v.deleteMarker).length;
    if (objects > 1)
      problems.push({ kind: 'replaced-object', key, message: `${key} has ${objects} versions: something was put beside the sealed one` });
  }

  const digestKeys = [...byKey.keys()].filter((k) => k.startsWith(digestPrefix(runId))).sort();
  const lines: string[] = [];
  let prevDigestHash: string | null = null;
  let lastHash = ZERO_HASH;
  let seq = 0;
  let n = 0;
  for (const key of digestKeys) {
    n += 1;
    const expected = `${digestPrefix(runId)}${String(n).padStart(6, '0')}.json`;
    if (key !== expected) {
      problems.push({ kind: 'digest-missing', key: expected, message: `digest ${n} is missing: the chain jumps to ${key}` });
      break;
    }
    const first = firstVersion(byKey.get(key)!);
    if (!first) break; // only delete markers: reported above
    const d = await getVersion(s3, bucket, key, first.versionId);
    if (!d.locked) problems.push({ kind: 'not-locked', key, message: `${key} carries no Object Lock retention` });
    let digest: SealDigest;
    try {
      digest = JSON.parse(d.body) as SealDigest;
    } catch {
      problems.push({ kind: 'digest-chain', key, message: `${key} is not a digest (not JSON)` });
      break;
    }
    if (
      digest.runId !== runId ||
      digest.digest !== n ||
      digest.previousDigestHash !== prevDigestHash ||
      digest.firstPrev !== lastHash ||
      digest.firstSeq !== seq + 1
    ) {
      problems.push({ kind: 'digest-chain', key, message: `${key} does not continue the digest chain after digest ${n - 1} (seq ${seq})` });
      break;
    }
    const segVersions = byKey.get(digest.segment.key) ?? [];
    const segVersion = digest.segment.versionId ?? firstVersion(segVersions)?.versionId;
    if (!segVersion || !segVersions.some((v) => v.versionId === segVersion && !v.deleteMarker)) {
      problems.push({
        kind: 'segment-hash',
        key: digest.segment.key,
        message: `${digest.segment.key} (version ${segVersion ?? '?'}) named by ${key} is missing`,
      });
      break;
    }
    const seg = await getVersion(s3, bucket, digest.segment.key, segVersion);
    if (!seg.locked)
      problems.push({ kind: 'not-locked', key: digest.segment.key, message: `${digest.segment.key} carries no Object Lock retention` });
    if (sha256Hex(seg.body) !== digest.segment.sha256) {
      problems.push({
        kind: 'segment-hash',
        key: digest.segment.key,
        message: `${digest.segment.key} does not match the SHA-256 in ${key}`,
      });
      break;
    }
    const segLines = seg.body.split('\n').slice(0, -1);
    for (const line of segLines) {
      const e = JSON.parse(line) as { seq?: unknown; prev?: unknown };
      if (e.seq !== seq + 1 || e.prev !== lastHash) {
        problems.push({
          kind: 'event-chain',
          key: digest.segment.key,
          seq: seq + 1,
          message: `sealed event ${seq + 1} does not continue the chain`,
        });
        break;
      }
      seq += 1;
      lastHash = lineHash(line);
      lines.push(line);
    }
    if (seq !== digest.lastSeq || lastHash !== digest.lastEventHash) {
      problems.push({
        kind: 'event-chain',
        key: digest.segment.key,
        message: `${digest.segment.key} ends at event ${seq}, its digest says ${digest.lastSeq}`,
      });
      break;
    }
    prevDigestHash = sha256Hex(d.body);
  }
  return { runId, ok: problems.length === 0, digests: n, sealedThrough: seq, lines, problems };
}

/** The sealed digests, then the table's journal against them. */
export async function verifyStore(store: DurableRunStore, s3: S3Client, bucket: string, runId: string): Promise<StoreVerification> {
  const sealed = await verifySealed(s3, bucket, runId);
  const problems = [...sealed.problems];
  const events = await store.readEvents(runId);
  const storeThrough = events.at(-1)?.seq ?? 0;
  let prev = ZERO_HASH;
  for (const [i, e] of events.entries()) {
    if (e.seq !== i + 1 || e.prev !== prev || e.hash !== lineHash(e.line)) {
      problems.push({ kind: 'store-chain', seq: i + 1, message: `event ${i + 1} in the table does not continue the chain` });
      break;
    }
    prev = e.hash;
    const sealedLine = sealed.lines[i];
    if (sealedLine !== undefined && sealedLine !== e.line) {
      problems.push({ kind: 'store-rewritten', seq: e.seq, message: `event ${e.seq} in the table differs from its sealed copy` });
      break;
    }
  }
  if (storeThrough < sealed.sealedThrough) {
    problems.push({
      kind: 'store-tail-deleted',
      seq: storeThrough + 1,
      message: `the table's journal ends at event ${storeThrough}, but events through ${sealed.sealedThrough} were sealed`,
    });
  }
  return {
    ...sealed,
    ok: problems.length === 0,
    problems,
    storeThrough,
    ...(storeThrough > sealed.sealedThrough ? { unsealed: { from: sealed.sealedThrough + 1, to: storeThrough } } : {}),
  };
}

/** The oldest object version: ListObjectVersions lists a key's versions newest first (timestamps can tie). */
const firstVersion = (versions: ObjectVersion[]): ObjectVersion | undefined => versions.filter((v) => !v.deleteMarker).at(-1);

async function listVersions(s3: S3Client, bucket: string, prefix: string): Promise<Map<string, ObjectVersion[]>> {
  const byKey = new Map<string, ObjectVersion[]>();
  const add = (key: string | undefined, v: ObjectVersion) => {
    if (key === undefined) return;
    const list = byKey.get(key) ?? [];
    list.push(v);
    byKey.set(key, list);
  };
  let keyMarker: string | undefined;
  let versionMarker: string | undefined;
  try {
    for (;;) {
      const out = await s3.send(
        new S3.ListObjectVersionsCommand({
          Bucket: bucket,
          Prefix: prefix,
          ...(keyMarker ? { KeyMarker: keyMarker } : {}),
          ...(versionMarker ? { VersionIdMarker: versionMarker } : {}),
        }),
      );
      for (const v of out.Versions ?? []) add(v.Key, { versionId: v.VersionId ?? 'null', deleteMarker: false });
      for (const m of out.DeleteMarkers ?? []) add(m.Key, { versionId: m.VersionId ?? 'null', deleteMarker: true });
      if (!out.IsTruncated) break;
      keyMarker = out.NextKeyMarker;
      versionMarker = out.NextVersionIdMarker;
    }
  } catch (err) {
    throw new FirebreakError(`failed to list s3://${bucket}/${prefix}: ${(err as Error).name}: ${(err as Error).message}`, {
      cause: err,
      hint: 'the auditor needs s3:ListBucketVersions on the bucket (firebreak iam-policy)',
    });
  }
  return byKey;
}

async function getVersion(s3: S3Client, bucket: string, key: string, versionId: string): Promise<{ body: string; locked: boolean }> {
  try {
    const out = await s3.send(new S3.GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
    return {
      body: await out.Body!.transformToString('utf8'),
      locked: out.ObjectLockMode !== undefined && out.ObjectLockRetainUntilDate !== undefined,
    };
  } catch (err) {
    throw new FirebreakError(
      `failed to read s3://${bucket}/${key} (version ${versionId}): ${(err as Error).name}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}
