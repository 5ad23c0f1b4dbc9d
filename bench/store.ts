/**
 * Latency the AWS run store adds per journal append, on loopback: dynalite (DynamoDB, in-process
 * on 127.0.0.1) and the simulated S3, through the real SDK v3 clients. Not part of `npm run bench`
 * (dynalite is a dev dependency):
 *
 *   npm run build && node dist/bench/store.js [--appends 200]
 *
 * Prints median/p95/max of one append (one conditional PutItem), of a seal of every event so far
 * (read + 2 PutObject + 1 PutItem), of a lease acquire and of an alert claim. Then each shipped
 * playbook runs on the simulated cloud (every step approved) twice, with the local store and with
 * `store: aws` (dynalite, and the simulated S3 served over HTTP): the time the engine waits for
 * the store before each AWS call (the latency added per decision: median and max), the run's
 * time with each store, and the DynamoDB and S3 requests the run made.
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
import { actionIds } from '../src/actions/registry.js';
import { chooseBackend } from '../src/backend/backend.js';
import { systemClock } from '../src/core/clock.js';
import { autoHost } from '../src/engine/auto-host.js';
import { runStoreFor, type RunRecord, type RunStore } from '../src/engine/local-store.js';
import { startRun } from '../src/engine/session.js';
import { allSteps } from '../src/playbook/compile.js';
import { findPlaybook, loadPlaybook } from '../src/playbook/load.js';
import { serveSimS3 } from '../src/sim/s3-server.js';
import type { Pluggable } from '@smithy/types';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
    await benchRuns(endpoint, dynamo);
  } finally {
    server.close();
  }
}

/** Inputs for each shipped playbook that the demo world answers. */
const PLAYBOOK_INPUTS: Record<string, Record<string, unknown>> = {
  'ec2-instance-compromise': { instanceId: 'i-0abc123def4567890' },
  'ec2-fleet-compromise': { tags: ['env=prod'] },
  'iam-credential-compromise': { accessKeyId: 'AKIAIOSFODNN7DEPLOY1' },
  'block-attack-source': { cidrs: ['203.0.113.0/24'], subnetIds: ['subnet-0aa11bb22cc33dd44'] },
  'release-instance': { instanceId: 'i-0abc123def4567890', incident: 'bench' },
};

function counter(counts: Record<string, number>): Pluggable<any, any> {
  return {
    applyToStack(stack) {
      stack.add(
        (next, ctx) => async (args) => {
          const op = String((ctx as { commandName?: string }).commandName).replace(/Command$/, '');
          counts[op] = (counts[op] ?? 0) + 1;
          return next(args);
        },
        { step: 'initialize', name: 'countRequests' },
      );
    },
  };
}

/** The store with each `settle()` timed: the engine awaits it before every AWS call. */
function timed(store: RunStore, waits: number[]): RunStore {
  const wrap = (r: RunRecord): RunRecord => ({
    ...r,
    async settle() {
      const t = performance.now();
      await r.settle();
      waits.push(performance.now() - t);
    },
  });
  return { ...store, create: async (id) => wrap(await store.create(id)), open: async (id) => wrap(await store.open(id)) };
}

async function benchRuns(endpoint: string, admin: InstanceType<typeof DynamoDB.DynamoDBClient>): Promise<void> {
  const config = AwsStoreSchema.parse({
    kind: 'aws',
    table: 'firebreak-bench-runs',
    bucket: 'firebreak-bench-runs',
    kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  });
  await admin.send(new DynamoDB.CreateTableCommand(tableDefinition(config.table)));
  const cloud = createSimCloud(worldSchema.parse({ account: { id: '123456789012' }, region: 'us-east-1' }), { clock: systemClock });
  const s3Server = await serveSimS3(cloud);
  try {
    const s3Admin = new S3.S3Client({ region: 'us-east-1', endpoint: s3Server.endpoint, forcePathStyle: true, credentials: CREDENTIALS });
    await s3Admin.send(new S3.CreateBucketCommand({ Bucket: config.bucket, ObjectLockEnabledForBucket: true }));
    const allWaits: number[] = [];
    console.log('\nwhole runs (simulated cloud, every step approved); settle = the wait for the store before an AWS call');
    for (const [name, inputs] of Object.entries(PLAYBOOK_INPUTS)) {
      const loaded = loadPlaybook(findPlaybook(name, ['playbooks']), { actionIds });
      const approvals = Object.fromEntries(allSteps(loaded.playbook).map((s) => [s.id, 'auto' as const]));
      const dynamoCounts: Record<string, number> = {};
      const s3Counts: Record<string, number> = {};
      const dynamo = new DynamoDB.DynamoDBClient({ endpoint, region: 'us-east-1', credentials: CREDENTIALS, retryMode: 'standard' });
      dynamo.middlewareStack.use(counter(dynamoCounts));
      const s3 = new S3.S3Client({ region: 'us-east-1', endpoint: s3Server.endpoint, forcePathStyle: true, credentials: CREDENTIALS });
      s3.middlewareStack.use(counter(s3Counts));
      const aws = new AwsRunStore({ config, dynamo, s3 });
      const one = async (kind: 'local' | 'aws', waits: number[]) => {
        const home = mkdtempSync(join(tmpdir(), 'fb-bench-store-'));
        const store = timed(runStoreFor(kind === 'aws' ? config : { kind: 'local' }, { home }, aws), waits);
        const t = performance.now();
        const handle = await startRun({
          run: { playbook: name, inputs, approvalOverrides: approvals },
          backend: chooseBackend({ sim: true }),
          host: { ...autoHost(), manual: async () => ({ decision: 'approve', by: 'bench', via: 'script' }) },
          home,
          store,
        });
        const out = await handle.result;
        return { ms: performance.now() - t, status: out.status, runId: handle.runId };
      };
      const localWaits: number[] = [];
      const local = await one('local', localWaits);
      const waits: number[] = [];
      const remote = await one('aws', waits);
      allWaits.push(...waits);
      const events = (await aws.readEvents(remote.runId)).length;
      const total = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);
      console.log(
        `${name}: ${remote.status}, ${events} events; run ${local.ms.toFixed(0)} ms local, ${remote.ms.toFixed(0)} ms aws; ` +
          `settle ${waits.length}x: ${waits.length ? stats(waits) : 'none'}\n` +
          `  requests: DynamoDB ${total(dynamoCounts)} ${JSON.stringify(dynamoCounts)}, S3 ${total(s3Counts)} ${JSON.stringify(s3Counts)}`,
      );
    }
    console.log(`every run, added per decision (settle before an AWS call): ${stats(allWaits)}`);
  } finally {
    await s3Server.close();
  }
}

await main();
