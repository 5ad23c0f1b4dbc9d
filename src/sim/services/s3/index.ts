/**
 * Simulated Amazon S3: buckets with versioning and Object Lock, as the run store uses them to seal
 * journals. What AWS documents and this models:
 * - A bucket created with Object Lock has versioning on for good; a PUT to an existing key adds
 *   a new version beside the old one (a locked version is never overwritten in place).
 * - A version under retention cannot be deleted (DELETE with its versionId) before its
 *   retain-until date: 403 AccessDenied. GOVERNANCE mode yields to x-amz-bypass-governance-retention,
 *   COMPLIANCE mode to nobody. A DELETE without a version id only adds a delete marker.
 * - `If-None-Match: *` on PUT: 412 PreconditionFailed when the key's current version exists
 *   (a current delete marker does not count).
 * - Missing things: NoSuchBucket, NoSuchKey (GET), NotFound (HEAD has no body to carry a code),
 *   NoSuchVersion; GET of a delete marker by version id: 405 MethodNotAllowed.
 * Not modeled: ACLs, bucket policies, multipart uploads, listing pagination (lists answer whole).
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { SimContext, SimService } from '../../service.js';
import { S3 } from '../../../cloud/sdk.js';
import { schema, type S3Bucket, type S3Version, type S3World } from './schema.js';

const s3Of = (ctx: SimContext): S3World => ctx.world.s3;

function bucketOf(ctx: SimContext, name: string | undefined): S3Bucket {
  const b = s3Of(ctx).buckets.find((x) => x.name === name);
  if (!b) return ctx.fail('NoSuchBucket', 'The specified bucket does not exist', 404);
  return b;
}

const current = (versions: S3Version[] | undefined): S3Version | undefined => versions?.at(-1);

function versionOf(ctx: SimContext, b: S3Bucket, key: string, versionId: string | undefined, head: boolean): S3Version {
  const versions = b.objects[key];
  if (versionId !== undefined) {
    const v = versions?.find((x) => x.versionId === versionId);
    if (!v) return head ? ctx.fail('NotFound', 'Not Found', 404) : ctx.fail('NoSuchVersion', 'The specified version does not exist.', 404);
    if (v.deleteMarker) return ctx.fail('MethodNotAllowed', 'The specified method is not allowed against this resource.', 405);
    return v;
  }
  const v = current(versions);
  if (!v || v.deleteMarker)
    return head ? ctx.fail('NotFound', 'Not Found', 404) : ctx.fail('NoSuchKey', 'The specified key does not exist.', 404);
  return v;
}

async function bytesOf(body: unknown): Promise<Buffer> {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return Buffer.from(body);
  if (body instanceof Readable) {
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(Buffer.from(c as Uint8Array));
    return Buffer.concat(chunks);
  }
  throw new Error('the simulated S3 takes a string, bytes or a Node stream as Body');
}

function newVersionId(ctx: SimContext, b: S3Bucket): string {
  // An unversioned bucket has one version per key, whose id is the string "null".
  return b.versioning === 'Enabled' ? ctx.newId('v', 32).replace(/^v-/, '') : 'null';
}

/** Add a version; an unversioned or suspended bucket replaces the "null" version instead. */
function addVersion(b: S3Bucket, key: string, v: S3Version): void {
  b.objects[key] ??= [];
  const versions = b.objects[key];
  if (v.versionId === 'null') {
    const i = versions.findIndex((x) => x.versionId === 'null');
    if (i >= 0) versions.splice(i, 1);
  }
  versions.push(v);
}

const lockedUntil = (v: S3Version, now: Date): boolean => v.retention !== undefined && Date.parse(v.retention.retainUntil) > now.getTime();

const lockHeaders = (v: S3Version) =>
  v.retention ? { ObjectLockMode: v.retention.mode, ObjectLockRetainUntilDate: new Date(v.retention.retainUntil) } : {};

const sseHeaders = (v: S3Version) =>
  v.sse ? { ServerSideEncryption: v.sse.algorithm, ...(v.sse.kmsKeyId ? { SSEKMSKeyId: v.sse.kmsKeyId } : {}) } : {};

