/**
 * `firebreak report`: the incident report of a run, from a fixed journal fixture (a real run of
 * the containment playbook in the simulated cloud, with an injected 5xx, a person's approval, a
 * resume and an undo of one step, re-journaled with fixed ids and times).
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadReport, renderReport } from '../../src/report/report.js';
import { cli, tempHome } from '../helpers/cli.js';

const RUNS = join(import.meta.dirname, '../fixtures/journals/runs');
const CONTAINED = '20260301-021500-a1b2c3';
const REFUSED = '20260302-090000-d4e5f6';

describe('report model', () => {
  const model = loadReport(CONTAINED, { runsDir: RUNS });

  it('verifies the hash chain first and says it is intact', () => {
    expect(model.chain).toMatchObject({ ok: true, events: 61 });
  });

  it('names who acted: the STS identity, the OS user, who resumed and who approved and how', () => {
    expect(model.who).toEqual({
      sts: { arn: 'arn:aws:iam::111122223333:user/oncall-responder', account: '111122223333', userId: 'AIDAEXAMPLEONCALL0001' },
      os: 'bob@oncall-01',
      resumedBy: [{ ts: '2026-03-01T02:26:08.738Z', os: 'bob@oncall-01' }],
    });
    expect(model.approvals.map((a) => [a.step, a.decision, a.by, a.via])).toEqual([
      ['preserve', 'approve', 'policy', 'policy'],
      ['preserve', 'approve', 'policy', 'policy'],
      ['isolate', 'approve', 'policy', 'policy'],
      ['forensics', 'approve', 'alice@soc-laptop', 'approve-command'],
    ]);
  });

  it('shows each change with before and after, and the applied output', () => {
    const isolate = model.changes.find((c) => c.step === 'isolate')!;
    expect(isolate.status).toBe('applied');
    expect(isolate.changes.filter((c) => c.field === 'security groups').map((c) => [c.before, c.after])).toEqual([
      [['sg-0123456789abcdef0'], ['firebreak-isolation (new)']],
      [['sg-0aaaabbbbccccdddd'], ['firebreak-isolation (new)']],
    ]);
    expect(isolate.output).toMatchObject({ isolationGroupId: 'sg-755c9f182da5061f1' });
    expect(isolate.verified?.ok).toBe(true);
  });

  it('lists failures (the retried 5xx) and the undo state of every step with an undo', () => {
    expect(model.failures).toEqual([expect.objectContaining({ step: 'preserve', kind: 'retried (1/3)', code: 'InternalError' })]);
    expect(model.undo.map((u) => [u.step, u.undoAction, u.state, u.undoRun])).toEqual([
      ['preserve', 'ec2.disable-termination-protection', 'not undone', undefined],
      ['isolate', 'ec2.restore-security-groups', 'undone (applied)', `${CONTAINED}-undo-1`],
    ]);
    expect(model.run).toMatchObject({
      status: 'succeeded',
      started: '2026-03-01T02:15:00.000Z',
      ended: '2026-03-01T02:26:09.044Z',
      duration: '11m 9s',
    });
  });

  it('reports a refused run: the guardrail failure and nothing applied', () => {
    const refused = loadReport(REFUSED, { runsDir: RUNS });
    expect(refused.run.status).toBe('failed');
    expect(refused.failures.map((f) => f.code)).toEqual(['GuardrailRefusal', 'GuardrailRefusal']);
    expect(refused.changes.every((c) => c.applied === undefined)).toBe(true);
    expect(refused.undo).toEqual([]);
  });
});

describe('rendered report', () => {
  const model = loadReport(CONTAINED, { runsDir: RUNS });

  it('as Markdown', async () => {
    const md = renderReport(model, 'md');
    await expect(md).toMatchFileSnapshot('__snapshots__/contained-report.md');
    expect(md).toContain('> **Journal verified:** hash chain intact — 61 events');
    // Journal text is escaped: it cannot open an HTML tag or break a table row.
    expect(md).toContain('memory image taken with AVML; \\<script\\>alert(1)\\</script\\> \\| pipes');
    expect(md).not.toMatch(/<script>/);
  });

  it('as a self-contained HTML page: inline CSS, no scripts, no external assets, journal text escaped', async () => {
    const html = renderReport(model, 'html');
    await expect(html).toMatchFileSnapshot('__snapshots__/contained-report.html');
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toContain('<style>');
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(|src=|href=/i);
    expect(html).toContain('memory image taken with AVML; &lt;script&gt;alert(1)&lt;/script&gt; | pipes');
    expect(html).toContain('Journal verified: hash chain intact');
  });
});

describe('firebreak report (CLI)', () => {
  it('writes HTML to --out and prints a JSON summary with --json', async () => {
    const home = tempHome();
    const out = join(mkdtempSync(join(tmpdir(), 'fb-report-')), 'report.html');
    const r = await cli(['report', CONTAINED, '--runs-dir', RUNS, '--format', 'html', '--out', out, '--json'], { home });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ runId: CONTAINED, format: 'html', file: out, chain: { ok: true, events: 61 } });
    expect(readFileSync(out, 'utf8')).toBe(renderReport(loadReport(CONTAINED, { runsDir: RUNS }), 'html'));
  });

  it('refuses a journal that is not intact (exit 1) unless --allow-broken, and then says so in the report and on stderr', async () => {
    const home = tempHome();
    const runs = mkdtempSync(join(tmpdir(), 'fb-runs-'));
    cpSync(join(RUNS, CONTAINED), join(runs, CONTAINED), { recursive: true });
    const file = join(runs, CONTAINED, 'journal.jsonl');
    const lines = readFileSync(file, 'utf8').split('\n');
    lines[52] = lines[52]!.replace('alice@soc-laptop', 'mallory@elsewhere'); // who approved, rewritten
    writeFileSync(file, lines.join('\n'));
    const refused = await cli(['report', CONTAINED, '--runs-dir', runs], { home });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain(
      `error: failed to report run ${CONTAINED}: its journal is not intact: line 53: changed after it was written`,
    );
    expect(refused.stderr).toContain(`--allow-broken`);
    const r = await cli(['report', CONTAINED, '--runs-dir', runs, '--allow-broken'], { home });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\*\*WARNING — journal NOT intact:\*\* line 53: changed after it was written/);
    expect(r.stderr).toContain(`warning: the journal of run ${CONTAINED} is not intact`);
  });

  it.each([
    [['report', CONTAINED, '--format', 'pdf'], 2, /unknown report format 'pdf': use md or html/],
    [['report', 'no-such-run'], 2, /no run 'no-such-run'/],
  ])('refuses %j with exit %i', async (args, code, message) => {
    const r = await cli([...args, '--runs-dir', RUNS], { home: tempHome() });
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/fix: firebreak/);
  });
});
