/**
 * Every declared journal event type is written by the real journal and read back by the real
 * replay; an event replay cannot read fails naming its line and field; journals written before
 * the events were typed still verify and replay.
 */
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRunEvent, runEventSchemas, type RunEventInput } from '../../src/audit/events.js';
import { Journal } from '../../src/audit/journal.js';
import { verifyJournal } from '../../src/audit/verify.js';
import { SimClock } from '../../src/core/clock.js';
import { replay } from '../../src/engine/events.js';

const operator = { osUser: 'alice', host: 'oncall-01', pid: 4242 };
const plan = {
  changes: [{ resource: 'i-1', field: 'security groups', before: ['sg-1'], after: ['sg-2'] }],
  alreadyDone: false,
  notes: ['n'],
};
const error = { code: 'AccessDenied', message: 'no' };

/** One example of every event type the run journal declares. */
const EXAMPLES: RunEventInput[] = [
  {
    type: 'run.started',
    runId: 'r-1',
    playbook: { id: 'pb', title: 'PB', file: 'playbooks/pb.yaml', sha256: 'ab'.repeat(32) },
    inputs: { instanceId: 'i-1' },
    incident: 'IR-1',
    mode: 'auto',
    dryRun: false,
    backend: 'sim',
    world: 'worlds/demo.yaml',
    region: 'us-east-1',
    approvalOverrides: { isolate: 'auto' },
    trigger: { via: 'cli' },
    operator,
    version: '0.1.0',
  },
  { type: 'run.identity', arn: 'arn:aws:iam::123456789012:user/alice', account: '123456789012', userId: 'AIDA' },
  { type: 'guardrails.resolved', units: { 'ou-a1b2-c3d4e5f6': ['123456789012', '210987654321'] } },
  { type: 'across.resolved', units: { 'ou-a1b2-c3d4e5f6': ['123456789012', '210987654321'] }, accounts: ['123456789012', '210987654321'] },
  { type: 'step.started', step: 'isolate', action: 'ec2.isolate-instance' },
  { type: 'step.planned', step: 'isolate', action: 'ec2.isolate-instance', input: { instanceId: 'i-1' }, plan, facts: { x: 1 } },
  { type: 'approval.requested', step: 'isolate', policy: 'required', changes: 1 },
  { type: 'run.waiting', step: 'isolate', kind: 'approval' },
  { type: 'run.interrupted', error: { code: 'Interrupted', message: 'SIGTERM' } },
  { type: 'run.resumed', by: operator },
  { type: 'approval.answered', step: 'isolate', decision: 'approve', by: 'bob', note: 'ok', via: 'approve-command' },
  { type: 'step.applying', step: 'isolate' },
  { type: 'step.replanned', step: 'isolate', alreadyDone: true, interrupted: 'applying' },
  {
    type: 'aws.call',
    step: 'isolate',
    service: 'ec2',
    operation: 'ModifyNetworkInterfaceAttribute',
    input: {},
    requestId: 'req',
    status: 200,
    durationMs: 3,
    attempts: 1,
  },
  { type: 'note', step: 'isolate', message: 'moved eni-1', eni: 'eni-1' },
  {
    type: 'step.applied',
    step: 'isolate',
    action: 'ec2.isolate-instance',
    output: { groups: ['sg-1'] },
    undo: { action: 'ec2.restore-security-groups', input: { groups: ['sg-1'] } },
  },
  { type: 'step.verified', step: 'isolate', ok: true, checks: [{ name: 'isolated', ok: true }] },
  { type: 'step.completed', step: 'isolate', status: 'applied', output: { groups: ['sg-1'] } },
  {
    type: 'step.completed',
    step: 'revoke',
    status: 'planned',
    wouldRunIf: { when: '{% $steps.take.output.roleName %}', awaits: ['take'], predicted: true },
  },
  { type: 'step.retrying', step: 'snap', attempt: 1, of: 3, delayMs: 1000, error },
  { type: 'step.failed', step: 'snap', action: 'ec2.forensic-snapshots', error, handled: true },
  { type: 'item.planned', step: 'fleet', index: 0, plan },
  { type: 'item.completed', step: 'fleet', index: 0, output: { ok: 1 }, checks: [{ name: 'c', ok: true, detail: 'd' }] },
  { type: 'item.failed', step: 'fleet', index: 1, phase: 'plan', error },
  { type: 'choice.taken', step: 'scaling', next: 'detach' },
  { type: 'wait.started', step: 'pause', until: '2026-03-01T12:15:00.000Z' },
  { type: 'manual.requested', step: 'case', title: 'Open a case', instructions: 'do it' },
  { type: 'step.manual', step: 'case', reason: 'no support plan', task: { title: 'Open a case', instructions: 'do it' } },
  { type: 'lock.waiting', kind: 'instance', id: 'i-1', heldBy: 'r-0', pid: 1, timeoutMs: 1000 },
  { type: 'lock.acquired', kind: 'instance', id: 'i-1' },
  { type: 'notification.sent', step: 'isolate', channel: 'sns', topicArn: 'arn:aws:sns:us-east-1:123456789012:t', messageId: 'm' },
  { type: 'notification.failed', step: 'isolate', channel: 'sns', topicArn: 'arn:aws:sns:us-east-1:123456789012:t', error },
  {
    type: 'execution.redriven',
    execution: 'arn:aws:states:us-east-1:123456789012:execution:firebreak-ec2-fleet-compromise:r-1',
    from: 'FAILED',
    error: 'UnauthorizedOperation',
    by: operator,
  },
  {
    type: 'execution.redrive-failed',
    execution: 'arn:aws:states:us-east-1:123456789012:execution:firebreak-ec2-fleet-compromise:r-1',
    error,
  },
  { type: 'undo.requested', undoRun: 'r-1-undo-1', steps: ['isolate'] },
  { type: 'undo.finished', undoRun: 'r-1-undo-1', status: 'succeeded' },
  { type: 'alert.repeated', repeat: 2, via: 'cli' },
  { type: 'journal.repaired', movedTo: 'journal.jsonl.torn-1', sha256: 'cd'.repeat(32) },
  { type: 'run.ended', status: 'succeeded', outcome: 'success' },
];