const handlers: SimService['handlers'] = {
  CreateBucket(ctx, input: { Bucket?: string; ObjectLockEnabledForBucket?: boolean }) {
    const name = input.Bucket ?? '';
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name)) ctx.fail('InvalidBucketName', 'The specified bucket is not valid.', 400);
    if (s3Of(ctx).buckets.some((b) => b.name === name))
      ctx.fail('BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.', 409);
    const lock = input.ObjectLockEnabledForBucket === true;
    s3Of(ctx).buckets.push({ name, versioning: lock ? 'Enabled' : 'Unversioned', objectLock: lock, objects: {} });
    ctx.changed();
    return { Location: `/${name}` };
  },

  PutBucketVersioning(ctx, input: { Bucket?: string; VersioningConfiguration?: { Status?: 'Enabled' | 'Suspended' } }) {
    const b = bucketOf(ctx, input.Bucket);
    const status = input.VersioningConfiguration?.Status;
    if (status !== 'Enabled' && status !== 'Suspended')
      ctx.fail('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.', 400);
    if (b.objectLock && status === 'Suspended')
      ctx.fail(
        'InvalidBucketState',
        'An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.',
        409,
      );
    b.versioning = status!;
    ctx.changed();
    return {};
  },

  async PutObject(
    ctx,
    input: {
      Bucket?: string;
      Key?: string;
      Body?: unknown;
      ContentType?: string;
      IfNoneMatch?: string;
      ObjectLockMode?: 'GOVERNANCE' | 'COMPLIANCE';
      ObjectLockRetainUntilDate?: Date | string;
      ServerSideEncryption?: string;
      SSEKMSKeyId?: string;
    },
  ) {
    const b = bucketOf(ctx, input.Bucket);
    const key = input.Key ?? '';
    const now = ctx.clock.now();
    const hasMode = input.ObjectLockMode !== undefined;
    const hasDate = input.ObjectLockRetainUntilDate !== undefined;
    if (hasMode !== hasDate)
      ctx.fail('InvalidArgument', 'x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied', 400);
    if (hasMode && !b.objectLock) ctx.fail('InvalidRequest', 'Bucket is missing Object Lock Configuration', 400);
    const until = hasDate ? new Date(input.ObjectLockRetainUntilDate!) : undefined;
    if (until && until.getTime() <= now.getTime()) ctx.fail('InvalidArgument', 'The retain until date must be in the future!', 400);
    // The body is read before the precondition is checked: check and write happen with no await between them.
    const bytes = await bytesOf(input.Body);
    if (input.IfNoneMatch !== undefined) {
      if (input.IfNoneMatch !== '*') ctx.fail('NotImplemented', 'A header you provided implies functionality that is not implemented', 501);
      const cur = current(b.objects[key]);
      if (cur && !cur.deleteMarker) ctx.fail('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', 412);
    }
    const etag = `"${createHash('md5').update(bytes).digest('hex')}"`;
    const v: S3Version = {
      versionId: newVersionId(ctx, b),
      deleteMarker: false,
      body: bytes.toString('base64'),
      etag,
      size: bytes.length,
      lastModified: now.toISOString(),
      ...(input.ContentType ? { contentType: input.ContentType } : {}),
      ...(until ? { retention: { mode: input.ObjectLockMode!, retainUntil: until.toISOString() } } : {}),
      // Every object is encrypted: SSE-S3 unless the request names SSE-KMS.
      sse: { algorithm: input.ServerSideEncryption ?? 'AES256', ...(input.SSEKMSKeyId ? { kmsKeyId: input.SSEKMSKeyId } : {}) },
    };
    addVersion(b, key, v);
    ctx.changed();
    return { ETag: etag, ...(b.versioning !== 'Unversioned' ? { VersionId: v.versionId } : {}), ...sseHeaders(v) };
  },

  async GetObject(ctx, input: { Bucket?: string; Key?: string; VersionId?: string }) {
    const b = bucketOf(ctx, input.Bucket);
    const v = versionOf(ctx, b, input.Key ?? '', input.VersionId, false);
    const bytes = Buffer.from(v.body ?? '', 'base64');
    // The SDK hands GetObject's Body over as its stream type (transformToString, transformToByteArray).
    const { sdkStreamMixin } = await import('@smithy/core/serde');
    return {
      Body: sdkStreamMixin(Readable.from([bytes])),
      ContentLength: bytes.length,
      ETag: v.etag,
      LastModified: new Date(v.lastModified),
      ...(v.contentType ? { ContentType: v.contentType } : {}),
      ...(b.versioning !== 'Unversioned' ? { VersionId: v.versionId } : {}),
      ...lockHeaders(v),
      ...sseHeaders(v),
    };
  },

  HeadObject(ctx, input: { Bucket?: string; Key?: string; VersionId?: string }) {
    const b = bucketOf(ctx, input.Bucket);
    const v = versionOf(ctx, b, input.Key ?? '', input.VersionId, true);
    return {
      ContentLength: v.size,
      ETag: v.etag,
      LastModified: new Date(v.lastModified),
      ...(v.contentType ? { ContentType: v.contentType } : {}),
      ...(b.versioning !== 'Unversioned' ? { VersionId: v.versionId } : {}),
      ...lockHeaders(v),
      ...sseHeaders(v),
    };
  },

  GetObjectRetention(ctx, input: { Bucket?: string; Key?: string; VersionId?: string }) {
    const b = bucketOf(ctx, input.Bucket);
    if (!b.objectLock) ctx.fail('InvalidRequest', 'Bucket is missing Object Lock Configuration', 400);
    const v = versionOf(ctx, b, input.Key ?? '', input.VersionId, false);
    if (!v.retention) ctx.fail('NoSuchObjectLockConfiguration', 'The specified object does not have a ObjectLock configuration', 404);
    return { Retention: { Mode: v.retention!.mode, RetainUntilDate: new Date(v.retention!.retainUntil) } };
  },

  DeleteObject(ctx, input: { Bucket?: string; Key?: string; VersionId?: string; BypassGovernanceRetention?: boolean }) {
    const b = bucketOf(ctx, input.Bucket);
    const key = input.Key ?? '';
    const versions = b.objects[key] ?? [];
    if (input.VersionId === undefined && b.versioning === 'Enabled') {
      // No version named: a delete marker goes on top; every version, locked or not, stays.
      const marker: S3Version = {
        versionId: newVersionId(ctx, b),
        deleteMarker: true,
        size: 0,
        lastModified: ctx.clock.now().toISOString(),
      };
      addVersion(b, key, marker);
      ctx.changed();
      return { DeleteMarker: true, VersionId: marker.versionId };
    }
    const versionId = input.VersionId ?? 'null';
    const i = versions.findIndex((v) => v.versionId === versionId);
    // Deleting what is not there succeeds (204), as in AWS.
    if (i < 0) return {};
    const v = versions[i]!;
    if (lockedUntil(v, ctx.clock.now()) && !(v.retention!.mode === 'GOVERNANCE' && input.BypassGovernanceRetention === true)) {
      ctx.fail('AccessDenied', 'Access Denied because object protected by object lock.', 403);
    }
    versions.splice(i, 1);
    if (versions.length === 0) delete b.objects[key];
    ctx.changed();
    return { ...(v.deleteMarker ? { DeleteMarker: true } : {}), ...(b.versioning !== 'Unversioned' ? { VersionId: v.versionId } : {}) };
  },

  ListObjectVersions(ctx, input: { Bucket?: string; Prefix?: string }) {
    const b = bucketOf(ctx, input.Bucket);
    const prefix = input.Prefix ?? '';
    const keys = Object.keys(b.objects)
      .filter((k) => k.startsWith(prefix))
      .sort();
    const Versions: unknown[] = [];
    const DeleteMarkers: unknown[] = [];
    for (const key of keys) {
      const versions = b.objects[key]!;
      // Newest first, as S3 lists them.
      versions
        .slice()
        .reverse()
        .forEach((v, i) => {
          const common = { Key: key, VersionId: v.versionId, IsLatest: i === 0, LastModified: new Date(v.lastModified) };
          if (v.deleteMarker) DeleteMarkers.push(common);
          else Versions.push({ ...common, ETag: v.etag, Size: v.size, StorageClass: 'STANDARD' });
        });
    }
    return { Name: b.name, Prefix: prefix, IsTruncated: false, MaxKeys: 1000, Versions, DeleteMarkers };
  },
};

export const service: SimService<S3World> = {
  clientName: 'S3Client',
  key: 's3',
  scope: 'account',
  schema,
  handlers,
  get exception() {
    return S3.S3ServiceException;
  },
};
