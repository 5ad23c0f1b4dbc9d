/**
 * Engine semantics, independent of any AWS service: the control flow compiled to XState
 * (parallel, map, choice, wait, onError, retry), the approval gate, and replay from the journal.
 * The actions here change an in-memory store, so each test asserts the store and the journal.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { Journal } from '../../src/audit/journal.js';
import { encodeHead, headPathFor, lineHash } from '../../src/audit/verify.js';
import { defineAction, type ActionDef } from '../../src/actions/define.js';
import type { AwsClients } from '../../src/cloud/clients.js';
import { SimClock } from '../../src/core/clock.js';
import { ActionFailed } from '../../src/core/errors.js';
import { autoHost } from '../../src/engine/auto-host.js';
import { readApproval } from '../../src/engine/inbox.js';
import { replay } from '../../src/engine/events.js';
import type { RunHost } from '../../src/engine/host.js';
import { executeRun, type EngineOptions } from '../../src/engine/runner.js';
import { loadPlaybookText } from '../../src/playbook/load.js';

type Store = { values: Record<string, number>; applies: string[]; failuresLeft: Record<string, number>; refusePlan?: string[] };

function testActions(store: Store): Map<string, ActionDef> {
  const set = defineAction<{ key: string; value: number }, { key: string; previous: number | undefined }, { current: number | undefined }>({
    id: 'test.set',
    summary: 'set a value',
    input: z.strictObject({ key: z.string(), value: z.number() }),
    permissions: [],
    mutating: true,
    async plan(_c, i) {
      if (store.refusePlan?.includes(i.key)) throw new ActionFailed(`${i.key} refused`, 'Refused');
      const current = store.values[i.key];
      const changes = current === i.value ? [] : [{ resource: i.key, field: 'value', before: current, after: i.value }];
      return { changes, alreadyDone: changes.length === 0, notes: [], facts: { current } };
    },
    async apply(_c, i, p) {
      const left = store.failuresLeft[i.key] ?? 0;
      if (left > 0) {
        store.failuresLeft[i.key] = left - 1;
        throw Object.assign(new Error('service unavailable'), { name: 'ServiceUnavailable', $fault: 'server', $metadata: {} });
      }
      if (p.facts.current !== i.value) {
        store.applies.push(i.key);
        store.values[i.key] = i.value;
      }
      return { key: i.key, previous: p.facts.current };
    },
    async verify(_c, i) {
      return [{ name: `${i.key} = ${i.value}`, ok: store.values[i.key] === i.value }];
    },
    undo: { action: 'test.set', input: (o) => ({ key: o.key, value: o.previous ?? 0 }) },
  });
  const fail = defineAction<{ code: string }, never, null>({
    id: 'test.fail',
    summary: 'always fails',
    input: z.strictObject({ code: z.string() }),
    permissions: [],
    mutating: true,
    async plan() {
      return { changes: [{ resource: 'x', field: 'y', before: 1, after: 2 }], alreadyDone: false, notes: [], facts: null };
    },
    async apply(_c, i) {
      throw new ActionFailed(`failed on purpose`, i.code);
    },
    async verify() {
      return [];
    },
  });
  return new Map<string, ActionDef>([
    [set.id, set],
    [fail.id, fail as ActionDef],
  ]);
}

function setup(
  yaml: string,
  opts: { host?: (dir: string) => RunHost; inputs?: Record<string, unknown>; store?: Store; dryRun?: boolean } = {},
) {
  const dir = mkdtempSync(join(tmpdir(), 'fb-engine-'));
  const store = opts.store ?? { values: {}, applies: [], failuresLeft: {} };
  const actions = testActions(store);
  const loaded = loadPlaybookText(yaml, join(dir, 'pb.yaml'), { actionIds: new Set(actions.keys()) });
  const clock = new SimClock('2026-01-01T00:00:00Z');
  const run = async (previous?: ReturnType<typeof Journal.read>, control?: { abortAfter?: (e: { type: string }) => boolean }) => {
    const journal = Journal.open(join(dir, 'journal.jsonl'), { clock });
    const abort = new AbortController();
    if (control?.abortAfter)
      journal.onAppend((e) => {
        if (control.abortAfter!(e)) abort.abort();
      });
    try {
      const o: EngineOptions = {
        runId: 'r-test',
        loaded,
        inputs: opts.inputs ?? {},
        incident: 'INC-1',
        dryRun: !!opts.dryRun,
        host: opts.host?.(dir) ?? autoHost(),
        hostRun: { runId: 'r-test', runDir: dir, journal, aws: {} as AwsClients, postedApproval: (key) => readApproval(dir, key) },
        aws: {} as AwsClients,
        journal,
        clock,
        guard: { assertNotProtected: () => undefined },
        actions: (id) => actions.get(id)!,
        replayed: replay((previous ?? []) as never),
        signal: abort.signal,
      };
      return await executeRun(o);
    } finally {
      journal.close();
    }
  };
  const events = () => Journal.read(join(dir, 'journal.jsonl'));
  return { run, store, events, dir, clock };
}

const header = 'id: t\ntitle: T\n';

describe('engine control flow', () => {
  it('runs parallel branches to completion, then the next step', async () => {
    const t = setup(`${header}start: par
steps:
  par:
    type: parallel
    branches:
      - start: a
        steps:
          a: { action: test.set, with: { key: a, value: 1 }, approval: auto, next: a2 }
          a2: { action: test.set, with: { key: a2, value: 2 }, approval: auto }
      - start: b
        steps:
          b: { action: test.set, with: { key: b, value: 3 }, approval: auto }
    next: after
  after: { action: test.set, with: { key: after, value: '{% $steps.a2.output.previous ? 9 : 4 %}' }, approval: auto }
`);
    const r = await t.run();
    expect(r.status).toBe('succeeded');
    expect(t.store.values).toEqual({ a: 1, a2: 2, b: 3, after: 4 });
    expect(t.store.applies.at(-1)).toBe('after');
  });

  it('maps over a list with bounded concurrency and records each item', async () => {
    const t = setup(
      `${header}inputs:
  keys: { type: 'string[]' }
start: each
steps:
  each:
    type: map
    items: '{% $inputs.keys %}'
    concurrency: 2
    action: test.set
    with: { key: '{% $item %}', value: '{% $index %}' }
    approval: auto
`,
      { inputs: { keys: ['k0', 'k1', 'k2', 'k3', 'k4'] } },
    );
    expect((await t.run()).status).toBe('succeeded');
    expect(t.store.values).toEqual({ k0: 0, k1: 1, k2: 2, k3: 3, k4: 4 });
    expect(t.events().filter((e) => e.type === 'item.completed').length).toBe(5);
  });

  const FLEET = `${header}inputs:
  keys: { type: 'string[]' }
start: each
steps:
  each:
    type: map
    items: '{% $inputs.keys %}'
    concurrency: 1
    action: test.set
    with: { key: '{% $item %}', value: 7 }
    approval: APPROVAL
`;
  const itemEvents = (events: Array<{ type: string; [k: string]: unknown }>) =>
    events
      .filter((e) => ['step.planned', 'approval.answered', 'item.planned', 'step.applied', 'item.completed'].includes(e.type))
      .map((e) => `${e.type}${e.index ?? e.item ?? ''}`);

  it('a map step the policy approves unseen plans, applies and verifies each target in turn', async () => {
    const t = setup(FLEET.replace('APPROVAL', 'auto'), { inputs: { keys: ['k0', 'k1', 'k2'] } });
    expect((await t.run()).status).toBe('succeeded');
    expect(t.store.values).toEqual({ k0: 7, k1: 7, k2: 7 });
    expect(itemEvents(t.events())).toEqual([
      'step.planned',
      'approval.answered',
      'item.planned0',
      'step.applied0',
      'item.completed0',
      'item.planned1',
      'step.applied1',
      'item.completed1',
      'item.planned2',
      'step.applied2',
      'item.completed2',
    ]);
    const planned = t.events().filter((e) => e.type === 'item.planned');
    expect(planned.map((e) => e.plan.changes)).toEqual(
      ['k0', 'k1', 'k2'].map((k) => [{ resource: k, field: 'value', before: undefined, after: 7 }]),
    );
    expect(t.events().find((e) => e.type === 'approval.requested')).toMatchObject({ policy: 'auto', pipelined: true, items: 3 });
    expect(t.events().find((e) => e.type === 'approval.answered')).toMatchObject({ decision: 'approve', by: 'policy' });
  });

  it('a map step a person approves is planned for every target before any is applied', async () => {
    const person: RunHost = {
      kind: 'interactive',
      approve: async () => ({ decision: 'approve', by: 'alice' }),
      manual: async () => ({ decision: 'approve', by: 'alice' }),
    };
    for (const approval of ['required', 'auto']) {
      const t = setup(FLEET.replace('APPROVAL', approval), { inputs: { keys: ['k0', 'k1', 'k2'] }, host: () => person });
      expect((await t.run()).status).toBe('succeeded');
      expect(itemEvents(t.events())).toEqual([
        'step.planned',
        'approval.answered',
        'step.applied0',
        'item.completed0',
        'step.applied1',
        'item.completed1',
        'step.applied2',
        'item.completed2',
      ]);
      expect(t.events().find((e) => e.type === 'step.planned')!.plan.changes).toHaveLength(3);
    }
  });

  it("a map step's retry policy retries each target on its own", async () => {
    const withRetry = `${FLEET.replace('APPROVAL', 'auto')}    retry: { attempts: 3, backoff: 10s }\n`;
    const t = setup(withRetry, { inputs: { keys: ['k0', 'k1', 'k2'] } });
    t.store.failuresLeft = { k1: 2 };
    expect((await t.run()).status).toBe('succeeded');
    expect(t.store.values).toEqual({ k0: 7, k1: 7, k2: 7 });
    expect(
      t
        .events()
        .filter((e) => e.type === 'step.retrying')
        .map((e) => [e.step, e.attempt, e.delayMs, e.error.code]),
    ).toEqual([
      ['each[1]', 1, 10_000, 'ServiceUnavailable'],
      ['each[1]', 2, 20_000, 'ServiceUnavailable'],
    ]);
    // Without a retry policy the same fault fails that target alone.
    const once = setup(FLEET.replace('APPROVAL', 'auto'), { inputs: { keys: ['k0', 'k1', 'k2'] } });
    once.store.failuresLeft = { k1: 1 };
    const r = await once.run();
    expect(r.status).toBe('failed');
    expect(once.store.values).toEqual({ k0: 7, k2: 7 });
    expect(
      once
        .events()
        .filter((e) => e.type === 'item.failed')
        .map((e) => [e.index, e.error.code]),
    ).toEqual([[1, 'ServiceUnavailable']]);
  });

  it("a dry run of a map step fails the step when a target's plan fails, as the real run would", async () => {
    const t = setup(FLEET.replace('APPROVAL', 'required'), { inputs: { keys: ['k0', 'k1'] }, dryRun: true });
    t.store.refusePlan = ['k1'];
    const r = await t.run();
    expect([r.status, r.outcome, r.error?.code]).toEqual(['failed', 'failure', 'Refused']);
    expect(t.events().find((e) => e.type === 'step.failed')).toMatchObject({ step: 'each', error: { code: 'Refused' } });
    expect(t.events().find((e) => e.type === 'item.failed')).toMatchObject({ index: 1, phase: 'plan' });
    expect(t.store.applies).toEqual([]);
  });

  it('a map step interrupted between targets resumes with the rest, applying none twice', async () => {
    const t = setup(FLEET.replace('APPROVAL', 'auto'), { inputs: { keys: ['k0', 'k1', 'k2', 'k3'] } });
    const first = await t.run(undefined, { abortAfter: (e) => e.type === 'item.completed' });
    expect(first.status).toBe('interrupted');
    expect(t.store.applies).toEqual(['k0']);
    const second = await t.run(t.events());
    expect(second.status).toBe('succeeded');
    expect(t.store.applies).toEqual(['k0', 'k1', 'k2', 'k3']);
    expect(
      t
        .events()
        .filter((e) => e.type === 'item.completed')
        .map((e) => e.index),
    ).toEqual([0, 1, 2, 3]);
    expect(t.events().filter((e) => e.type === 'approval.answered')).toHaveLength(1);
  });

  it('takes the choice whose condition holds, and journals it', async () => {
    const t = setup(
      `${header}inputs:
  level: { type: number }
start: pick
steps:
  pick:
    type: choice
    choices:
      - { when: '{% $inputs.level > 5 %}', next: high }
    default: low
  high: { action: test.set, with: { key: level, value: 2 }, approval: auto }
  low: { action: test.set, with: { key: level, value: 1 }, approval: auto }
`,
      { inputs: { level: 7 } },
    );
    expect((await t.run()).status).toBe('succeeded');
    expect(t.store.values).toEqual({ level: 2 });
    expect(t.events().find((e) => e.type === 'choice.taken')).toMatchObject({ step: 'pick', next: 'high' });
  });

  it.each([
    ['a matching code', '[Boom]', 'recovered', 'succeeded'],
    ['no matching code', '[Other]', undefined, 'failed'],
  ])('onError with %s', async (_what, codes, expected, status) => {
    const t = setup(`${header}start: bad
steps:
  bad: { action: test.fail, with: { code: Boom }, approval: auto, onError: { next: recover, codes: ${codes} } }
  recover: { action: test.set, with: { key: recovered, value: 1 }, approval: auto }
`);
    const r = await t.run();
    expect(r.status).toBe(status);
    expect(Object.keys(t.store.values)[0]).toBe(expected);
    expect(t.events().find((e) => e.type === 'step.failed')).toMatchObject({
      step: 'bad',
      error: { code: 'Boom' },
      handled: status === 'succeeded',
    });
  });

  it('retries a server fault with backoff on the run clock, then succeeds', async () => {
    const store: Store = { values: {}, applies: [], failuresLeft: { x: 2 } };
    const t = setup(
      `${header}start: s
steps:
  s: { action: test.set, with: { key: x, value: 1 }, approval: auto, retry: { attempts: 3, backoff: 10s, factor: 3 } }
`,
      { store },
    );
    const start = t.clock.now().getTime();
    expect((await t.run()).status).toBe('succeeded');
    expect(
      t
        .events()
        .filter((e) => e.type === 'step.retrying')
        .map((e) => e.delayMs),
    ).toEqual([10_000, 30_000]);
    expect(t.clock.now().getTime() - start).toBe(40_000);
  });

  it('a durable wait survives a restart: the resumed run waits only the rest', async () => {
    const t = setup(`${header}start: w
steps:
  w: { type: wait, duration: 15m, next: s }
  s: { action: test.set, with: { key: done, value: 1 }, approval: auto }
`);
    expect((await t.run()).status).toBe('succeeded');
    const waits = t.events().filter((e) => e.type === 'wait.started');
    expect(waits).toHaveLength(1);
    expect(waits[0]!.until).toBe('2026-01-01T00:15:00.000Z');
  });
});

describe('approval gate and replay', () => {
  it('waits on a required step, then resumes from the journal without re-applying completed steps', async () => {
    const t = setup(`${header}start: one
steps:
  one: { action: test.set, with: { key: one, value: 1 }, approval: auto, next: two }
  two: { action: test.set, with: { key: two, value: 2 }, approval: required }
`);
    const first = await t.run();
    expect(first).toMatchObject({ status: 'waiting', waitingStep: 'two' });
    expect(t.store.values).toEqual({ one: 1 });
    // A person approves (as `firebreak approve` does when the run is not alive).
    const j = Journal.open(join(t.dir, 'journal.jsonl'), { clock: t.clock });
    j.append('approval.answered', { step: 'two', decision: 'approve', by: 'alice@host', via: 'approve-command' });
    j.close();
    const second = await t.run(t.events());
    expect(second.status).toBe('succeeded');
    expect(t.store.applies).toEqual(['one', 'two']);
    expect(t.events().filter((e) => e.type === 'step.applied' && e.step === 'one')).toHaveLength(1);
  });

  it('replays a handled failure so the resumed run takes the same onError path', async () => {
    const t = setup(`${header}start: bad
steps:
  bad: { action: test.fail, with: { code: Boom }, approval: auto, onError: recover }
  recover: { action: test.set, with: { key: r, value: 1 }, approval: auto, next: gate }
  gate: { action: test.set, with: { key: g, value: 1 }, approval: required }
`);
    expect((await t.run()).status).toBe('waiting');
    const j = Journal.open(join(t.dir, 'journal.jsonl'), { clock: t.clock });
    j.append('approval.answered', { step: 'gate', decision: 'approve', by: 'bob', via: 'approve-command' });
    j.close();
    expect((await t.run(t.events())).status).toBe('succeeded');
    expect(t.events().filter((e) => e.type === 'step.failed')).toHaveLength(1);
    expect(t.store.applies).toEqual(['r', 'g']);
  });

  it('dry-run plans every step and applies none', async () => {
    const t = setup(
      `${header}start: one
steps:
  one: { action: test.set, with: { key: one, value: 1 }, approval: auto, next: two }
  two: { action: test.set, with: { key: two, value: 2 }, approval: required }
`,
      { dryRun: true },
    );
    expect((await t.run()).status).toBe('planned');
    expect(t.store.values).toEqual({});
    expect(
      t
        .events()
        .filter((e) => e.type === 'step.planned')
        .map((e) => e.step),
    ).toEqual(['one', 'two']);
  });

  it('a skip answer records the step as skipped and the run goes on', async () => {
    const host = (): RunHost => ({
      kind: 'interactive',
      approve: async (v) => ({ decision: v.stepId === 'one' ? 'skip' : 'approve', by: 'tester', via: 'script' }),
      manual: async () => ({ decision: 'approve', by: 'tester' }),
    });
    const t = setup(
      `${header}start: one
steps:
  one: { action: test.set, with: { key: one, value: 1 }, next: two }
  two: { action: test.set, with: { key: two, value: 2 } }
`,
      { host },
    );
    expect((await t.run()).status).toBe('succeeded');
    expect(t.store.values).toEqual({ two: 2 });
    expect(t.events().find((e) => e.type === 'step.completed' && e.step === 'one')).toMatchObject({ status: 'skipped' });
  });
});

/** A kill right after a journal line: the journal (and its head) as they were at that line; the store keeps what was applied. */
function killAt(dir: string, isLast: (e: { type: string; step?: string }) => boolean): void {
  const file = join(dir, 'journal.jsonl');
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
  const n = lines.findIndex((l) => isLast(JSON.parse(l))) + 1;
  expect(n).toBeGreaterThan(0);
  writeFileSync(file, `${lines.slice(0, n).join('\n')}\n`);
  writeFileSync(headPathFor(file), encodeHead({ seq: n, sha256: lineHash(lines[n - 1]!) }));
}

