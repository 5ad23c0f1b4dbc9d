import { describe, expect, it } from 'vitest';
import { EXIT, InputError } from '../../src/core/errors.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { parseInputArgs, validateInputs, type InputDecls } from '../../src/playbook/inputs.js';
import { LOAD_OPTS } from './actions.js';

const DECLS: InputDecls = {
  instanceId: { type: 'string', pattern: '^i-[0-9a-f]{8,17}$', required: true },
  cidrs: { type: 'string[]', pattern: '^\\d+\\.\\d+\\.\\d+\\.\\d+/\\d+$', required: false, default: [] },
  severity: { type: 'number', required: false, default: 5 },
  openCase: { type: 'boolean', required: false, default: true },
  note: { type: 'string', required: false },
};

function thrown(fn: () => unknown): InputError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).exitCode).toBe(EXIT.invalid);
    return err as InputError;
  }
  throw new Error('expected an InputError');
}

describe('parseInputArgs', () => {
  it.each([
    [['instanceId=i-0123456789abcdef0'], { instanceId: 'i-0123456789abcdef0' }],
    [['cidrs=198.51.100.0/24,203.0.113.0/24'], { cidrs: ['198.51.100.0/24', '203.0.113.0/24'] }],
    [['cidrs= 198.51.100.0/24 , '], { cidrs: ['198.51.100.0/24'] }],
    [['cidrs=["198.51.100.0/24","203.0.113.0/24"]'], { cidrs: ['198.51.100.0/24', '203.0.113.0/24'] }],
    [['cidrs='], { cidrs: [] }],
    [['severity=7.5'], { severity: 7.5 }],
    [['openCase=false'], { openCase: false }],
    [['note=a=b, c'], { note: 'a=b, c' }],
  ])('%j → %j', (args, expected) => {
    expect(parseInputArgs(args, DECLS)).toEqual(expected);
  });

  it.each([
    [['instanceId'], "failed to read input 'instanceId': expected name=value", undefined],
    [['instanceID=i-0123456789abcdef0'], "unknown input 'instanceID' (did you mean 'instanceId'?)", 'inputs.instanceID'],
    [['severity=high'], "failed to read input 'severity': expected a number, got 'high'", 'inputs.severity'],
    [['severity='], "failed to read input 'severity': expected a number, got ''", 'inputs.severity'],
    [['openCase=yes'], "failed to read input 'openCase': expected true or false, got 'yes'", 'inputs.openCase'],
    [['cidrs=["a",'], /^failed to read input 'cidrs': expected a JSON array of strings: /, 'inputs.cidrs'],
    [['note=a', 'note=b'], "input 'note' is given more than once", 'inputs.note'],
    [['__proto__=x'], "unknown input '__proto__'", 'inputs.__proto__'],
    [['constructor=x'], "unknown input 'constructor'", 'inputs.constructor'],
  ])('rejects %j', (args, message, field) => {
    const err = thrown(() => parseInputArgs(args, DECLS, { file: 'pb.yaml' }));
    if (typeof message === 'string') expect(err.message).toBe(message);
    else expect(err.message).toMatch(message);
    expect(err.field).toBe(field);
  });

  it('lists the inputs a playbook has when a name is unknown', () => {
    const err = thrown(() => parseInputArgs(['zzz=1'], DECLS, { file: 'pb.yaml' }));
    expect(err.hint).toBe('inputs of pb.yaml: instanceId, cidrs, severity, openCase, note');
  });
});

