/**
 * The AWS run store against dynalite (DynamoDB's conditional writes, implemented independently of
 * Firebreak) and the simulated S3: one writer per seq, appends that survive throttling and a lost
 * response, leases judged by the store's clock, exactly-once alert claims, approvals from another
 * machine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetItemCommand, ProvisionedThroughputExceededException, QueryCommand } from '@aws-sdk/client-dynamodb';
import type { Pluggable } from '@smithy/types';
import { lineHash } from '../../src/audit/verify.js';
import { AppendConflict, LeaseLost } from '../../src/store/errors.js';
import { eventSk, runPk } from '../../src/store/keys.js';
import { journalLines, startDynalite, storeWorld } from './harness.js';

let dyn: Awaited<ReturnType<typeof startDynalite>>;
beforeAll(async () => {
  dyn = await startDynalite();
});
afterAll(async () => {
  await dyn.close();
});

type Fault = 'throttle' | 'lose-response' | undefined;

/** A client middleware that injects a fault into chosen attempts of chosen commands, counting every attempt. */
function faults(plan: (command: string, attempt: number) => Fault) {
  const attempts: string[] = [];
  const plugin: Pluggable<any, any> = {
    applyToStack(stack) {
      stack.add(
        (next: any, context: any) => async (args: any) => {
          const command = String(context.commandName);
          attempts.push(command);
          const fault = plan(command, attempts.filter((c) => c === command).length);
          if (fault === 'throttle')
            throw new ProvisionedThroughputExceededException({ message: 'injected throttling', $metadata: { httpStatusCode: 400 } });
          const out = await next(args);
          // The write reached DynamoDB; its answer is lost on the way back.
          if (fault === 'lose-response')
            throw Object.assign(new Error('socket hang up (injected after the request was sent)'), { code: 'ECONNRESET' });
          return out;
        },
        { step: 'deserialize', name: 'injectFault', priority: 'low' },
      );
    },
  };
  return { plugin, attempts };
}

describe('journal appends', () => {
  it('two writers racing on each of 20 seqs: exactly one wins each seq, the other gets AppendConflict, the table holds the winner', async () => {
    const w = await storeWorld(dyn.endpoint);
    const [a, b] = [w.store(), w.store()];
    const la = journalLines(20, { tag: 'a' });
    const lb = journalLines(20, { tag: 'b' });
    const outcomes = await Promise.all(
      la.map(async (_, i) => {
        const [ra, rb] = await Promise.allSettled([a.append('r1', la[i]!), b.append('r1', lb[i]!)]);
        return [ra, rb];
      }),
    );
    for (const [i, pair] of outcomes.entries()) {
      const won = pair.filter((r) => r.status === 'fulfilled');
      expect(won, `seq ${i + 1}`).toHaveLength(1);
      const lost = pair.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(lost.reason).toBeInstanceOf(AppendConflict);
    }
    const stored = await a.readEvents('r1');
    expect(stored.map((e) => e.seq)).toEqual(la.map((l) => l.seq));
    for (const [i, e] of stored.entries()) {
      const winner = outcomes[i]![0]!.status === 'fulfilled' ? la[i]! : lb[i]!;
      expect(e.line).toBe(winner.line);
      expect(e.hash).toBe(lineHash(winner.line));
    }
  });

  it('appending the same line twice is idempotent; a different line at a taken seq is refused and changes nothing', async () => {
    const w = await storeWorld(dyn.endpoint);
    const s = w.store();
    const [l1] = journalLines(1);
    await s.append('r1', l1!);
    await expect(s.append('r1', l1!)).resolves.toMatchObject({ seq: 1, hash: lineHash(l1!.line) });
    const [other] = journalLines(1, { tag: 'intruder' });
    await expect(s.append('r1', other!)).rejects.toBeInstanceOf(AppendConflict);
    expect((await s.readEvents('r1')).map((e) => e.line)).toEqual([l1!.line]);
  });

  it.each([
    ['throttled twice before reaching DynamoDB', (attempt: number): Fault => (attempt <= 2 ? 'throttle' : undefined), 3],
    ['written, then its response lost (ECONNRESET)', (attempt: number): Fault => (attempt === 1 ? 'lose-response' : undefined), 2],
  ])('an append %s is retried by the SDK and lands once: no fork, no loss', async (_what, plan, putAttempts) => {
    const w = await storeWorld(dyn.endpoint);
    const lines = journalLines(5);
    const writer = w.store();
    for (const l of lines.slice(0, 2)) await writer.append('r1', l);
    const f = faults((command, attempt) => (command === 'PutCommand' || command === 'PutItemCommand' ? plan(attempt) : undefined));
    const faulty = w.store([f.plugin]);
    const e3 = await faulty.append('r1', lines[2]!);
    expect(e3).toMatchObject({ seq: 3, hash: lineHash(lines[2]!.line) });
    expect(f.attempts.filter((c) => c.startsWith('Put'))).toHaveLength(putAttempts);
    for (const l of lines.slice(3)) await writer.append('r1', l);
    // Read with a plain client: one item per seq, the exact lines, a whole chain.
    const raw = await w.dynamo().send(
      new QueryCommand({
        TableName: w.config.table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: runPk('r1') } },
        ConsistentRead: true,
      }),
    );
    expect(raw.Items?.map((i) => i.line?.S)).toEqual(lines.map((l) => l.line));
  });

  it('lastEvent is the newest line; readEvents from a seq starts there', async () => {
    const w = await storeWorld(dyn.endpoint);
    const s = w.store();
    const lines = journalLines(12);
    for (const l of lines) await s.append('r1', l);
    expect((await s.lastEvent('r1'))?.seq).toBe(12);
    expect(await s.lastEvent('r2')).toBeUndefined();
    expect((await s.readEvents('r1', { fromSeq: 10 })).map((e) => e.seq)).toEqual([10, 11, 12]);
  });
});