describe('resume after a kill during an apply', () => {
  const PB = `${header}start: a
steps:
  a: { action: test.set, with: { key: a, value: 1 }, approval: auto, next: b }
  b: { action: test.set, with: { key: b, value: 2 }, approval: auto }
`;
  it.each([
    ['step.applying', 'applying'],
    ['step.applied', 'applied'],
  ])('killed after %s: the resumed step is re-planned, found done, and journaled as applied once', async (at, interrupted) => {
    const t = setup(PB);
    expect((await t.run()).status).toBe('succeeded');
    killAt(t.dir, (e) => e.type === at && e.step === 'b');
    const r = await t.run(t.events());
    expect(r.status).toBe('succeeded');
    const events = t.events();
    // The change was made once, by the killed process.
    expect(t.store.applies).toEqual(['a', 'b']);
    expect(events.filter((e) => e.type === 'step.applied').map((e) => e.step)).toEqual(['a', 'b']);
    expect(events.filter((e) => e.type === 'step.replanned')).toMatchObject([{ step: 'b', alreadyDone: true, interrupted }]);
    expect(events.filter((e) => e.type === 'step.completed').map((e) => [e.step, e.status])).toEqual([
      ['a', 'applied'],
      ['b', 'applied'],
    ]);
    expect(events.filter((e) => e.type === 'step.verified' && e.step === 'b').at(-1)).toMatchObject({ ok: true });
  });
});
