/**
 * Each command's real `--json` output, checked by an independent validator (Ajv) against the
 * schema `firebreak schemas` writes to schemas/output/: one shape per command, one error shape.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, ROOT, tempHome } from '../helpers/cli.js';

const PROJECT = join(import.meta.dirname, 'fixtures/project');
const FIXTURE_RUNS = join(import.meta.dirname, '../fixtures/journals/runs');
const dir = join(ROOT, 'schemas/output');
const ajv = new Ajv2020({ allErrors: true, strict: false });
const schemas = Object.fromEntries(
  readdirSync(dir).map((f) => [f.replace('.schema.json', ''), ajv.compile(JSON.parse(readFileSync(join(dir, f), 'utf8')))]),
);

function expectShape(name: string, stdout: string): any {
  const doc = JSON.parse(stdout);
  const check = schemas[name]!;
  expect(check(doc), `${name}: ${ajv.errorsText(check.errors)}\n${stdout.slice(0, 2000)}`).toBe(true);
  return doc;
}

describe('--json output matches schemas/output/*.schema.json', () => {
  const home = tempHome();
  const runsDir = ['--runs-dir', FIXTURE_RUNS];
  let runId = '';

  beforeAll(async () => {
    const r = await cli(['run', 'contain-instance', '--sim', '--auto', '--input', 'instanceId=i-0abc123def4567890', '--json'], {
      home,
      cwd: PROJECT,
    });
    expect(r.code, r.stderr).toBe(3);
    runId = expectShape('run', r.stdout).runId;
  }, 60_000);

  it('rejects a document of another shape (the schemas are not open maps)', () => {
    expect(schemas.run!({ runId: 'x', status: 'waiting' })).toBe(false);
    // A run's own reason for stopping is not `error`: a script reads a top-level `error` as the command failing.
    const waiting = { runId: 'x', status: 'waiting', outcome: null, waitingStep: 's', runDir: 'd' };
    expect(schemas.run!({ ...waiting, stopReason: { code: 'WaitingForApproval', message: 'm' } })).toBe(true);
    expect(schemas.run!({ ...waiting, error: { code: 'WaitingForApproval', message: 'm' } })).toBe(false);
    expect(schemas.error!({ error: { code: 2, message: 'x' } })).toBe(false);
    expect(schemas.validate!([{ file: 'a', kind: 'playbook', ok: false, errors: ['a.yaml:1:1: bad'] }])).toBe(false);
  });

  it.each([
    ['version', ['--version', '--json']],
    ['version', ['-V', '--json']],
    ['list', ['list', '--json']],
    ['list', ['list', '--actions', '--json']],
    ['runs', ['runs', '--json', ...runsDir]],
    ['generated', ['schemas', '--check', '--json']],
  ])('%s: firebreak %s', async (name, args) => {
    const r = await cli(args, { home, cwd: name === 'list' ? PROJECT : ROOT });
    expect(r.code, r.stderr).toBe(0);
    expectShape(name, r.stdout);
  });

  it.each([
    ['show', ['show', 'ec2-instance-compromise', '--json']],
    ['iam-policy', ['iam-policy', 'ec2-instance-compromise', '--with-undo', '--json']],
    ['sfn', ['sfn', 'ec2-instance-compromise', '--json']],
    ['deploy-template', ['deploy-template', '--json']],
    ['report', ['report', 'RUN', '--json']],
  ])(
    '%s: firebreak %s',
    async (name, args) => {
      const r = await cli(
        args.map((a) => (a === 'RUN' ? runId : a)),
        { home, cwd: ROOT },
      );
      expect(r.code, r.stderr).toBe(0);
      expectShape(name, r.stdout);
    },
    30_000,
  );

  it('files written with --out, and --json says where', async () => {
    const d = mkdtempSync(join(tmpdir(), 'fb-json-out-'));
    const sfn = expectShape(
      'sfn',
      (await cli(['sfn', 'ec2-instance-compromise', '--out', join(d, 'asl.json'), '--json'], { home, cwd: ROOT })).stdout,
    );
    expect(JSON.parse(readFileSync(sfn.file, 'utf8'))).toEqual(sfn.definition);
    const dt = expectShape('deploy-template', (await cli(['deploy-template', '--out', d, '--json'], { home, cwd: ROOT })).stdout);
    expect(readFileSync(dt.file, 'utf8').length).toBe(dt.bytes);
    const rep = await cli(['report', runId, '--out', join(d, 'r.html'), '--format', 'html', '--json'], { home, cwd: ROOT });
    expect(rep.code, rep.stderr).toBe(0);
    expect(readFileSync(expectShape('report-written', rep.stdout).file, 'utf8')).toMatch(/^<!doctype html>/i);
    const pkg = await cli(['package', '--out', d, '--json'], { home, cwd: ROOT });
    expect(pkg.code, pkg.stderr).toBe(0);
    expect(statSync(expectShape('package', pkg.stdout).file).size).toBe(JSON.parse(pkg.stdout).bytes);
  }, 120_000);

  it('trigger and tabletop', async () => {
    const t = await cli(['trigger', '--event', 'bench/fixtures/guardduty-finding.json', '--sim', '--json'], { home, cwd: ROOT });
    const [started] = expectShape('trigger', t.stdout);
    expect(started).toMatchObject({ outcome: 'started' });
    const d = mkdtempSync(join(tmpdir(), 'fb-json-tabletop-'));
    const tt = await cli(['tabletop', 'scenarios/ssh-brute-force.yaml', '--auto', '--out', d, '--json'], { home, cwd: ROOT });
    expect(tt.code, tt.stderr).toBe(0);
    expect(expectShape('tabletop', tt.stdout).files.json).toBe(join(d, 'result.json'));
  }, 180_000);

  it('approve, then audit show and audit verify of that run', async () => {
    const a = await cli(['approve', runId, 'isolate', '--json'], { home, cwd: PROJECT });
    expect(a.code, a.stderr).toBe(0);
    expectShape('approve', a.stdout);
    const show = await cli(['audit', 'show', runId, '--json'], { home });
    expect(expectShape('audit-show', show.stdout)[0].type).toBe('run.started');
    expectShape('audit-verify', (await cli(['audit', 'verify', runId, '--json'], { home })).stdout);
    // Each resume stops at the next step a person must confirm, until the run ends.
    let doc = { status: 'waiting', waitingStep: 'isolate', stopReason: null as unknown };
    for (let i = 0; i < 5 && doc.status === 'waiting'; i++) {
      if (i > 0) expect((await cli(['approve', runId, doc.waitingStep, '--note', 'done', '--json'], { home, cwd: PROJECT })).code).toBe(0);
      const resumed = await cli(['resume', runId, '--auto', '--json'], { home, cwd: PROJECT });
      doc = expectShape('run', resumed.stdout);
      if (doc.status === 'waiting') expect(doc.stopReason).toMatchObject({ code: 'WaitingForApproval' });
    }
    expect(doc).toMatchObject({ status: 'succeeded', stopReason: null });
    const undone = await cli(['undo', runId, '--auto', '--json'], { home, cwd: PROJECT });
    expect(undone.code, undone.stderr).toBe(0);
    expect(expectShape('run', undone.stdout).runId).not.toBe(runId);
  }, 60_000);

  it('demo prints the run document', async () => {
    const r = await cli(['demo', '--json'], { home, cwd: ROOT });
    expect(r.code, r.stderr).toBe(0);
    expect(expectShape('run', r.stdout)).toMatchObject({ status: 'succeeded', stopReason: null });
  }, 60_000);

  it('validate: errors as {file, line, column, field, message}', async () => {
    const d = mkdtempSync(join(tmpdir(), 'fb-validate-'));
    writeFileSync(
      join(d, 'bad-config.yaml'),
      '# yaml-language-server: $schema=../schemas/config.schema.json\nguardrails:\n  allowedAccounts: ["1234"]\n',
    );
    const r = await cli(['validate', 'bad-config.yaml', '--json'], { home, cwd: d });
    expect(r.code).toBe(2);
    const [doc] = expectShape('validate', r.stdout);
    expect(doc.errors[0]).toMatchObject({ file: 'bad-config.yaml', line: 3, field: 'guardrails.allowedAccounts[0]' });
    expect(doc.errors[0].column).toBeGreaterThan(0);
    expect(doc.errors[0].message).toMatch(/12-digit AWS account id/);
  });

  it.each([
    ['usage', 2, ['runs', '--no-such-option', '--json']],
    ['invalid-input', 2, ['report', 'no-such-run', '--json', ...runsDir]],
    ['invalid-input', 2, ['run', 'contain-instance', '--sim', '--auto', '--input', 'instanceId=nope', '--json']],
    ['usage', 2, ['validate', '--json']],
  ])('one error shape: %s (exit %i) from firebreak %s', async (code, exitCode, args) => {
    const r = await cli(args as string[], { home, cwd: PROJECT });
    expect(r.code, r.stderr).toBe(exitCode);
    const doc = expectShape('error', r.stdout);
    expect(doc.error).toMatchObject({ code, exitCode });
  });
});
