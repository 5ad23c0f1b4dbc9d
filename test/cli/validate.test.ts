/**
 * `firebreak validate` checks each file by its kind — told by its schema line, or its shape — with
 * the loader a run uses; a file of no known kind is an error naming the file, never its content.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kindFromSchemaLine, kindFromShape, kindOf } from '../../src/docs/file-kind.js';
import { cli, tempHome } from '../helpers/cli.js';

const home = tempHome();

function files(entries: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'fb-validate-'));
  for (const [name, text] of Object.entries(entries)) writeFileSync(join(dir, name), text);
  return dir;
}

describe('file kinds', () => {
  it.each([
    ['# yaml-language-server: $schema=../schemas/playbook.schema.json\nid: x', 'playbook'],
    ['# yaml-language-server: $schema=schemas/routes.schema.json', 'routes'],
    ['#\n# yaml-language-server: $schema=urn:firebreak:schema:decisions\n', 'decisions'],
    ['# yaml-language-server: $schema=https://example.com/schemas/config.schema.json', 'config'],
  ])('the schema line of %j names %s', (text, kind) => {
    expect(kindFromSchemaLine(text)).toBe(kind);
  });

  it('reads the schema line only among the opening comments, and only for known schemas', () => {
    expect(kindFromSchemaLine('id: x\n# yaml-language-server: $schema=schemas/routes.schema.json')).toBeUndefined();
    expect(kindFromSchemaLine('# yaml-language-server: $schema=schemas/other.schema.json')).toBeUndefined();
  });

  it.each([
    [['id', 'title', 'start', 'steps'], 'playbook'],
    [['id', 'title', 'steps'], 'playbook'],
    [['routes'], 'routes'],
    [['id', 'title', 'world', 'start', 'timeline', 'objectives'], 'scenario'],
    [['account', 'region', 'ec2'], 'world'],
    [['guardrails'], 'config'],
    [['notifications', 'region'], 'config'],
    [['scenario', 'steps'], 'decisions'],
    [['actions', 'expect'], 'decisions'],
    [['region'], undefined],
    [['name', 'version'], undefined],
  ])('top-level keys %j are a %s', (keys, kind) => {
    expect(kindFromShape(keys)).toBe(kind);
  });

  it('tells a file that does not parse by its schema line only', () => {
    expect(kindOf('steps: [\n')).toBeUndefined();
    expect(kindOf('# yaml-language-server: $schema=../schemas/playbook.schema.json\nsteps: [\n')).toEqual({
      kind: 'playbook',
      by: 'schema line',
    });
  });
});

describe('firebreak validate', () => {
  it('passes the repository routes, scenarios, playbooks and world, each by its kind', async () => {
    const args = [
      'routes.yaml',
      'scenarios/crypto-mining.yaml',
      'scenarios/ssh-brute-force.yaml',
      'playbooks/ec2-instance-compromise.yaml',
      'worlds/demo.yaml',
    ];
    const r = await cli(['validate', ...args, '--json'], { home });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([
      { file: 'routes.yaml', kind: 'routes', ok: true, errors: [] },
      { file: 'scenarios/crypto-mining.yaml', kind: 'scenario', ok: true, errors: [] },
      { file: 'scenarios/ssh-brute-force.yaml', kind: 'scenario', ok: true, errors: [] },
      { file: 'playbooks/ec2-instance-compromise.yaml', kind: 'playbook', ok: true, errors: [] },
      { file: 'worlds/demo.yaml', kind: 'world', ok: true, errors: [] },
    ]);
  });

  it('checks a config and a decisions file, and names file, line and field of a bad one', async () => {
    const dir = files({
      'firebreak.config.yaml':
        'guardrails:\n  allowedAccounts: ["123456789012"]\nnotifications:\n  snsTopicArn: arn:aws:sns:us-east-1:123456789012:firebreak\n',
      'decisions.yaml': 'steps:\n  isolate: approve\n  support: { decision: skip, minutes: 5 }\n',
      'bad-config.yaml': '# yaml-language-server: $schema=../schemas/config.schema.json\nguardrails:\n  allowedAccounts: ["1234"]\n',
      'bad-decisions.yaml': 'scenario: crypto-mining\nsteps:\n  isolate: approved\n',
    });
    const good = await cli(['validate', 'firebreak.config.yaml', 'decisions.yaml'], { home, cwd: dir });
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toBe('ok  firebreak.config.yaml (config)\nok  decisions.yaml (decisions)\n');

    const bad = await cli(['validate', 'bad-config.yaml', 'bad-decisions.yaml'], { home, cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: bad-config\.yaml:3:\d+: guardrails\.allowedAccounts\[0\]: .*12-digit AWS account id/m);
    expect(bad.stderr).toMatch(/^error: bad-decisions\.yaml:3:\d+: steps\.isolate: /m);
  });

  it('follows the schema line over the shape', async () => {
    const dir = files({
      'pb.yaml': '# yaml-language-server: $schema=schemas/routes.schema.json\nid: x\ntitle: X\nstart: a\nsteps: { a: { type: end } }\n',
    });
    const r = await cli(['validate', 'pb.yaml'], { home, cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: pb.yaml:2:1: routes: missing required field 'routes' (a list)");
  });

  it('refuses a file of no known kind, naming the file and not echoing its content', async () => {
    const dir = files({ 'notes.yaml': 'password: hunter2-not-for-logs\nowner: ops\n', 'broken.yaml': 'steps: [\n' });
    const r = await cli(['validate', 'notes.yaml', 'broken.yaml'], { home, cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(
      'error: failed to validate notes.yaml: not a Firebreak file of a known kind (playbook, routes, scenario, world, config, decisions)',
    );
    expect(r.stderr).toContain(
      "  fix: add a first line naming its schema, e.g. '# yaml-language-server: $schema=schemas/playbook.schema.json'",
    );
    expect(r.stderr).toMatch(/^error: broken\.yaml:2:1: failed to parse YAML/m);
    expect(r.stderr).not.toContain('hunter2');
  });
});