describe('leases (locks on target resources)', () => {
  it('held until expiry by the store clock, renewed by its owner, taken over only after expiry; the old owner then loses it', async () => {
    const w = await storeWorld(dyn.endpoint, { leaseSeconds: 60 });
    const [a, b] = [w.store(), w.store()];
    const resource = 'ec2:instance/i-0abc';
    const got = await a.acquireLease(resource, { runId: 'run-a', execution: 'exec-1', host: 'host-a', purpose: 'isolate' });
    if (!got.ok) throw new Error('expected the lease');
    expect(got.tookOverFrom).toBeUndefined();

    w.cloud.clock.advance(59_000);
    const refused = await b.acquireLease(resource, { runId: 'run-b', host: 'host-b' });
    expect(refused).toMatchObject({
      ok: false,
      holder: { owner: { runId: 'run-a', execution: 'exec-1', host: 'host-a', purpose: 'isolate' } },
    });

    const renewed = await a.renewLease(got.lease);
    w.cloud.clock.advance(59_000); // 118 s after acquiring: alive only because it was renewed
    expect((await b.acquireLease(resource, { runId: 'run-b', host: 'host-b' })).ok).toBe(false);

    w.cloud.clock.advance(2_000);
    const taken = await b.acquireLease(resource, { runId: 'run-b', host: 'host-b' });
    expect(taken).toMatchObject({
      ok: true,
      lease: { owner: { runId: 'run-b' } },
      tookOverFrom: { owner: { runId: 'run-a' }, token: renewed.token },
    });
    await expect(a.renewLease(renewed)).rejects.toBeInstanceOf(LeaseLost);
    await expect(a.releaseLease(renewed)).rejects.toBeInstanceOf(LeaseLost);
    expect((await a.readLease(resource))?.owner.runId).toBe('run-b');

    if (!taken.ok) throw new Error('unreachable');
    await b.releaseLease(taken.lease);
    expect(await a.readLease(resource)).toBeUndefined();
    expect((await a.acquireLease(resource, { runId: 'run-a', host: 'host-a' })).ok).toBe(true);
  });

  it('10 contenders for one free resource: exactly one gets it', async () => {
    const w = await storeWorld(dyn.endpoint);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => w.store().acquireLease('iam:user/alice', { runId: `run-${i}`, host: 'h' })),
    );
    const winners = results.filter((r) => r.ok);
    expect(winners).toHaveLength(1);
    const holder = await w.store().readLease('iam:user/alice');
    for (const r of results) if (!r.ok) expect(r.holder.token).toBe(holder!.token);
  });
});

