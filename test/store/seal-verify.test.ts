/**
 * Sealing the journal to S3 under Object Lock and verifying a run from the sealed digests alone:
 * sealed vs not yet sealed, and each kind of tampering the issue names — items rewritten
 * consistently in the table, a deleted tail, a sealed object replaced by a new version.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeleteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, GetObjectCommand, ListObjectVersionsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Pluggable } from '@smithy/types';
import { lineHash } from '../../src/audit/verify.js';
import { AwsRunStore } from '../../src/store/aws.js';
import { digestKey, eventSk, runPk, segmentKey } from '../../src/store/keys.js';
import { verifySealed, verifyStore } from '../../src/store/verify.js';
import { clientFor, errorOf } from '../sim/services-harness.js';
import { dynamoClient, journalLines, startDynalite, storeWorld, type StoreWorld } from './harness.js';

let dyn: Awaited<ReturnType<typeof startDynalite>>;
beforeAll(async () => {
  dyn = await startDynalite();
});
afterAll(async () => {
  await dyn.close();
});

/** A run of `count` events, sealed at the given seqs. */
async function sealedRun(count: number, sealAt: number[]): Promise<StoreWorld & { lines: ReturnType<typeof journalLines> }> {
  const w = await storeWorld(dyn.endpoint);
  const s = w.store();
  const lines = journalLines(count);
  for (const l of lines) {
    await s.append('r1', l);
    if (sealAt.includes(l.seq)) await s.seal('r1', l.seq);
  }
  return { ...w, lines };
}

describe('sealing', () => {
  it('says which events are sealed and which are not yet; each seal is one segment and one digest under Object Lock with SSE-KMS', async () => {
    const w = await sealedRun(10, [4, 7]);
    const v = await verifyStore(w.store(), w.s3, w.config.bucket, 'r1');
    expect(v).toMatchObject({ ok: true, digests: 2, sealedThrough: 7, storeThrough: 10, unsealed: { from: 8, to: 10 }, problems: [] });
    const seg = await w.s3.send(new GetObjectCommand({ Bucket: w.config.bucket, Key: segmentKey('r1', 2) }));
    expect(await seg.Body!.transformToString()).toBe(
      w.lines
        .slice(4, 7)
        .map((l) => `${l.line}\n`)
        .join(''),
    );
    expect([seg.ObjectLockMode, seg.ServerSideEncryption, seg.SSEKMSKeyId]).toEqual(['COMPLIANCE', 'aws:kms', w.config.kmsKeyId]);
    expect(seg.ObjectLockRetainUntilDate?.toISOString()).toBe(new Date(w.cloud.clock.now().getTime() + 30 * 86_400_000).toISOString());
    const digest = JSON.parse(
      await (await w.s3.send(new GetObjectCommand({ Bucket: w.config.bucket, Key: digestKey('r1', 2) }))).Body!.transformToString(),
    );
    expect(digest).toMatchObject({
      digest: 2,
      firstSeq: 5,
      lastSeq: 7,
      firstPrev: lineHash(w.lines[3]!.line),
      lastEventHash: lineHash(w.lines[6]!.line),
    });

    expect(await w.store().seal('r1', 7)).toEqual({ sealedSeq: 7 }); // nothing new: no third digest
    expect(await w.store().seal('r1', 10)).toEqual({ digest: 3, firstSeq: 8, sealedSeq: 10 });
    const all = await verifySealed(w.s3, w.config.bucket, 'r1');
    expect([all.ok, all.digests, all.sealedThrough, all.lines]).toEqual([true, 3, 10, w.lines.map((l) => l.line)]);
  });

  it('sealing past the journal end is refused and writes nothing', async () => {
    const w = await sealedRun(3, []);
    await expect(w.store().seal('r1', 5)).rejects.toThrow(/failed to seal run r1 through event 5: its journal ends at 3/);
    const list = await w.s3.send(new ListObjectVersionsCommand({ Bucket: w.config.bucket }));
    expect(list.Versions ?? []).toEqual([]);
  });

  it('two sealers at once write seal 1 once: one version per key, and the chain verifies', async () => {
    const w = await sealedRun(6, []);
    const results = await Promise.all([w.store().seal('r1', 6), w.store().seal('r1', 6)]);
    expect(results.map((r) => r.sealedSeq)).toEqual([6, 6]);
    const list = await w.s3.send(new ListObjectVersionsCommand({ Bucket: w.config.bucket }));
    expect(list.Versions?.map((v) => v.Key).sort()).toEqual([digestKey('r1', 1), segmentKey('r1', 1)]);
    expect((await verifyStore(w.store(), w.s3, w.config.bucket, 'r1')).ok).toBe(true);
  });

  it('a sealer that died after the segment and before the digest: the next seal adopts the segment', async () => {
    const w = await sealedRun(5, []);
    const s3 = clientFor(w.cloud, S3Client);
    const dieAtDigest: Pluggable<any, any> = {
      applyToStack(stack) {
        stack.add(
          (next: any) => async (args: any) => {
            if (String(args.input?.Key).includes('/digests/')) throw new Error('process killed (injected)');
            return next(args);
          },
          { step: 'initialize', name: 'dieAtDigest' },
        );
      },
    };
    s3.middlewareStack.use(dieAtDigest);
    const dying = new AwsRunStore({ config: w.config, dynamo: dynamoClient(dyn.endpoint), s3, clock: w.cloud.clock });
    await expect(dying.seal('r1', 3)).rejects.toThrow(/process killed/);
    // The next seal asks for more, but seal 1 is already the segment through 3: it is adopted, then 4–5 become seal 2.
    expect(await w.store().seal('r1', 5)).toEqual({ digest: 1, firstSeq: 1, sealedSeq: 3 });
    expect(await w.store().seal('r1', 5)).toEqual({ digest: 2, firstSeq: 4, sealedSeq: 5 });
    const v = await verifyStore(w.store(), w.s3, w.config.bucket, 'r1');
    expect([v.ok, v.sealedThrough, v.problems]).toEqual([true, 5, []]);
  });
});