describe('journal events', () => {
  it('the examples cover every declared event type', () => {
    expect(new Set(EXAMPLES.map((e) => e.type))).toEqual(new Set(Object.keys(runEventSchemas)));
  });

  it('every event type round-trips through append and replay', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'fb-events-')), 'journal.jsonl');
    const j = Journal.open(file, { clock: new SimClock('2026-03-01T12:00:00Z') });
    for (const { type, ...fields } of EXAMPLES) j.append(type, fields as never);
    j.close();
    const read = Journal.read(file);
    expect(read.map((e) => e.type)).toEqual(EXAMPLES.map((e) => e.type));
    for (const [i, e] of read.entries()) expect(parseRunEvent(e)).toMatchObject(EXAMPLES[i]!);
    const s = replay(read);
    expect(s).toMatchObject({ runId: 'r-1', status: 'succeeded' });
    expect(s.approvals.get('isolate')).toEqual({ decision: 'approve', by: 'bob', note: 'ok', via: 'approve-command' });
    expect(s.completed.get('isolate')).toEqual({ status: 'applied', output: { groups: ['sg-1'] } });
    expect(s.handledFailures.get('snap')).toEqual({ code: 'AccessDenied', message: 'no' });
    expect(s.items.get('fleet')?.get(0)).toEqual({ ok: 1 });
    expect(s.choices.get('scaling')).toBe('detach');
    expect(s.waits.get('pause')).toBe('2026-03-01T12:15:00.000Z');
    expect(s.applied[0]).toMatchObject({ step: 'isolate', undo: { action: 'ec2.restore-security-groups' } });
  });

  it.each([
    [{ seq: 3, ts: 't', type: 'step.completed', step: 'isolate', status: 'done' }, /line 3: step.completed: field status/],
    [{ seq: 4, ts: 't', type: 'approval.answered', step: 'isolate', by: 'bob' }, /line 4: approval.answered: field decision/],
    [{ seq: 5, ts: 't', type: 'step.exploded', step: 'isolate' }, /line 5: unknown event type 'step.exploded'/],
  ])('replay refuses an event it cannot read, naming line and field (%#)', (event, message) => {
    expect(() => replay([event])).toThrow(message);
  });
});

describe('journals written before events were typed', () => {
  const FIXTURES = join('test', 'fixtures', 'journals-v0');

  it.each([
    ['20261206-170000-demo01', 'succeeded'],
    ['20261206-170100-fleet1', 'waiting'],
  ])('%s verifies and replays (%s)', (runId, status) => {
    const file = join(FIXTURES, runId, 'journal.jsonl');
    expect(verifyJournal(file)).toMatchObject({ ok: true });
    const s = replay(Journal.read(file));
    expect(s.status).toBe(status);
    expect(s.started?.runId).toBe(runId);
    expect(s.completed.size).toBeGreaterThan(0);
  });

  it('an old journal opens for appending, as resume does', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fb-v0-'));
    cpSync(join(FIXTURES, '20261206-170100-fleet1'), dir, { recursive: true });
    const j = Journal.open(join(dir, 'journal.jsonl'));
    j.append('run.resumed', { by: operator });
    j.close();
    expect(verifyJournal(join(dir, 'journal.jsonl'))).toMatchObject({ ok: true });
    expect(replay(Journal.read(join(dir, 'journal.jsonl'))).status).toBe('running');
  });
});