describe('validateInputs', () => {
  it('fills defaults and keeps given values', () => {
    const given = { instanceId: 'i-0123456789abcdef0', cidrs: ['198.51.100.0/24'] };
    const out = validateInputs(given, DECLS, 'pb.yaml');
    expect(out).toEqual({ instanceId: 'i-0123456789abcdef0', cidrs: ['198.51.100.0/24'], severity: 5, openCase: true });
    expect(given).toEqual({ instanceId: 'i-0123456789abcdef0', cidrs: ['198.51.100.0/24'] });
  });

  it('does not let the result share a default list with the declaration', () => {
    const out = validateInputs({ instanceId: 'i-0123456789abcdef0' }, DECLS);
    (out.cidrs as string[]).push('x');
    expect(DECLS.cidrs!.default).toEqual([]);
  });

  it.each([
    [{}, "missing required input 'instanceId'", 'inputs.instanceId'],
    [{ instanceId: 'i-XYZ' }, "invalid input 'instanceId': 'i-XYZ' does not match the pattern ^i-[0-9a-f]{8,17}$", 'inputs.instanceId'],
    // The pattern is anchored as written, so a longer id with the right prefix is refused too.
    [
      { instanceId: 'i-0123456789abcdef0-extra' },
      "invalid input 'instanceId': 'i-0123456789abcdef0-extra' does not match the pattern ^i-[0-9a-f]{8,17}$",
      'inputs.instanceId',
    ],
    [{ instanceId: 42 }, "invalid input 'instanceId': expected a string, got 42", 'inputs.instanceId'],
    [
      { instanceId: 'i-0123456789abcdef0', cidrs: '198.51.100.0/24' },
      "invalid input 'cidrs': expected a list of strings, got '198.51.100.0/24'",
      'inputs.cidrs',
    ],
    [
      { instanceId: 'i-0123456789abcdef0', cidrs: ['198.51.100.0/24', 'evil'] },
      "invalid input 'cidrs': item 2 'evil' does not match the pattern ^\\d+\\.\\d+\\.\\d+\\.\\d+/\\d+$",
      'inputs.cidrs',
    ],
    [{ instanceId: 'i-0123456789abcdef0', severity: '7' }, "invalid input 'severity': expected a number, got '7'", 'inputs.severity'],
    [
      { instanceId: 'i-0123456789abcdef0', openCase: 'true' },
      "invalid input 'openCase': expected true or false, got 'true'",
      'inputs.openCase',
    ],
    [{ instanceId: 'i-0123456789abcdef0', instance: 'x' }, "unknown input 'instance' (did you mean 'instanceId'?)", 'inputs.instance'],
  ])('rejects %j', (values, message, field) => {
    const err = thrown(() => validateInputs(values, DECLS, 'pb.yaml'));
    expect(err.message).toBe(message);
    expect(err.field).toBe(field);
    expect(err.pos).toBeUndefined();
  });

  it('refuses an input named like an Object property', () => {
    const err = thrown(() => validateInputs(JSON.parse('{"__proto__": "x", "instanceId": "i-0123456789abcdef0"}'), DECLS, 'pb.yaml'));
    expect(err.message).toBe("unknown input '__proto__'");
  });

  it('reports every bad input at once', () => {
    const err = thrown(() => validateInputs({ severity: 'x', extra: 1 }, DECLS, 'pb.yaml'));
    expect([err, ...err.more].map((e) => e.field).sort()).toEqual(['inputs.extra', 'inputs.instanceId', 'inputs.severity']);
  });

  it('points at the playbook when a declaration is wrong', () => {
    const loaded = loadPlaybook('test/fixtures/playbooks/ec2-instance-compromise.yaml', LOAD_OPTS);
    const decls: InputDecls = { ...loaded.playbook.inputs, severity: { type: 'number', required: false, default: 'high' } };
    const err = thrown(() => validateInputs({ instanceId: 'i-0123456789abcdef0' }, decls, loaded));
    expect(err.line).toBe(
      "test/fixtures/playbooks/ec2-instance-compromise.yaml:19:14: inputs.severity.default: invalid default for input 'severity': expected a number, got 'high'",
    );
  });

  it('reports a pattern that is not a regular expression', () => {
    const err = thrown(() => validateInputs({ x: 'a' }, { x: { type: 'string', required: false, pattern: '(' } }, 'pb.yaml'));
    expect(err.line).toBe(
      "pb.yaml:1:1: inputs.x.pattern: input 'x' declares an invalid pattern: Invalid regular expression: /(/: Unterminated group",
    );
  });

  it('turns command-line arguments into the run inputs of the fixture', () => {
    const loaded = loadPlaybook('test/fixtures/playbooks/ec2-instance-compromise.yaml', LOAD_OPTS);
    const decls = loaded.playbook.inputs;
    const values = validateInputs(
      parseInputArgs(['instanceId=i-0123456789abcdef0', 'cidrs=198.51.100.0/24', 'severity=9'], decls, loaded),
      decls,
      loaded,
    );
    expect(values).toEqual({ instanceId: 'i-0123456789abcdef0', cidrs: ['198.51.100.0/24'], severity: 9, openCase: true });
  });
});
