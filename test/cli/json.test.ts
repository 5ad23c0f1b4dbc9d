/**
 * Every command takes `--json`: its stdout is one JSON document (progress and prompts go to
 * stderr), parsed here for each command, and an error is a JSON document too.
 */
import { cpSync, mkdtempSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, ROOT, tempHome, type CliResult } from '../helpers/cli.js';

const PROJECT = join(import.meta.dirname, 'fixtures/project');
const INSTANCE = 'i-0abc123def4567890';
const FIXTURE_RUNS = join(import.meta.dirname, '../fixtures/journals/runs');

function json(r: CliResult): any {
  try {
    return JSON.parse(r.stdout);
  } catch (e) {
    throw new Error(
      `stdout is not one JSON document (exit ${r.code}): ${(e as Error).message}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`,
    );
  }
}

describe('--json on the run lifecycle', () => {
  const home = tempHome();
  const inProject = (args: string[]) => cli([...args, '--json'], { home, cwd: PROJECT });
  let runId = '';

  beforeAll(async () => {
    const r = await inProject(['run', 'contain-instance', '--sim', '--auto', '--input', `instanceId=${INSTANCE}`]);
    expect(r.code, r.stderr).toBe(3);
    const doc = json(r);
    expect(doc).toMatchObject({ status: 'waiting', waitingStep: 'isolate', stopReason: { code: 'WaitingForApproval' } });
    runId = doc.runId;
  }, 60_000);

  it('approve and resume', async () => {
    const a = await inProject(['approve', runId, 'isolate', '--note', 'go']);
    expect(a.code, a.stderr).toBe(0);
    expect(json(a)).toEqual({ runId, step: 'isolate', decision: 'approve', delivered: 'journal' });
    const r = await inProject(['resume', runId, '--auto']);
    expect(r.code, r.stderr).toBe(3);
    expect(json(r)).toMatchObject({ runId, status: 'waiting', waitingStep: 'forensics' });
  }, 60_000);

  it('runs, audit show, audit verify', async () => {
    const runs = json(await inProject(['runs']));
    expect(runs).toContainEqual(
      expect.objectContaining({ id: runId, playbook: 'contain-instance', status: 'waiting', waitingStep: 'forensics' }),
    );
    const events = json(await inProject(['audit', 'show', runId]));
    expect(events[0]).toMatchObject({ seq: 1, type: 'run.started', runId });
    expect(events.some((e: any) => e.type === 'approval.answered' && e.step === 'isolate' && e.note === 'go')).toBe(true);
    const v = await inProject(['audit', 'verify', runId]);
    expect(v.code).toBe(0);
    expect(json(v)).toMatchObject({ ok: true, events: events.length });
  }, 60_000);

  it('runs lists newest first by start time, not by id (ids only sort to the second)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fb-runs-'));
    cpSync(FIXTURE_RUNS, dir, { recursive: true });
    // The newest run (started 2026-03-02) under an id that sorts before the others.
    renameSync(join(dir, '20260302-090000-d4e5f6'), join(dir, '20260301-021500-000000'));
    const rows = json(await cli(['runs', '--json', '--runs-dir', dir], { home: tempHome() }));
    expect(rows.map((r: any) => [r.id, r.started])).toEqual([
      ['20260301-021500-000000', '2026-03-02T09:00:00.000Z'],
      ['20260301-021500-a1b2c3-undo-1', '2026-03-01T03:05:00.000Z'],
      ['20260301-021500-a1b2c3', '2026-03-01T02:15:00.000Z'],
    ]);
  });

  it('report', async () => {
    const doc = json(await inProject(['report', runId]));
    expect(doc.chain.ok).toBe(true);
    expect(doc.run).toMatchObject({ id: runId, status: 'waiting', waitingStep: 'forensics' });
    expect(doc.approvals).toContainEqual(
      expect.objectContaining({ step: 'isolate', decision: 'approve', via: 'approve-command', note: 'go' }),
    );
  }, 60_000);
});

describe('--json on the other commands', () => {
  const home = tempHome();

  it('validate', async () => {
    const r = await cli(['validate', 'playbooks/contain-instance.yaml', '--json'], { home, cwd: PROJECT });
    expect(r.code).toBe(0);
    expect(json(r)).toEqual([{ file: 'playbooks/contain-instance.yaml', kind: 'playbook', ok: true, errors: [] }]);
  });

  it('list and list --actions', async () => {
    const pbs = json(await cli(['list', '--json'], { home, cwd: PROJECT }));
    expect(pbs).toEqual([
      {
        id: 'contain-instance',
        title: 'Contain an instance (test)',
        file: 'playbooks/contain-instance.yaml',
        valid: true,
        controls: [
          { id: 'CC8', title: 'Data recovery capability' },
          { id: 'CC18', title: 'Incident response and management' },
        ],
        inputs: [
          { name: 'instanceId', type: 'string', required: true },
          { name: 'reason', type: 'string', required: false },
        ],
      },
    ]);
    const acts = json(await cli(['list', '--actions', '--json'], { home, cwd: PROJECT }));
    expect(acts).toContainEqual(
      expect.objectContaining({ id: 'ec2.isolate-instance', mutating: true, undo: 'ec2.restore-security-groups' }),
    );
    expect(acts.find((a: any) => a.id === 'ec2.isolate-instance').permissions).toContain('ec2:ModifyNetworkInterfaceAttribute');
  }, 60_000);

  it('show', async () => {
    const doc = json(await cli(['show', 'contain-instance', '--json'], { home, cwd: PROJECT }));
    expect(doc).toMatchObject({ id: 'contain-instance', file: 'playbooks/contain-instance.yaml' });
    expect(doc.markdown.split('\n')[0]).toMatch(/^<!-- generated by `firebreak docs`/);
    expect(doc.markdown).toContain('| `i-0abc123def4567890` | DisableApiTermination | `false` | `true` |');
  }, 60_000);

  it('docs and schemas', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fb-json-'));
    cpSync(join(PROJECT, 'playbooks'), join(dir, 'playbooks'), { recursive: true });
    const d = json(await cli(['docs', '--json'], { home, cwd: dir }));
    expect(d).toMatchObject({ ok: true, check: false });
    expect(d.files).toEqual([
      { path: 'runbooks/contain-instance.md', status: 'written' },
      { path: 'runbooks/actions.md', status: 'written' },
    ]);
    const s = json(await cli(['schemas', '--check', '--json'], { home, cwd: dir }));
    expect(s).toMatchObject({ ok: false, check: true });
    expect(s.files).toContainEqual({ path: 'schemas/playbook.schema.json', status: 'missing' });
  }, 60_000);

  it('demo (its commentary goes to stderr, the result to stdout)', async () => {
    const r = await cli(['demo', '--json'], { home, cwd: ROOT });
    const doc = json(r);
    expect(doc).toHaveProperty('runId');
    expect(doc).toHaveProperty('status');
    expect(r.stderr).toContain('demo: simulated cloud');
  }, 60_000);

  it('an error is one JSON document naming the fix', async () => {
    const r = await cli(['report', 'no-such-run', '--json', '--runs-dir', FIXTURE_RUNS], { home });
    expect(r.code).toBe(2);
    expect(json(r)).toEqual({
      error: {
        code: 'invalid-input',
        exitCode: 2,
        field: 'RUN',
        message: `no run 'no-such-run' in ${FIXTURE_RUNS}`,
        hint: 'firebreak runs   (lists run ids)',
      },
    });
  });
});
