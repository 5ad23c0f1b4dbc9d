/**
 * A whole run with `store: aws`: the reference playbook on the simulated cloud, its run store
 * DynamoDB from dynalite and S3 (Object Lock) from the simulated cloud. The table holds the
 * journal byte for byte, the seals vouch for all of it, the leases are given back, and another
 * working folder (no run folder of its own) lists, opens and verifies the run from the store.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pluggable } from '@smithy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actionIds } from '../../src/actions/registry.js';
import { chooseBackend } from '../../src/backend/backend.js';
import { autoHost } from '../../src/engine/auto-host.js';
import { runStoreFor } from '../../src/engine/local-store.js';
import { startRun } from '../../src/engine/session.js';
import { allSteps } from '../../src/playbook/compile.js';
import { findPlaybook, loadPlaybook } from '../../src/playbook/load.js';
import { verifyStore } from '../../src/store/verify.js';
import { tempHome } from '../helpers/cli.js';
import { startDynalite, storeWorld } from './harness.js';

const DEMO = loadPlaybook(findPlaybook('ec2-instance-compromise', ['playbooks']), { actionIds });
const ALL_AUTO = Object.fromEntries(allSteps(DEMO.playbook).map((s) => [s.id, 'auto' as const]));

let dyn: Awaited<ReturnType<typeof startDynalite>>;
beforeAll(async () => {
  dyn = await startDynalite();
});
afterAll(async () => {
  await dyn?.close();
});

/** Counts the DynamoDB requests a client sends, by operation. */
function counter(): { plugin: Pluggable<any, any>; counts: Record<string, number> } {
  const counts: Record<string, number> = {};
  return {
    counts,
    plugin: {
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
    },
  };
}

describe('a run with store: aws', () => {
  it('the table holds every line the journal wrote, sealed through the end; another folder lists, opens and verifies it', async () => {
    const world = await storeWorld(dyn.endpoint);
    const dynamoCalls = counter();
    const home = tempHome();
    const store = runStoreFor(world.config, { home }, world.store([dynamoCalls.plugin]));
    const s3Before = world.cloud.calls.length;
    const handle = await startRun({
      run: { playbook: 'ec2-instance-compromise', inputs: { instanceId: 'i-0abc123def4567890' }, approvalOverrides: ALL_AUTO },
      backend: chooseBackend({ sim: true }),
      host: { ...autoHost(), manual: async () => ({ decision: 'approve', by: 'test', via: 'script' }) },
      home,
      store,
    });
    const out = await handle.result;
    expect(out.error).toBeUndefined();
    expect(out.status).toBe('succeeded');

    const aws = world.store();
    const file = readFileSync(join(handle.runDir, 'journal.jsonl'), 'utf8');
    const stored = await aws.readEvents(handle.runId);
    expect(stored.map((e) => `${e.line}\n`).join('')).toBe(file);

    const v = await verifyStore(aws, world.s3, world.config.bucket, handle.runId);
    expect(v.problems).toEqual([]);
    expect(v.ok).toBe(true);
    expect(v.sealedThrough).toBe(stored.length);
    expect(v.unsealed).toBeUndefined();

    const runs = await aws.listRuns();
    expect(runs.map((r) => [r.runId, r.fields.status, r.fields.playbook])).toEqual([
      [handle.runId, 'succeeded', 'ec2-instance-compromise'],
    ]);
    expect(await aws.readLease(`run/${handle.runId}`)).toBeUndefined();
    expect(await aws.readLease('instance/i-0abc123def4567890')).toBeUndefined();

    // Another working folder: no run folder there; the run comes from the table.
    const elsewhere = runStoreFor(world.config, { home: tempHome() }, world.store());
    const record = await elsewhere.open(handle.runId);
    expect(record.readJournal().map((e) => e.seq)).toEqual(stored.map((e) => e.seq));
    expect(readFileSync(join(record.dir, 'journal.jsonl'), 'utf8')).toBe(file);
    await expect(elsewhere.open('20260101-000000-nosuch')).rejects.toThrow(/no run 20260101-000000-nosuch in the store/);
    await expect(store.create(handle.runId)).rejects.toThrow(/already exists in the store/);

    const s3Ops = world.cloud.calls.slice(s3Before).filter((c) => c.startsWith('s3.'));
    // Requests per run, for the README: one PutItem per line, plus seals and summaries.
    console.log(
      `ec2-instance-compromise: ${stored.length} events; DynamoDB ${JSON.stringify(dynamoCalls.counts)}; S3 ${s3Ops.length} (${[...new Set(s3Ops)].join(', ')})`,
    );
    expect(dynamoCalls.counts.PutItem).toBeGreaterThanOrEqual(stored.length);
  });
});
