/**
 * Bad scenarios and bad decisions files are rejected before anything runs, each problem with the
 * file, line and column of the field, and the shipped scenarios all load.
 */
import { writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { loadDecisions } from '../../src/tabletop/decisions.js';
import { loadScenario, loadScenarioText } from '../../src/tabletop/load.js';
import { scenarioJsonSchema } from '../../src/tabletop/scenario.js';
import { CRYPTO_FINDING, ONE_INSTANCE_WORLD } from './helpers.js';

const MINI = `id: mini
title: Mini
${ONE_INSTANCE_WORLD}
attacker:
  addresses: [203.0.113.66]
  credentials:
    leaked: { accessKeyId: AKIAIOSFODNN7LEAKED1 }
timeline:
  - at: 1m
    id: probe
    attacker:
      connect: { instance: i-0c0ffee0000000001, port: 22 }
  - at: 2m
    id: use
    attacker:
      call: { with: leaked, service: ec2, operation: DescribeInstances }
  - at: 3m
    id: finding
${CRYPTO_FINDING}
      playbook: ec2-instance-compromise
      inputs: { instanceId: i-0c0ffee0000000001 }
objectives:
  - id: stopped
    title: The probe fails
    from: probe
    attack-stopped: { inject: probe }
`;

/** MINI with line `n` (1-based) replaced by `lines`. */
function edit(n: number, ...lines: string[]): string {
  const all = MINI.split('\n');
  all.splice(n - 1, 1, ...lines);
  return all.join('\n');
}

async function rejection(text: string): Promise<InputError> {
  const err = await loadScenarioText(text, 'bad.yaml').then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InputError);
  return err as InputError;
}

describe('scenario files', () => {
  it('the minimal scenario loads', async () => {
    const s = await loadScenarioText(MINI, 'mini.yaml');
    expect(s.scenario.timeline.length).toBe(3);
    expect(s.start.toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });

  it.each([
    ['a typo in an inject kind', edit(18, '    attakcer:'), /unknown field 'attakcer' \(did you mean 'attacker'\?\)/, 18, 5],
    ['a duration without a unit it knows', edit(16, '  - at: 5 minutes'), /a duration such as 30s, 15m or 2h/, 16, 9],
    [
      'an instance the world does not have',
      edit(19, '      connect: { instance: i-0c0ffee0000000099, port: 22 }'),
      /no instance 'i-0c0ffee0000000099' in the world/,
      19,
      28,
    ],
    [
      'a credential the attacker does not hold',
      edit(23, '      call: { with: stolen, service: ec2, operation: DescribeInstances }'),
      /the attacker holds no credential named 'stolen'/,
      23,
      21,
    ],
    [
      'an API operation the SDK does not have',
      edit(23, '      call: { with: leaked, service: ec2, operation: DescribeInstance }'),
      /ec2 has no operation 'DescribeInstance'/,
      23,
      54,
    ],
    ['two kinds in one inject', edit(17, '    id: probe', '    note: hello'), /an inject has both 'attacker' and 'note'/, 18, 11],
    [
      'an objective counted from an unknown inject',
      edit(36, '    from: probee'),
      /'probee' is not first-alert, start or an inject id \(did you mean 'probe'\?\)/,
      36,
      11,
    ],
    [
      'attack-stopped naming an alert',
      edit(37, '    attack-stopped: { inject: finding }'),
      /inject 'finding' is not an attacker action/,
      37,
      31,
    ],
    ['a playbook that does not exist', edit(31, '      playbook: no-such-playbook'), /unknown playbook 'no-such-playbook'/, 31, 17],
    ['a playbook input that does not validate', edit(32, '      inputs: { instanceId: web-1 }'), /invalid input 'instanceId'/, 32, 29],
    [
      'an inline world with an unknown field',
      edit(9, '    instancez: []'),
      /unknown field 'instancez' \(did you mean 'instances'\?\)/,
      9,
      5,
    ],
    ['a YAML syntax error', edit(2, 'title: [Mini'), /failed to parse YAML/, 3, 1],
  ])('rejects %s with file:line:col', async (_name, text, message, line, col) => {
    const err = await rejection(text);
    const all = [err, ...err.more];
    const hit = all.find((e) => message.test(e.message));
    expect(hit, all.map((e) => e.line).join('\n')).toBeDefined();
    expect(hit!.pos).toEqual({ file: 'bad.yaml', line, col });
  });

  it.each(['crypto-mining', 'instance-credential-exfiltration', 'member-account-crypto-mining', 'ssh-brute-force'])(
    'shipped scenario %s loads, names its schema on line 1, and every inject fires inside its duration',
    async (name) => {
      const s = await loadScenario(`scenarios/${name}.yaml`);
      const { readFileSync } = await import('node:fs');
      expect(readFileSync(`scenarios/${name}.yaml`, 'utf8').split('\n')[0]).toBe(
        '# yaml-language-server: $schema=../schemas/scenario.schema.json',
      );
      expect(s.durationMs).toBeGreaterThan(0);
      expect(s.playbooks.size).toBeGreaterThanOrEqual(name === 'ssh-brute-force' ? 0 : 1);
    },
  );

  it('exports a JSON Schema for editors', () => {
    const schema = scenarioJsonSchema() as { properties: Record<string, unknown>; required: string[] };
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['world', 'timeline', 'objectives', 'attacker', 'expect']));
    expect(schema.required).toEqual(expect.arrayContaining(['id', 'title', 'world', 'timeline', 'objectives']));
  });
});

describe('decisions files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-decisions-'));
  const write = (name: string, text: string) => {
    const f = join(dir, name);
    writeFileSync(f, text);
    return f;
  };

  it.each([
    [
      'a step no playbook has',
      'steps:\n  isolat: approve\n',
      /no playbook of this scenario has a step 'isolat' \(did you mean 'isolate'\?\)/,
      2,
      3,
    ],
    [
      'done for a step that changes the cloud',
      'steps:\n  isolate: done\n',
      /step 'isolate' changes the cloud: answer approve, skip or abort/,
      2,
      12,
    ],
    ['approve for a manual task', 'steps:\n  forensics: approve\n', /step 'forensics' is a manual task: answer done, skip or abort/, 2, 14],
    [
      'instead without skip',
      'steps:\n  isolate:\n    decision: approve\n    instead: { call: { service: ec2, operation: DescribeInstances } }\n',
      /'instead' goes with decision: skip/,
      4,
      14,
    ],
    [
      'an unknown action',
      'actions:\n  - at: 5m\n    action: ec2.isolate-instanse\n',
      /unknown action 'ec2.isolate-instanse' \(did you mean 'ec2.isolate-instance'\?\)/,
      3,
      13,
    ],
    [
      'action inputs that do not validate',
      'actions:\n  - at: 5m\n    action: ec2.isolate-instance\n    with: { instanceId: web-1 }\n',
      /an EC2 instance id/,
      4,
      25,
    ],
    ['another scenario', 'scenario: ssh-brute-force\n', /these decisions are for scenario 'ssh-brute-force', not 'crypto-mining'/, 1, 11],
  ])('rejects %s with file:line:col', async (_name, text, message, line, col) => {
    const scenario = await loadScenario('scenarios/crypto-mining.yaml');
    const file = write(`${_name.replace(/\W+/g, '-')}.yaml`, text);
    const err = await loadDecisions(file, scenario).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InputError);
    const all = [err as InputError, ...(err as InputError).more];
    const hit = all.find((e) => message.test(e.message));
    expect(hit, all.map((e) => e.line).join('\n')).toBeDefined();
    expect(hit!.pos).toEqual({ file, line, col });
  });
});