describe('alert dedup', () => {
  it('20 concurrent claimers × 100 alert keys: exactly 100 claims, each key once, every repeat counted on the claim', async () => {
    const w = await storeWorld(dyn.endpoint);
    const claimers = Array.from({ length: 20 }, () => w.store());
    const keys = Array.from({ length: 100 }, (_, i) => `guardduty:finding-${i}`);
    const results = await Promise.all(
      claimers.flatMap((s, c) => keys.map(async (key) => ({ key, claimer: c, result: await s.claimAlert(key, `run-${c}-${key}`) }))),
    );
    const claimed = results.filter((r) => r.result.claimed);
    expect(claimed).toHaveLength(100);
    expect(new Set(claimed.map((r) => r.key)).size).toBe(100);
    for (const key of keys) {
      const winner = claimed.find((r) => r.key === key)!;
      const repeats = results.filter((r) => r.key === key && !r.result.claimed);
      expect(repeats).toHaveLength(19);
      for (const r of repeats) expect(r.result.runId).toBe(`run-${winner.claimer}-${key}`);
      const item = await w
        .dynamo()
        .send(
          new GetItemCommand({ TableName: w.config.table, Key: { pk: { S: `ALERT#${key}` }, sk: { S: 'CLAIM' } }, ConsistentRead: true }),
        );
      expect([item.Item?.runId?.S, item.Item?.repeats?.N]).toEqual([`run-${winner.claimer}-${key}`, '19']);
    }
  }, 60_000);

  it('with dedupDays, a claim past its TTL is claimed anew (before DynamoDB deletes it)', async () => {
    const w = await storeWorld(dyn.endpoint, { dedupDays: 1 });
    const s = w.store();
    expect(await s.claimAlert('k', 'run-1')).toEqual({ claimed: true, runId: 'run-1' });
    expect(await s.claimAlert('k', 'run-2')).toEqual({ claimed: false, runId: 'run-1', repeats: 1 });
    w.cloud.clock.advance(86_400_000 + 1000);
    expect(await s.claimAlert('k', 'run-3')).toEqual({ claimed: true, runId: 'run-3' });
  });
});

describe('approvals and summaries', () => {
  it('a pending approval is answered from another machine; the first answer stands', async () => {
    const w = await storeWorld(dyn.endpoint);
    const [runner, laptop, other] = [w.store(), w.store(), w.store()];
    await runner.requestApproval('r1', 'isolate', { changes: 2 });
    await runner.requestApproval('r1', 'isolate', { changes: 2 }); // asked again on resume: no change
    expect(await runner.readApproval('r1', 'isolate')).toEqual({ runId: 'r1', key: 'isolate', status: 'pending', request: { changes: 2 } });
    const first = await laptop.answerApproval('r1', 'isolate', { decision: 'approve', by: 'alice', at: '2026-03-01T00:01:00.000Z' });
    const second = await other.answerApproval('r1', 'isolate', { decision: 'skip', by: 'bob', at: '2026-03-01T00:02:00.000Z' });
    expect(first.answer?.by).toBe('alice');
    expect(second).toEqual(first);
    expect((await runner.listApprovals('r1')).map((a) => [a.key, a.status, a.answer?.decision])).toEqual([
      ['isolate', 'answered', 'approve'],
    ]);
    expect(await runner.listApprovals('r2')).toEqual([]);
  });

  it('listRuns lists every run newest first with its summary', async () => {
    const w = await storeWorld(dyn.endpoint);
    const s = w.store();
    for (const [runId, startedAt] of [
      ['r-old', '2026-03-01T00:00:00.000Z'],
      ['r-new', '2026-03-02T00:00:00.000Z'],
      ['r-mid', '2026-03-01T12:00:00.000Z'],
    ] as const) {
      await s.putSummary({ runId, startedAt, updatedAt: startedAt, fields: { playbook: 'isolate-instance', status: 'running' } });
    }
    await s.putSummary({
      runId: 'r-mid',
      startedAt: '2026-03-01T12:00:00.000Z',
      updatedAt: '2026-03-01T13:00:00.000Z',
      fields: { playbook: 'isolate-instance', status: 'completed' },
    });
    const runs = await w.store().listRuns();
    expect(runs.map((r) => [r.runId, r.fields.status])).toEqual([
      ['r-new', 'running'],
      ['r-mid', 'completed'],
      ['r-old', 'running'],
    ]);
    expect(await s.readSummary('nope')).toBeUndefined();
  });
});

// Keys are stable: the README and the IAM policy describe them.
it('event keys sort by seq', () => {
  expect([eventSk(10), eventSk(9), eventSk(100)].sort()).toEqual([eventSk(9), eventSk(10), eventSk(100)]);
});
