import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import {
  ExpressionError,
  evaluate,
  expressionBody,
  isExpression,
  looksLikeBrokenExpression,
  resolveValue,
  type ExprScope,
} from '../../src/playbook/expr.js';

const scope = (): ExprScope => ({
  inputs: { instanceId: 'i-0123456789abcdef0', cidrs: ['198.51.100.0/24', '203.0.113.0/24'], severity: 8 },
  steps: {
    describe: { status: 'applied', output: { subnetId: 'subnet-0aa', enis: [{ id: 'eni-1' }, { id: 'eni-2' }] } },
    'look-up': { status: 'applied', output: { found: true } },
  },
  run: { id: 'run-1', incident: 'INC-42', playbook: 'ec2-instance-compromise' },
  now: new Date('2026-03-01T12:00:00Z'),
});

describe('isExpression', () => {
  it.each([
    ['{% $inputs.x %}', true],
    ['{%$inputs.x%}', true],
    ['  {% 1 + 1 %}\n', true], // a YAML block scalar keeps its final newline
    ['incident {% $run.id %}', false],
    ['{% $run.id %} and more', false],
    ['{% unterminated', false],
    ['plain text', false],
    [42, false],
    [null, false],
  ])('%j → %s', (value, expected) => {
    expect(isExpression(value)).toBe(expected);
  });

  it.each([
    ['{% $inputs.x }', true],
    ['  {% x', true],
    ['see {% x %}', false],
    ['{% x %}', false],
  ])('looksLikeBrokenExpression(%j) → %s', (value, expected) => {
    expect(looksLikeBrokenExpression(value)).toBe(expected);
  });

  it('strips the braces', () => {
    expect(expressionBody('{% $inputs.x %}')).toBe(' $inputs.x ');
    expect(expressionBody('literal')).toBeUndefined();
  });
});

describe('evaluate', () => {
  it.each([
    ['{% $inputs.instanceId %}', 'i-0123456789abcdef0'],
    ['{% $inputs.severity >= 7 %}', true],
    ['{% $count($inputs.cidrs) %}', 2],
    ['{% $steps.describe.output.subnetId %}', 'subnet-0aa'],
    ['{% $steps.describe.output.enis.id %}', ['eni-1', 'eni-2']],
    ['{% $steps.`look-up`.output.found %}', true],
    ['{% $run.incident & "/" & $run.id %}', 'INC-42/run-1'],
    ['{% $now() %}', '2026-03-01T12:00:00.000Z'],
    ['{% $millis() %}', Date.parse('2026-03-01T12:00:00Z')],
    ['{% $now("[Y0001]-[M01]-[D01]") %}', '2026-03-01'],
    ['{% $steps.describe.output.missing %}', undefined],
    ['$inputs.severity * 2', 16], // bare JSONata text, as a choice condition may be passed
  ])('%s → %j', async (expr, expected) => {
    expect(await evaluate(expr, scope())).toEqual(expected);
  });

  it('binds $item and $index in a map step', async () => {
    const s = { ...scope(), item: '203.0.113.0/24', index: 1 };
    expect(await evaluate('{% $index & ":" & $item %}', s)).toBe('1:203.0.113.0/24');
  });

  it('returns plain arrays and objects, not JSONata sequences', async () => {
    const out = await evaluate('{% $map($inputs.cidrs, function($c) { {"cidr": $c} }) %}', scope());
    expect(out).toEqual([{ cidr: '198.51.100.0/24' }, { cidr: '203.0.113.0/24' }]);
    expect(Array.isArray(out)).toBe(true);
    expect(Object.keys(out as object)).toEqual(['0', '1']);
  });

  it('is deterministic: the clock comes from the scope', async () => {
    const a = await evaluate('{% $now() %}', scope());
    const b = await evaluate('{% $now() %}', { ...scope(), now: new Date('2030-01-01T00:00:00Z') });
    expect(a).toBe('2026-03-01T12:00:00.000Z');
    expect(b).toBe('2030-01-01T00:00:00.000Z');
  });

  it.each([
    ['{% $now() %}', /^failed to evaluate steps\.a\.when: \$now\(\) needs the run clock/, { ...scope(), now: undefined }],
    ['{% $random() %}', /^failed to evaluate steps\.a\.when: \$random\(\) is not allowed/, scope()],
    [
      '{% $inputs.instanceId + 1 %}',
      /^failed to evaluate steps\.a\.when: The left side of the "\+" operator must evaluate to a number \(JSONata T2001 at character \d+\)$/,
      scope(),
    ],
    ['{% $inputs.x + %}', /^failed to evaluate steps\.a\.when: Unexpected end of expression \(JSONata S0207/, scope()],
    ['{% function($x) { $x } %}', /^failed to evaluate steps\.a\.when: the expression gave a function, not a value$/, scope()],
  ])('fails clearly for %s', async (expr, message, s) => {
    const err = await evaluate(expr, s, 'steps.a.when').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ExpressionError);
    expect(err).toBeInstanceOf(InputError);
    expect((err as ExpressionError).message).toMatch(message);
    expect((err as ExpressionError).field).toBe('steps.a.when');
  });

  it('keeps the position it is given', async () => {
    const pos = { file: 'pb.yaml', line: 9, col: 19 };
    await expect(evaluate('{% $x( %}', scope(), { field: 'steps.a.with.x', pos })).rejects.toMatchObject({ pos, field: 'steps.a.with.x' });
  });
});

