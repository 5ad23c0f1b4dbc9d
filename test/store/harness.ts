/**
 * The AWS store as the tests use it: DynamoDB from dynalite (an independent implementation of its
 * conditional writes, started in-process on loopback) and S3 from the simulated cloud, each
 * reached through the real SDK v3 client.
 */
import { createRequire } from 'node:module';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { Pluggable } from '@smithy/types';
import { lineHash } from '../../src/audit/verify.js';
import { ZERO_HASH } from '../../src/audit/verify.js';
import { AwsRunStore } from '../../src/store/aws.js';
import { AwsStoreSchema, type AwsStoreConfig } from '../../src/store/config.js';
import { tableDefinition } from '../../src/store/keys.js';
import { systemClock } from '../../src/core/clock.js';
import { createSimCloud, worldSchema, type SimCloud } from '../../src/sim/index.js';
import { serveSimS3 } from '../../src/sim/s3-server.js';
import type { StoredLine } from '../../src/store/types.js';
import { clientFor, createTestCloud, type TestCloud } from '../sim/services-harness.js';

const require = createRequire(import.meta.url);
const dynalite = require('dynalite') as (opts: { createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => Server;

export const CREDENTIALS = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };

export async function startDynalite(): Promise<{ endpoint: string; close(): Promise<void> }> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => server.listen(0, '127.0.0.1', resolve).once('error', reject));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export function dynamoClient(endpoint: string, plugins: Pluggable<any, any>[] = []): DynamoDBClient {
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: CREDENTIALS, retryMode: 'standard', maxAttempts: 4 });
  for (const p of plugins) client.middlewareStack.use(p);
  return client;
}

export interface StoreWorld {
  config: AwsStoreConfig;
  cloud: TestCloud;
  s3: S3Client;
  /** A new store over the same table and bucket: another process, as far as the store can tell. */
  store(plugins?: Pluggable<any, any>[]): AwsRunStore;
  dynamo(): DynamoDBClient;
}

export async function storeWorld(endpoint: string, overrides: Partial<AwsStoreConfig> = {}): Promise<StoreWorld> {
  const config = AwsStoreSchema.parse({
    kind: 'aws',
    table: `firebreak-${randomBytes(4).toString('hex')}`,
    bucket: 'firebreak-audit',
    kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    objectLock: { mode: 'COMPLIANCE', days: 30 },
    leaseSeconds: 60,
    ...overrides,
  });
  const admin = dynamoClient(endpoint);
  await admin.send(new CreateTableCommand(tableDefinition(config.table)));
  for (let i = 0; i < 50; i++) {
    const t = await admin.send(new DescribeTableCommand({ TableName: config.table }));
    if (t.Table?.TableStatus === 'ACTIVE') break;
    await new Promise((r) => setTimeout(r, 10));
  }
  const cloud = createTestCloud({}, { start: '2026-03-01T00:00:00Z' });
  const s3 = clientFor(cloud, S3Client);
  await s3.send(new CreateBucketCommand({ Bucket: config.bucket, ObjectLockEnabledForBucket: true }));
  return {
    config,
    cloud,
    s3,
    dynamo: () => dynamoClient(endpoint),
    store: (plugins = []) => new AwsRunStore({ config, dynamo: dynamoClient(endpoint, plugins), s3, clock: cloud.clock }),
  };
}

/** Journal lines as the journal writes them (seq, ts, type, fields, prev), chained from `prev`. */
export function journalLines(count: number, opts: { from?: number; prev?: string; tag?: string } = {}): StoredLine[] {
  const out: StoredLine[] = [];
  let prev = opts.prev ?? ZERO_HASH;
  for (let i = 0; i < count; i++) {
    const seq = (opts.from ?? 1) + i;
    const line = `{"seq":${seq},"ts":"2026-03-01T00:00:${String(i % 60).padStart(2, '0')}.000Z","type":"step.planned","step":"s${seq}","by":${JSON.stringify(opts.tag ?? 'writer')},"prev":"${prev}"}`;
    out.push({ seq, line });
    prev = lineHash(line);
  }
  return out;
}

/**
 * The store's doubles as other processes reach them: dynalite and the simulated S3 served over
 * HTTP on loopback, a working folder whose firebreak.config.yaml names the table and bucket, and
 * the standard SDK variables (AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_S3) that point the
 * CLI's store clients at them.
 */
export interface StoreServers {
  config: AwsStoreConfig;
  /** A new working folder holding only firebreak.config.yaml (no runs folder). */
  folder(): string;
  env: Record<string, string>;
  cloud: SimCloud;
  store(): AwsRunStore;
  close(): Promise<void>;
}

export async function startStoreServers(overrides: Partial<AwsStoreConfig> = {}): Promise<StoreServers> {
  const dyn = await startDynalite();
  const world = await storeWorld(dyn.endpoint, overrides);
  const cloud = createSimCloud(worldSchema.parse({ account: { id: '123456789012' }, region: 'us-east-1' }), { clock: systemClock });
  const server = await serveSimS3(cloud);
  const s3 = new S3Client({ region: 'us-east-1', endpoint: server.endpoint, forcePathStyle: true, credentials: CREDENTIALS });
  await s3.send(new CreateBucketCommand({ Bucket: world.config.bucket, ObjectLockEnabledForBucket: true }));
  const c = world.config;
  const yaml = [
    'store:',
    '  kind: aws',
    `  table: ${c.table}`,
    `  bucket: ${c.bucket}`,
    '  region: us-east-1',
    `  kmsKeyId: ${c.kmsKeyId}`,
    `  objectLock: { mode: ${c.objectLock.mode}, days: ${c.objectLock.days} }`,
    `  leaseSeconds: ${c.leaseSeconds}`,
    '',
  ].join('\n');
  return {
    config: c,
    cloud,
    folder() {
      const dir = mkdtempSync(join(tmpdir(), 'fb-store-cwd-'));
      writeFileSync(join(dir, 'firebreak.config.yaml'), yaml);
      return dir;
    },
    env: {
      AWS_ENDPOINT_URL_DYNAMODB: dyn.endpoint,
      AWS_ENDPOINT_URL_S3: server.endpoint,
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      AWS_REGION: 'us-east-1',
    },
    store: () => new AwsRunStore({ config: c, dynamo: dynamoClient(dyn.endpoint), s3 }),
    async close() {
      await server.close();
      await dyn.close();
    },
  };
}
