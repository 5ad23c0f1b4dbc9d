/**
 * The `store:` section of `firebreak.config.yaml`, and the IAM statements the AWS store needs.
 * The local folder is the default and needs no section; `kind: aws` names a DynamoDB table, an S3
 * bucket with Object Lock enabled (created with it: a bucket cannot be switched to Object Lock
 * without AWS Support), and the KMS key that encrypts the bucket's objects.
 */
import * as z from 'zod';

const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;
// Bucket names: 3–63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit.
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const KMS_KEY = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key\/[A-Za-z0-9-]+|alias\/[A-Za-z0-9/_-]+)$/;

export const AwsStoreSchema = z.strictObject({
  kind: z.literal('aws'),
  table: z.string().regex(TABLE_NAME, 'a DynamoDB table name: 3–255 letters, digits, _ . -'),
  bucket: z.string().regex(BUCKET_NAME, 'an S3 bucket name: 3–63 lowercase letters, digits, . and -'),
  region: z
    .string()
    .regex(/^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/, 'a region such as us-east-1')
    .optional()
    .describe("the table's and bucket's Region; default: the SDK's standard configuration"),
  kmsKeyId: z
    .string()
    .regex(KMS_KEY, 'a KMS key ARN or alias ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)')
    .describe('SSE-KMS key for sealed segments and digests; an ARN, so the IAM policy can name it'),
  objectLock: z
    .strictObject({
      mode: z
        .enum(['GOVERNANCE', 'COMPLIANCE'])
        .default('COMPLIANCE')
        .describe('COMPLIANCE: nobody can shorten retention, not even the account root; GOVERNANCE: s3:BypassGovernanceRetention can'),
      days: z.number().int().min(1).max(36500).default(365),
    })
    .prefault({}),
  leaseSeconds: z.number().int().min(5).max(86_400).default(300).describe('how long a lock lasts unless its owner renews it'),
  dedupDays: z.number().int().min(1).optional().describe('forget an alert dedup claim after this many days (DynamoDB TTL); default: never'),
});

export const StoreConfigSchema = z
  .discriminatedUnion('kind', [z.strictObject({ kind: z.literal('local') }), AwsStoreSchema])
  .default({ kind: 'local' });

export type AwsStoreConfig = z.infer<typeof AwsStoreSchema>;
export type StoreConfig = z.infer<typeof StoreConfigSchema>;

/** The GSI that lists runs (keys: gsi1pk = 'RUNS', gsi1sk = '<startedAt>#<runId>'). */
export const RUNS_INDEX = 'runs';
/** The key prefix of everything the store writes to the bucket. */
export const RUNS_PREFIX = 'runs/';

export interface StoreStatement {
  Sid: string;
  Effect: 'Allow';
  Action: string[];
  Resource: string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface StoreArnScope {
  /** The account that owns the table; unknown → '*' in the ARN's account field (still one table name). */
  accountId?: string;
  partition?: string;
}

/**
 * What the responder (who runs playbooks) and the auditor (who only verifies) need. No delete,
 * no retention change, no governance bypass for either: the writer cannot rewrite sealed history.
 */
export function storeIamStatements(
  cfg: AwsStoreConfig,
  scope: StoreArnScope = {},
): { responder: StoreStatement[]; auditor: StoreStatement[] } {
  const partition = scope.partition ?? 'aws';
  const region = cfg.region ?? keyRegion(cfg.kmsKeyId);
  const table = `arn:${partition}:dynamodb:${region}:${scope.accountId ?? '*'}:table/${cfg.table}`;
  const bucket = `arn:${partition}:s3:::${cfg.bucket}`;
  const objects = `${bucket}/${RUNS_PREFIX}*`;
  const listCondition = { StringLike: { 's3:prefix': [`${RUNS_PREFIX}*`] } };
  const alias = /:alias\//.test(cfg.kmsKeyId);
  const kms = (actions: string[], sid: string): StoreStatement => ({
    Sid: sid,
    Effect: 'Allow',
    Action: actions,
    // IAM authorizes KMS on the key, not the alias: an alias ARN is matched through kms:ResourceAliases.
    Resource: [alias ? cfg.kmsKeyId.replace(/:alias\/.*$/, ':key/*') : cfg.kmsKeyId],
    Condition: {
      StringEquals: { 'kms:ViaService': `s3.${region}.amazonaws.com` },
      ...(alias ? { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': cfg.kmsKeyId.replace(/^.*:(alias\/.*)$/, '$1') } } : {}),
    },
  });
  return {
    responder: [
      {
        Sid: 'FirebreakStoreTable',
        Effect: 'Allow',
        Action: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
        Resource: [table, `${table}/index/${RUNS_INDEX}`],
      },
      // s3:PutObjectRetention is what a PUT carrying x-amz-object-lock-* headers needs besides s3:PutObject.
      {
        Sid: 'FirebreakStoreSeal',
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject', 's3:PutObjectRetention'],
        Resource: [objects],
      },
      {
        Sid: 'FirebreakStoreList',
        Effect: 'Allow',
        Action: ['s3:ListBucket', 's3:ListBucketVersions'],
        Resource: [bucket],
        Condition: listCondition,
      },
      kms(['kms:Decrypt', 'kms:GenerateDataKey'], 'FirebreakStoreKey'),
    ],
    auditor: [
      {
        Sid: 'FirebreakAuditTable',
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:Query'],
        Resource: [table, `${table}/index/${RUNS_INDEX}`],
      },
      {
        Sid: 'FirebreakAuditSealed',
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:GetObjectRetention', 's3:GetObjectVersion'],
        Resource: [objects],
      },
      {
        Sid: 'FirebreakAuditList',
        Effect: 'Allow',
        Action: ['s3:ListBucket', 's3:ListBucketVersions'],
        Resource: [bucket],
        Condition: listCondition,
      },
      kms(['kms:Decrypt'], 'FirebreakAuditKey'),
    ],
  };
}

const keyRegion = (arn: string): string => arn.split(':')[3] as string;
