/** The S3 slice of the simulated world: buckets with versioning and Object Lock, and every object version. */
import * as z from 'zod';

const Timestamp = z.iso.datetime({ offset: true });

const Version = z.strictObject({
  versionId: z.string(),
  deleteMarker: z.boolean().default(false),
  /** Base64 of the object's bytes (absent for delete markers). */
  body: z.string().optional(),
  etag: z.string().optional(),
  size: z.number().int().nonnegative().default(0),
  contentType: z.string().optional(),
  lastModified: Timestamp,
  retention: z.strictObject({ mode: z.enum(['GOVERNANCE', 'COMPLIANCE']), retainUntil: Timestamp }).optional(),
  sse: z.strictObject({ algorithm: z.string(), kmsKeyId: z.string().optional() }).optional(),
});

const Bucket = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name: 3–63 lowercase letters, digits, . and -'),
  versioning: z.enum(['Unversioned', 'Enabled', 'Suspended']).default('Unversioned'),
  /** Object Lock can only be turned on when the bucket is created, and it turns versioning on for good. */
  objectLock: z.boolean().default(false),
  /** Every version of every key, oldest first. */
  objects: z.record(z.string(), z.array(Version)).default({}),
});

export const schema = z
  .strictObject({ buckets: z.array(Bucket).default([]) })
  .superRefine((s3, check) => {
    const names = new Set<string>();
    s3.buckets.forEach((b, i) => {
      if (names.has(b.name)) check.addIssue({ code: 'custom', path: ['buckets', i, 'name'], message: `duplicate bucket name '${b.name}'` });
      names.add(b.name);
      if (b.objectLock && b.versioning !== 'Enabled')
        check.addIssue({ code: 'custom', path: ['buckets', i, 'versioning'], message: 'a bucket with Object Lock has versioning Enabled' });
    });
  })
  .prefault({});

export type S3World = z.infer<typeof schema>;
export type S3Bucket = z.infer<typeof Bucket>;
export type S3Version = z.infer<typeof Version>;
