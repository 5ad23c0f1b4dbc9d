/**
 * Latency the AWS run store adds per journal append, on loopback: dynalite (DynamoDB, in-process
 * on 127.0.0.1) and the simulated S3, through the real SDK v3 clients. Not part of `npm run bench`
 * (dynalite is a dev dependency):
 *
 *   npm run build && node dist/bench/store.js [--appends 200]
 *
 * Prints median/p95/max of one append (one conditional PutItem), of a seal of every event so far
 * (read + 2 PutObject + 1 PutItem), of a lease acquire and of an alert claim.
 */
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { DynamoDB, S3 } from '../src/cloud/sdk.js';
import { lineHash, ZERO_HASH } from '../src/audit/verify.js';
import { SimClock } from '../src/core/clock.js';
import { createSimCloud, worldSchema } from '../src/sim/index.js';
import { AwsRunStore } from '../src/store/aws.js';
import { AwsStoreSchema } from '../src/store/config.js';
import { tableDefinition } from '../src/store/keys.js';

const require = createRequire(import.meta.url);
const CREDENTIALS = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };

function stats(ms: number[]): string {
  const s = ms.slice().sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return `n=${s.length} median ${at(0.5).toFixed(2)} ms, p95 ${at(0.95).toFixed(2)} ms, max ${s.at(-1)!.toFixed(2)} ms`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { appends: { type: 'string', default: '200' } } });
  const n = Number(values.appends);
  const dynalite = require('dynalite') as (o: object) => Server;
  const server = dynalite({ createTableMs: 0 });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const config = AwsStoreSchema.parse({
      kind: 'aws',
      table: 'firebreak-bench',
      bucket: 'firebreak-bench',
      kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    });
    const dynamo = new DynamoDB.DynamoDBClient({ endpoint, region: 'us-east-1', credentials: CREDENTIALS, retryMode: 'standard' });
    await dynamo.send(new DynamoDB.CreateTableCommand(tableDefinition(config.table)));
    const world = worldSchema.parse({ account: { id: '123456789012' } });
    const sim = createSimCloud(world, { clock: new SimClock(world.time) });
    const s3 = new S3.S3Client({ region: 'us-east-1', credentials: CREDENTIALS });
    s3.middlewareStack.use(sim.plugin);
    await s3.send(new S3.CreateBucketCommand({ Bucket: config.bucket, ObjectLockEnabledForBucket: true }));
    const store = new AwsRunStore({ config, dynamo, s3, clock: sim.clock });

    const append: number[] = [];
    const seal: number[] = [];
    let prev = ZERO_HASH;
    for (let seq = 1; seq <= n; seq++) {
      const line = `{"seq":${seq},"ts":"2026-01-01T00:00:00.000Z","type":"step.applied","step":"isolate","output":{"instanceId":"i-0abc"},"prev":"${prev}"}`;
      const t = performance.now();
      await store.append('bench-run', { seq, line });
      append.push(performance.now() - t);
      prev = lineHash(line);
      if (seq % 20 === 0) {
        const s = performance.now();
        await store.seal('bench-run', seq);
        seal.push(performance.now() - s);
      }
    }
    const lease: number[] = [];
    const claim: number[] = [];
    for (let i = 0; i < 50; i++) {
      let t = performance.now();
      await store.acquireLease(`ec2:instance/i-${i}`, { runId: 'bench-run', host: 'bench' });
      lease.push(performance.now() - t);
      t = performance.now();
      await store.claimAlert(`alert-${i}`, 'bench-run');
      claim.push(performance.now() - t);
    }
    console.log(`append (1 conditional PutItem):        ${stats(append)}`);
    console.log(`seal of 20 events (1 Get, 1 Query, 2 PutObject, 1 PutItem): ${stats(seal)}`);
    console.log(`lease acquire (1 PutItem):             ${stats(lease)}`);
    console.log(`alert claim (1 PutItem):               ${stats(claim)}`);
  } finally {
    server.close();
  }
}

await main();