describe('resolveValue', () => {
  it('evaluates whole-string expressions and leaves every other string as written', async () => {
    const value = {
      instanceId: '{% $inputs.instanceId %}',
      note: 'incident {% $run.incident %}',
      count: 3,
      tags: [
        { Key: 'incident', Value: '{% $run.incident %}' },
        { Key: 'by', Value: 'firebreak' },
      ],
      nested: { on: true, cidr: '{% $item %}' },
    };
    const before = structuredClone(value);
    const out = await resolveValue(value, { ...scope(), item: '198.51.100.0/24', index: 0 }, 'steps.a.with');
    expect(out).toEqual({
      instanceId: 'i-0123456789abcdef0',
      note: 'incident {% $run.incident %}',
      count: 3,
      tags: [
        { Key: 'incident', Value: 'INC-42' },
        { Key: 'by', Value: 'firebreak' },
      ],
      nested: { on: true, cidr: '198.51.100.0/24' },
    });
    expect(value).toEqual(before);
  });

  it('leaves out a key whose expression gives no value', async () => {
    expect(await resolveValue({ a: '{% $steps.describe.output.none %}', b: 1 }, scope())).toEqual({ b: 1 });
  });

  it('names the field that failed', async () => {
    await expect(resolveValue({ tags: [{ Value: '{% $inputs.x + %}' }] }, scope(), 'steps.snap.with')).rejects.toThrow(
      /^failed to evaluate steps\.snap\.with\.tags\[0\]\.Value: Unexpected end of expression/,
    );
  });
});

describe('evaluation budget', () => {
  it('stops an expression that recurses forever, naming the field', async () => {
    const err = await evaluate('{% ($f := function($n) { 1 + $f($n + 1) }; $f(0)) %}', scope(), 'steps.a.when').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExpressionError);
    expect((err as ExpressionError).line).toMatch(/^steps\.a\.when: failed to evaluate steps\.a\.when: .*(too deep|nested)/);
  });

  it('stops an expression that loops past its time budget', async () => {
    // A tail-recursive loop evaluated step by step: deep enough to hit no stack limit, long enough to pass the time budget.
    const err = await evaluate('{% $count([1..9999999].($string($) & "x")) %}', scope(), 'steps.a.when').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExpressionError);
    expect((err as ExpressionError).message).toMatch(/failed to evaluate steps\.a\.when: .*(longer than|too many)/);
  }, 20_000);

  it('still evaluates ordinary recursion', async () => {
    expect(await evaluate('{% ($f := function($n) { $n = 0 ? 0 : 1 + $f($n - 1) }; $f(20)) %}', scope())).toBe(20);
  });

  it('refuses a regular expression that can backtrack catastrophically', async () => {
    const err = await evaluate('{% $contains($inputs.instanceId, /(a+)+$/) %}', scope(), 'steps.a.when').catch((e: unknown) => e);
    expect((err as ExpressionError).message).toMatch(/nests quantifiers/);
  });
});
