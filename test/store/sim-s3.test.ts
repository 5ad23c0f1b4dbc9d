/**
 * The simulated S3 (versioning, Object Lock, conditional PUT) served to the real S3 client: what
 * the run store's sealing relies on, with AWS's error codes.
 */
import { describe, expect, it } from 'vitest';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { clientFor, createTestCloud, errorOf } from '../sim/services-harness.js';

const DAY = 86_400_000;

async function lockedBucket() {
  const cloud = createTestCloud({}, { start: '2026-03-01T00:00:00Z' });
  const s3 = clientFor(cloud, S3Client);
  await s3.send(new CreateBucketCommand({ Bucket: 'audit-bucket', ObjectLockEnabledForBucket: true }));
  const put = (Body: string, extra: Record<string, unknown> = {}) =>
    s3.send(new PutObjectCommand({ Bucket: 'audit-bucket', Key: 'runs/r1/a.json', Body, ...extra }));
  const lock = (mode: 'GOVERNANCE' | 'COMPLIANCE', days = 10) => ({
    ObjectLockMode: mode,
    ObjectLockRetainUntilDate: new Date(cloud.clock.now().getTime() + days * DAY),
  });
  return { cloud, s3, put, lock };
}

describe('simulated S3 with Object Lock', () => {
  it('a PUT to a locked key adds a version beside it; GET returns the newest, GET by version id the locked one', async () => {
    const { s3, put, lock } = await lockedBucket();
    const first = await put('original', lock('COMPLIANCE'));
    const second = await put('replacement');
    expect(first.VersionId).toBeTruthy();
    expect(second.VersionId).not.toBe(first.VersionId);
    const latest = await s3.send(new GetObjectCommand({ Bucket: 'audit-bucket', Key: 'runs/r1/a.json' }));
    expect(await latest.Body!.transformToString()).toBe('replacement');
    const old = await s3.send(new GetObjectCommand({ Bucket: 'audit-bucket', Key: 'runs/r1/a.json', VersionId: first.VersionId! }));
    expect(await old.Body!.transformToString()).toBe('original');
    expect(old.ObjectLockMode).toBe('COMPLIANCE');
    const list = await s3.send(new ListObjectVersionsCommand({ Bucket: 'audit-bucket', Prefix: 'runs/r1/' }));
    expect(list.Versions?.map((v) => [v.VersionId, v.IsLatest])).toEqual([
      [second.VersionId, true],
      [first.VersionId, false],
    ]);
  });

  it.each([
    ['COMPLIANCE', false, 'AccessDenied'],
    ['COMPLIANCE', true, 'AccessDenied'],
    ['GOVERNANCE', false, 'AccessDenied'],
    ['GOVERNANCE', true, undefined],
  ] as const)('deleting a %s-locked version (bypass governance: %s) → %s', async (mode, bypass, code) => {
    const { s3, put, lock } = await lockedBucket();
    const v = await put('sealed', lock(mode));
    const del = s3.send(
      new DeleteObjectCommand({
        Bucket: 'audit-bucket',
        Key: 'runs/r1/a.json',
        VersionId: v.VersionId!,
        BypassGovernanceRetention: bypass,
      }),
    );
    if (code) {
      const err = await errorOf(del);
      expect([err.name, err.$metadata?.httpStatusCode]).toEqual([code, 403]);
      const head = await s3.send(new HeadObjectCommand({ Bucket: 'audit-bucket', Key: 'runs/r1/a.json', VersionId: v.VersionId! }));
      expect(head.ETag).toBeTruthy();
    } else {
      await del;
      expect((await errorOf(s3.send(new HeadObjectCommand({ Bucket: 'audit-bucket', Key: 'runs/r1/a.json' })))).name).toBe('NotFound');
    }
  });

  it('after retain-until the version can be deleted; before it, a DELETE without version id only adds a delete marker', async () => {
    const { cloud, s3, put, lock } = await lockedBucket();
    const v = await put('sealed', lock('COMPLIANCE', 1));
    const marker = await s3.send(new DeleteObjectCommand({ Bucket: 'audit-bucket', Key: 'runs/r1/a.json' }));
    expect(marker.DeleteMarker).toBe(true);
    expect((await errorOf(s3.send(new GetObjectCommand({ Bucket: 'audit-bucket', Key: 'runs/r1/a.json' })))).name).toBe('NoSuchKey');
    const list = await s3.send(new ListObjectVersionsCommand({ Bucket: 'audit-bucket' }));
    expect([list.Versions?.length, list.DeleteMarkers?.length]).toEqual([1, 1]);
    cloud.clock.advance(DAY + 1);
    await s3.send(new DeleteObjectCommand({ Bucket: 'audit-bucket', Key: 'runs/r1/a.json', VersionId: v.VersionId! }));
    expect((await s3.send(new ListObjectVersionsCommand({ Bucket: 'audit-bucket' }))).Versions ?? []).toEqual([]);
  });

  it('If-None-Match: * refuses a PUT over an existing key with 412 PreconditionFailed and writes nothing', async () => {
    const { s3, put } = await lockedBucket();
    await put('first', { IfNoneMatch: '*' });
    const err = await errorOf(put('second', { IfNoneMatch: '*' }));
    expect([err.name, err.$metadata?.httpStatusCode]).toEqual(['PreconditionFailed', 412]);
    expect((await s3.send(new ListObjectVersionsCommand({ Bucket: 'audit-bucket' }))).Versions).toHaveLength(1);
  });

  it.each([
    [
      'lock headers on a bucket without Object Lock',
      'plain-bucket',
      { ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: new Date('2027-01-01T00:00:00Z') },
      'InvalidRequest',
    ],
    ['a mode without a retain-until date', 'audit-bucket', { ObjectLockMode: 'COMPLIANCE' }, 'InvalidArgument'],
    [
      'a retain-until date in the past',
      'audit-bucket',
      { ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: new Date('2025-01-01T00:00:00Z') },
      'InvalidArgument',
    ],
    ['an unknown bucket', 'no-such-bucket', {}, 'NoSuchBucket'],
  ] as const)('PutObject with %s → %s', async (_what, bucket, extra, code) => {
    const { s3 } = await lockedBucket();
    await s3.send(new CreateBucketCommand({ Bucket: 'plain-bucket' }));
    const err = await errorOf(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x', ...extra })));
    expect(err.name).toBe(code);
  });

  it('retention is readable, and versioning of a locked bucket cannot be suspended', async () => {
    const { s3, put, lock } = await lockedBucket();
    const l = lock('GOVERNANCE', 3);
    await put('x', l);
    const r = await s3.send(new GetObjectRetentionCommand({ Bucket: 'audit-bucket', Key: 'runs/r1/a.json' }));
    expect([r.Retention?.Mode, r.Retention?.RetainUntilDate?.toISOString()]).toEqual([
      'GOVERNANCE',
      l.ObjectLockRetainUntilDate.toISOString(),
    ]);
    const err = await errorOf(
      s3.send(new PutBucketVersioningCommand({ Bucket: 'audit-bucket', VersioningConfiguration: { Status: 'Suspended' } })),
    );
    expect(err.name).toBe('InvalidBucketState');
  });
});
