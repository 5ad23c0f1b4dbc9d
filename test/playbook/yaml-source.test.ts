import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InputError } from '../../src/core/errors.js';
import { didYouMean, dottedPath, parseYamlSource, validateWith } from '../../src/core/yaml-source.js';

const TEXT = [
  'name: web', //          1
  'ports: [80, 443]', //   2
  'tags:', //              3
  '  - Key: env', //       4
  '    Value: prod', //    5
  'empty:', //             6
  'nested:', //            7
  '  inner:', //           8
  '    leaf: "x"', //      9
].join('\n');

describe('parseYamlSource', () => {
  const src = parseYamlSource(TEXT, 'w.yaml');

  it('gives the plain value', () => {
    expect(src.value).toEqual({
      name: 'web',
      ports: [80, 443],
      tags: [{ Key: 'env', Value: 'prod' }],
      empty: null,
      nested: { inner: { leaf: 'x' } },
    });
  });

  it.each([
    [['name'], 1, 7],
    [['ports'], 2, 8], // a flow list points at its value
    [['ports', 1], 2, 13],
    [['tags'], 3, 1], // a block list points at its key
    [['tags', 0], 4, 5],
    [['tags', 0, 'Value'], 5, 12],
    [['empty'], 6, 1], // no value: its key
    [['nested', 'inner', 'leaf'], 9, 11],
    [['nested', 'inner', 'missing'], 8, 3], // deepest existing node
    [['nope', 'deeper'], 1, 1],
    [[], 1, 1],
  ])('posOf(%j) → %i:%i', (path, line, col) => {
    expect(src.posOf(path)).toEqual({ file: 'w.yaml', line, col });
  });

  it('points at keys when asked', () => {
    expect(src.keyPosOf(['tags', 0, 'Value'])).toEqual({ file: 'w.yaml', line: 5, col: 5 });
    expect(src.keyPosOf(['name'])).toEqual({ file: 'w.yaml', line: 1, col: 1 });
  });

  it.each([
    ['a: !Ref x\n', 'w.yaml:1:4: failed to parse YAML: Unresolved tag: !Ref'],
    ['a: 1\n---\nb: 2\n', 'w.yaml:2:1: failed to parse YAML: Source contains multiple documents; please use YAML.parseAllDocuments()'],
    ['a: [1, 2\n', 'w.yaml:2:1: failed to parse YAML: Flow sequence in block collection must be sufficiently indented and end with a ]'],
    ['a: *nope\n', 'w.yaml:1:4: failed to parse YAML: alias *nope names no anchor defined before it'],
    ['a: *x\nb: &x 1\n', 'w.yaml:1:4: failed to parse YAML: alias *x names no anchor defined before it'],
  ])('rejects %j', (text, line) => {
    let err: unknown;
    try {
      parseYamlSource(text, 'w.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).line).toBe(line);
  });
});

describe('validateWith', () => {
  const Target = z.union([
    z.string().regex(/^sg-/, 'a security group id such as sg-0123'),
    z.strictObject({ group: z.string(), port: z.number().int().optional() }),
  ]);
  const Schema = z.strictObject({
    name: z.string(),
    mode: z.enum(['observe', 'enforce']).default('observe'),
    limit: z.number().int().min(1).max(10).optional(),
    targets: z.array(Target).min(1),
  });

  const errorsOf = (text: string) => {
    try {
      validateWith(Schema, parseYamlSource(text, 'c.yaml'));
    } catch (err) {
      const e = err as InputError;
      return [e, ...e.more].map((x) => x.line);
    }
    return [];
  };

  it('returns the parsed value with defaults', () => {
    expect(validateWith(Schema, parseYamlSource('name: a\ntargets: [sg-1]\n', 'c.yaml'))).toEqual({
      name: 'a',
      mode: 'observe',
      targets: ['sg-1'],
    });
  });

  it('reports every issue in file order, in plain words', () => {
    expect(
      errorsOf(['targets:', '  - sg-1', '  - {grup: web}', '  - 42', '  - nope', 'mode: enforse', 'limit: 11', 'extra: 1'].join('\n')),
    ).toEqual([
      "c.yaml:1:1: name: missing required field 'name' (a string)",
      "c.yaml:3:5: targets[1].group: missing required field 'group' (a string)",
      "c.yaml:3:6: targets[1].grup: unknown field 'grup' (did you mean 'group'?)",
      'c.yaml:4:5: targets[2]: expected a string or a map, got 42',
      "c.yaml:5:5: targets[3]: 'nope' is not valid: a security group id such as sg-0123",
      "c.yaml:6:7: mode: expected one of observe, enforce, got 'enforse'",
      'c.yaml:7:8: limit: must be at most 10, got 11',
      "c.yaml:8:1: extra: unknown field 'extra'",
    ]);
  });
});

describe('helpers', () => {
  it.each([
    ['nxet', ['next', 'default', 'onError'], 'next'],
    ['instanceid', ['instanceId', 'cidrs'], 'instanceId'],
    ['ec2.isolate-instanse', ['ec2.isolate-instance', 'ec2.snapshot-volumes'], 'ec2.isolate-instance'],
    ['zzz', ['next', 'default'], undefined],
    ['x', [], undefined],
    ['y', ['x', 'z'], undefined],
    ['Next', ['next'], 'next'],
  ])('didYouMean(%j) → %j', (word, candidates, expected) => {
    expect(didYouMean(word, candidates)).toBe(expected);
  });

  it('writes paths with dots and indices', () => {
    expect(dottedPath(['steps', 'p', 'branches', 0, 'steps', 'x', 'next'])).toBe('steps.p.branches[0].steps.x.next');
  });
});
