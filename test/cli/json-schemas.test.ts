/**
 * Each command's real `--json` output, checked by an independent validator (Ajv) against the
 * schema `firebreak schemas` writes to schemas/output/: one shape per command, one error shape.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
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

  it('approve, then audit show and audit verify of that run', async () => {
    const a = await cli(['approve', runId, 'isolate', '--json'], { home, cwd: PROJECT });
    expect(a.code, a.stderr).toBe(0);
    expectShape('approve', a.stdout);
    const show = await cli(['audit', 'show', runId, '--json'], { home });
    expect(expectShape('audit-show', show.stdout)[0].type).toBe('run.started');
    expectShape('audit-verify', (await cli(['audit', 'verify', runId, '--json'], { home })).stdout);
  }, 30_000);

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