describe('tampering is reported by verify', () => {
  it('events rewritten in the table with every later hash recomputed: the table chain holds, the sealed copy does not match', async () => {
    const w = await sealedRun(10, [10]);
    const forged = journalLines(8, { from: 3, prev: lineHash(w.lines[1]!.line), tag: 'forger' });
    const raw = dynamoClient(dyn.endpoint);
    for (const f of forged) {
      await raw.send(
        new PutItemCommand({
          TableName: w.config.table,
          Item: {
            pk: { S: runPk('r1') },
            sk: { S: eventSk(f.seq) },
            seq: { N: String(f.seq) },
            line: { S: f.line },
            hash: { S: lineHash(f.line) },
            prev: { S: JSON.parse(f.line).prev },
          },
        }),
      );
    }
    const v = await verifyStore(w.store(), w.s3, w.config.bucket, 'r1');
    expect(v.ok).toBe(false);
    expect(v.problems.map((p) => [p.kind, p.seq])).toEqual([['store-rewritten', 3]]);
  });

  it('the tail deleted from the table: the sealed digests still say how far the journal went', async () => {
    const w = await sealedRun(10, [10]);
    const raw = dynamoClient(dyn.endpoint);
    for (const seq of [8, 9, 10])
      await raw.send(new DeleteItemCommand({ TableName: w.config.table, Key: { pk: { S: runPk('r1') }, sk: { S: eventSk(seq) } } }));
    const v = await verifyStore(w.store(), w.s3, w.config.bucket, 'r1');
    expect(v.problems.map((p) => [p.kind, p.seq])).toEqual([['store-tail-deleted', 8]]);
    expect([v.sealedThrough, v.storeThrough]).toEqual([10, 7]);
  });

  it('a sealed segment or digest cannot be deleted; a new version put beside it, or a delete marker, is reported', async () => {
    const w = await sealedRun(6, [3, 6]);
    const bucket = w.config.bucket;
    const versions = await w.s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: segmentKey('r1', 1) }));
    const denied = await errorOf(
      w.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: segmentKey('r1', 1), VersionId: versions.Versions![0]!.VersionId! })),
    );
    expect(denied.name).toBe('AccessDenied');

    const forged = journalLines(3, { tag: 'forger' })
      .map((l) => `${l.line}\n`)
      .join('');
    await w.s3.send(new PutObjectCommand({ Bucket: bucket, Key: segmentKey('r1', 1), Body: forged }));
    await w.s3.send(new PutObjectCommand({ Bucket: bucket, Key: digestKey('r1', 2), Body: '{}' }));
    await w.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: segmentKey('r1', 2) }));
    const v = await verifySealed(w.s3, bucket, 'r1');
    expect(v.ok).toBe(false);
    expect(v.problems.map((p) => [p.kind, p.key]).sort()).toEqual([
      ['deleted-object', segmentKey('r1', 2)],
      ['replaced-object', digestKey('r1', 2)],
      ['replaced-object', segmentKey('r1', 1)],
    ]);
    // What was sealed under lock is still what verify reads: the original journal.
    expect([v.sealedThrough, v.lines]).toEqual([6, w.lines.map((l) => l.line)]);
  });

  it('a digest missing from the chain (written without the store) is reported', async () => {
    const w = await sealedRun(4, [2, 4]);
    await w.s3.send(new PutObjectCommand({ Bucket: w.config.bucket, Key: digestKey('r1', 4), Body: '{}' }));
    const v = await verifySealed(w.s3, w.config.bucket, 'r1');
    expect(v.problems.map((p) => p.kind)).toEqual(['digest-missing']);
    expect(v.sealedThrough).toBe(4);
  });
});
