/**
 * The generated playbook schema (`schemas/playbook.schema.json`, what editors read) checked by an
 * independent validator, Ajv: it knows every action id and every action's inputs, allows an
 * expression wherever `firebreak validate` does, and accepts every playbook `firebreak validate`
 * accepts.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { actions, actionIds } from '../../src/actions/registry.js';
import { loadPlaybook } from '../../src/playbook/load.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;

function compile(file: string) {
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false });
  addFormats(ajv);
  // An annotation VS Code and yaml-language-server read to describe each completion.
  ajv.addKeyword('markdownEnumDescriptions');
  return ajv.compile(JSON.parse(readFileSync(file, 'utf8')));
}

const validatePlaybook = compile('schemas/playbook.schema.json');

function errorsOf(doc: unknown): string[] {
  return validatePlaybook(doc) ? [] : validatePlaybook.errors!.map((e) => `${e.instancePath} ${e.message}`);
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return yamlFiles(p);
    return /\.ya?ml$/.test(name) ? [p] : [];
  });
}

/** Every playbook file of the repository and its tests (files with `start` and `steps`). */
// test/hostile holds files built to break parsers (alias bombs): not playbooks to check here.
const playbookFiles = [...yamlFiles('playbooks'), ...yamlFiles('test').filter((f) => !f.startsWith(join('test', 'hostile')))].filter(
  (f) => {
    const doc = parse(readFileSync(f, 'utf8')) as Record<string, unknown> | null;
    return doc !== null && typeof doc === 'object' && 'start' in doc && 'steps' in doc;
  },
);

function validateAccepts(file: string): boolean {
  try {
    loadPlaybook(file, { actionIds, actionInputs: (id) => actions.get(id)?.input });
    return true;
  } catch {
    return false;
  }
}
const accepted = playbookFiles.filter(validateAccepts);
const rejected = playbookFiles.filter((f) => !accepted.includes(f));

const base = (step: Record<string, unknown>) => ({ id: 'p', title: 'P', start: 's', steps: { s: step } });

describe('playbook JSON Schema in Ajv', () => {
  it('finds the shipped playbooks (all valid) and the fixture playbooks', () => {
    const shipped = playbookFiles.filter((f) => f.startsWith('playbooks/'));
    expect(shipped.length).toBeGreaterThanOrEqual(5);
    expect(accepted).toEqual(expect.arrayContaining([...shipped, 'test/cli/fixtures/project/playbooks/contain-instance.yaml']));
  });

  it.each(accepted)('accepts %s, which firebreak validate accepts', (file) => {
    expect(errorsOf(parse(readFileSync(file, 'utf8')))).toEqual([]);
  });

  // Fixtures for test-only actions: an editor flags their action ids as firebreak validate does.
  it.each(rejected)('rejects %s, which firebreak validate rejects', (file) => {
    expect(errorsOf(parse(readFileSync(file, 'utf8'))).join('\n')).toContain('action must be equal to one of the allowed values');
  });

  it('rejects a misspelt action id (ec2.isolate-instnace)', () => {
    const errors = errorsOf(base({ action: 'ec2.isolate-instnace', with: { instanceId: 'i-0123456789abcdef0' } }));
    expect(errors).toContain('/steps/s/action must be equal to one of the allowed values');
  });

  it('rejects a misspelt input of a real action (with: {instanceid: …})', () => {
    const errors = errorsOf(base({ action: 'ec2.isolate-instance', with: { instanceid: 'i-0123456789abcdef0' } }));
    expect(errors).toContain("/steps/s/with must have required property 'instanceId'");
    expect(errors).toContain('/steps/s/with must NOT have additional properties');
  });

  it('rejects a misspelt input in a map step too', () => {
    const step = { type: 'map', items: '{% $inputs.ids %}', action: 'ec2.preserve-instance', with: { instance: '{% $item %}' } };
    expect(errorsOf(base(step))).toContain('/steps/s/with must NOT have additional properties');
  });

  it('rejects a literal of the wrong shape, and a step missing the inputs its action requires', () => {
    expect(errorsOf(base({ action: 'ec2.isolate-instance', with: { instanceId: 'instance-1' } })).join('\n')).toContain(
      '/steps/s/with/instanceId must match pattern "^i-[0-9a-f]{8,17}$"',
    );
    expect(errorsOf(base({ action: 'ec2.isolate-instance' }))).toContain("/steps/s must have required property 'with'");
  });

  it.each([
    ['a whole input', { action: 'ec2.isolate-instance', with: { instanceId: '{% $inputs.instanceId %}' } }],
    [
      'a number input',
      { action: 'ec2.forensic-snapshots', with: { instanceId: 'i-0123456789abcdef0', round: '{% $steps.x.output.round + 1 %}' } },
    ],
    [
      'an item of a list',
      { action: 'ec2.deny-nacl-entries', with: { cidrs: ['198.51.100.7/32', '{% $inputs.cidr %}'], instanceId: 'i-0123456789abcdef0' } },
    ],
    [
      'a field of an object in a list',
      {
        action: 'ec2.restore-security-groups',
        with: { instanceId: 'i-0123456789abcdef0', interfaces: [{ networkInterfaceId: '{% $x %}', groups: ['sg-0123456789abcdef0'] }] },
      },
    ],
    ['a multi-line block', { action: 'core.manual-task', with: { title: 'T', instructions: '{% "a" &\n "b" %}\n' } }],
  ])('allows an expression as %s', (_, step) => {
    expect(errorsOf(base(step))).toEqual([]);
  });

  it('has one branch per registered action', () => {
    const schema = JSON.parse(readFileSync('schemas/playbook.schema.json', 'utf8'));
    const action = schema.$defs.step.anyOf.find((b: { properties: { type: { const: string } } }) => b.properties.type.const === 'action');
    expect(action.properties.action.enum).toEqual([...actionIds].sort());
    expect(action.allOf.map((b: { if: { properties: { action: { const: string } } } }) => b.if.properties.action.const)).toEqual(
      [...actionIds].sort(),
    );
  });
});

describe('config and decisions JSON Schemas in Ajv', () => {
  const config = compile('schemas/config.schema.json');
  const decisions = compile('schemas/decisions.schema.json');

  it('accepts a config and refuses a short account id and an unknown key', () => {
    expect(
      config({ guardrails: { allowedAccounts: ['123456789012'] }, notifications: { snsTopicArn: 'arn:aws:sns:us-east-1:123456789012:t' } }),
    ).toBe(true);
    expect(config({ guardrails: { allowedAccounts: ['1234'] } })).toBe(false);
    expect(config({ guardrail: {} })).toBe(false);
  });

  it.each(yamlFiles('test/fixtures/scenarios'))('accepts the decisions fixture %s', (file) => {
    expect(decisions(parse(readFileSync(file, 'utf8'))), JSON.stringify(decisions.errors)).toBe(true);
  });

  it('refuses a decision that is not a decision word', () => {
    expect(decisions({ steps: { isolate: 'approved' } })).toBe(false);
  });
});
