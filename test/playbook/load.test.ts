import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT, InputError } from '../../src/core/errors.js';
import { findPlaybook, listPlaybooks, loadPlaybook, loadPlaybookText } from '../../src/playbook/load.js';
import { LOAD_OPTS } from './actions.js';

const FIXTURE = 'test/fixtures/playbooks/ec2-instance-compromise.yaml';

function loadError(text: string): InputError {
  try {
    loadPlaybookText(text, 'pb.yaml', LOAD_OPTS);
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return err as InputError;
  }
  throw new Error('expected the playbook to be rejected');
}

// Every case starts with these two lines, so the case's own text begins on line 3.
const H = 'id: t\ntitle: T\n';
const lines = (...l: string[]) => `${H + l.join('\n')}\n`;

describe('loading a valid playbook', () => {
  it('parses the fixture, fills defaults and hashes the file bytes', () => {
    const loaded = loadPlaybook(FIXTURE, LOAD_OPTS);
    const bytes = readFileSync(FIXTURE);
    expect(loaded.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(loaded.file).toBe(FIXTURE);
    const { playbook } = loaded;
    expect(playbook.id).toBe('ec2-instance-compromise');
    expect(playbook.start).toBe('describe');
    expect(Object.keys(playbook.steps)).toEqual(['describe', 'contain', 'block', 'severe', 'watch', 'case', 'escalate', 'failed', 'done']);
    expect(playbook.steps.describe).toMatchObject({ type: 'action', approval: 'auto', with: { instanceId: '{% $inputs.instanceId %}' } });
    // Defaults the schema adds: an action step without `type` or `approval`.
    expect(playbook.steps.case).toMatchObject({ type: 'action', approval: 'required' });
    expect(playbook.steps.block).toMatchObject({ type: 'map', concurrency: 2 });
    expect(playbook.steps.done).toEqual({ type: 'end', outcome: 'success' });
    expect(playbook.inputs.cidrs).toEqual({
      type: 'string[]',
      description: 'attacker address ranges to deny',
      default: [],
      required: false,
    });
  });

  it('knows where each node is', () => {
    const loaded = loadPlaybook(FIXTURE, LOAD_OPTS);
    expect(loaded.posOf(['steps', 'block', 'items'])).toEqual({ file: FIXTURE, line: 58, col: 12 });
    // A block map points at its key, a missing field at the map that should hold it.
    expect(loaded.posOf(['steps', 'contain'])).toEqual({ file: FIXTURE, line: 31, col: 3 });
    expect(loaded.posOf(['steps', 'contain', 'retry'])).toEqual({ file: FIXTURE, line: 31, col: 3 });
    expect(loaded.posOf(['steps', 'contain', 'branches', 1, 'start'])).toEqual({ file: FIXTURE, line: 45, col: 16 });
  });

  it('hashes in-memory text as UTF-8 and gives the same result as the file', () => {
    const text = readFileSync(FIXTURE, 'utf8');
    const fromText = loadPlaybookText(text, FIXTURE, LOAD_OPTS);
    const fromFile = loadPlaybook(FIXTURE, LOAD_OPTS);
    expect(fromText.sha256).toBe(fromFile.sha256);
    expect(fromText.playbook).toEqual(fromFile.playbook);
  });

  it('accepts a playbook when no action input schemas are given', () => {
    const loaded = loadPlaybookText(lines('start: a', 'steps:', '  a:', '    action: ec2.describe-instance'), 'pb.yaml', {
      actionIds: LOAD_OPTS.actionIds,
    });
    expect(loaded.playbook.steps.a).toMatchObject({ action: 'ec2.describe-instance', with: {} });
  });
});

describe('rejecting a bad playbook with file:line:col and field', () => {
  it.each([
    [
      'YAML syntax error',
      lines('start: a', 'steps:', '  a: {action: ec2.describe-instance'),
      'pb.yaml:6:1: failed to parse YAML: Flow map in block collection must be sufficiently indented and end with a }',
    ],
    ['duplicate YAML key', lines('start: a', 'start: b', 'steps: {}'), 'pb.yaml:4:1: failed to parse YAML: Map keys must be unique'],
    [
      'unknown field',
      lines(
        'start: a',
        'steps:',
        '  a:',
        '    action: ec2.describe-instance',
        '    with: {instanceId: i-0123456789abcdef0}',
        '    nxet: b',
      ),
      "pb.yaml:8:5: steps.a.nxet: unknown field 'nxet' (did you mean 'next'?)",
    ],
    [
      'wrong enum',
      lines('start: a', 'steps:', '  a:', '    action: ec2.describe-instance', '    approval: maybe'),
      "pb.yaml:7:15: steps.a.approval: expected one of auto, required, got 'maybe'",
    ],
    ['missing start', lines('steps:', '  a:', '    type: end'), "pb.yaml:1:1: start: missing required field 'start' (a string)"],
    [
      'unknown step type',
      lines('start: a', 'steps:', '  a:', '    type: finish'),
      "pb.yaml:6:11: steps.a.type: unknown type 'finish': expected one of action, choice, manual, wait, end, map, parallel",
    ],
    [
      'missing field of a typed step',
      lines('start: a', 'steps:', '  a:', '    type: wait', '    next: b', '  b:', '    type: end'),
      "pb.yaml:5:3: steps.a.duration: missing required field 'duration'",
    ],
    [
      'bad duration',
      lines('start: a', 'steps:', '  a:', '    action: ec2.describe-instance', '    retry:', '      backoff: 5x'),
      "pb.yaml:8:16: steps.a.retry.backoff: '5x' is not valid: a duration such as 30s, 15m or 2h",
    ],
    [
      'bad step id',
      lines('start: a', 'steps:', '  a:', '    type: end', '  Bad_one:', '    type: end'),
      "pb.yaml:7:3: steps.Bad_one: invalid key 'Bad_one': a step id starts with a lower-case letter and uses letters, digits, - and _",
    ],
    ['empty file', '', 'pb.yaml:1:1: (top level): expected a map, got nothing'],
    [
      'a file of another kind (its content is never echoed)',
      'root:x:0:0:secret-looking-line:/root:/bin/bash\n',
      'pb.yaml:1:1: (top level): expected a map, got plain text: pb.yaml is not a file of this kind',
    ],
    [
      'unknown action',
      lines('start: a', 'steps:', '  a:', '    action: ec2.isolate-instanse', '    with: {instanceId: i-0123456789abcdef0}'),
      "pb.yaml:6:13: steps.a.action: unknown action 'ec2.isolate-instanse' (did you mean 'ec2.isolate-instance'?)",
    ],
    [
      'bad next',
      lines(
        'start: a',
        'steps:',
        '  a:',
        '    type: manual',
        '    title: x',
        '    instructions: y',
        '    next: dnoe',
        '  done:',
        '    type: end',
      ),
      "pb.yaml:9:11: steps.a.next: no step named 'dnoe' (did you mean 'done'?)",
    ],
    [
      'bad start',
      lines('start: frist', 'steps:', '  first:', '    type: end'),
      "pb.yaml:3:8: start: no step named 'frist' (did you mean 'first'?)",
    ],
    [
      'bad onError',
      lines(
        'start: a',
        'steps:',
        '  a:',
        '    action: ec2.describe-instance',
        '    with: {instanceId: i-0123456789abcdef0}',
        '    onError: {next: oops}',
      ),
      "pb.yaml:8:21: steps.a.onError.next: no step named 'oops'",
    ],
    [
      'bad choice next',
      lines(
        'start: a',
        'steps:',
        '  a:',
        '    type: choice',
        '    choices:',
        '      - when: "{% true %}"',
        '        next: nowhere',
        '    default: b',
        '  b: {type: end}',
      ),
      "pb.yaml:9:15: steps.a.choices[0].next: no step named 'nowhere'",
    ],
    [
      'unreachable step',
      lines('start: a', 'steps:', '  a:', '    type: end', '  orphan:', '    type: end'),
      "pb.yaml:7:3: steps.orphan: unreachable step 'orphan': no path from start 'a' leads to it",
    ],
    [
      'no way to end',
      lines(
        'start: a',
        'steps:',
        '  a:',
        '    type: manual',
        '    title: x',
        '    instructions: y',
        '    next: b',
        '  b:',
        '    type: wait',
        '    duration: 1m',
        '    next: a',
      ),
      "pb.yaml:5:3: steps.a: no way to end: from step 'a' every path loops through 'a', 'b' and never reaches an end step or a step without next",
    ],
    [
      'bad JSONata',
      lines(
        'start: a',
        'steps:',
        '  a:',
        '    action: ec2.describe-instance',
        '    with:',
        '      instanceId: "{% $inputs.instanceId + %}"',
      ),
      'pb.yaml:8:44: steps.a.with.instanceId: invalid expression: Unexpected end of expression (JSONata S0207)',
    ],
    [
      'bad JSONata in a block scalar',
      lines(
        'start: a',
        'steps:',
        '  a:',
        '    action: support.open-case',
        '    with:',
        '      subject: |',
        '        {% "x" &',
        '           $foo( %}',
      ),
      'pb.yaml:10:18: steps.a.with.subject: invalid expression: Expected ")" before end of expression (JSONata S0203)',
    ],
    [
      'bad JSONata token',
      lines(
        'start: a',
        'steps:',
        '  a:',
        '    type: choice',
        '    choices:',
        '      - when: "{% $inputs.x } %}"',
        '        next: b',
        '    default: b',
        '  b: {type: end}',
      ),
      'pb.yaml:8:29: steps.a.choices[0].when: invalid expression: Syntax error: "}" (JSONata S0201)',
    ],
    [
      'unknown $steps reference',
      lines(
        'start: a',
        'steps:',
        '  a:',
        '    action: ec2.describe-instance',
        '    with:',
        '      instanceId: "{% $steps.lookup.output.id %}"',
      ),
      'pb.yaml:8:30: steps.a.with.instanceId: $steps.lookup names no step',
    ],
    [
      '$steps reference to a hyphenated id',
      lines(
        'start: look-up',
        'steps:',
        '  look-up:',
        '    action: ec2.describe-instance',
        '    with: {instanceId: i-0123456789abcdef0}',
        '    next: b',
        '  b:',
        '    action: ec2.describe-instance',
        '    with:',
        '      instanceId: "{% $steps.look-up.output.id %}"',
      ),
      "pb.yaml:12:30: steps.b.with.instanceId: $steps.look names no step; a step id with '-' is written $steps.`look-up`",
    ],
    [
      'unknown $inputs reference',
      lines(
        'inputs:',
        '  instanceId: {required: true}',
        'start: a',
        'steps:',
        '  a:',
        '    action: ec2.describe-instance',
        '    with:',
        '      instanceId: "{% $inputs.instanceid %}"',
      ),
      "pb.yaml:10:31: steps.a.with.instanceId: $inputs.instanceid names no input (did you mean 'instanceId'?)",
    ],
    [
      'bad with field',
      lines(
        'start: a',
        'steps:',
        '  a:',
        '    action: ec2.isolate-instance',
        '    with:',
        '      instanceId: i-0123456789abcdef0',
        '      reasn: test',
      ),
      "pb.yaml:9:7: steps.a.with.reasn: unknown field 'reasn' for action ec2.isolate-instance (did you mean 'reason'?)",
    ],
    [
      'missing required with field',
      lines('start: a', 'steps:', '  a:', '    action: ec2.isolate-instance', '    with:', '      reason: test'),
      "pb.yaml:7:5: steps.a.with: missing field 'instanceId' required by action ec2.isolate-instance",
    ],
    [
      'literal with value the action rejects',
      lines('start: a', 'steps:', '  a:', '    action: ec2.isolate-instance', '    with:', '      instanceId: i-xyz'),
      "pb.yaml:8:19: steps.a.with.instanceId: 'i-xyz' is not valid: an instance id such as i-0123456789abcdef0 (input of action ec2.isolate-instance)",
    ],
    [
      'branch step going outside its branch',
      lines(
        'start: p',
        'steps:',
        '  p:',
        '    type: parallel',
        '    branches:',
        '      - start: x',
        '        steps:',
        '          x:',
        '            type: manual',
        '            title: t',
        '            instructions: i',
        '            next: done',
        '    next: done',
        '  done:',
        '    type: end',
      ),
      "pb.yaml:14:19: steps.p.branches[0].steps.x.next: step 'done' is outside this parallel branch: a branch can only go to its own steps",
    ],
    [
      'top-level step going into a branch',
      lines(
        'start: p',
        'steps:',
        '  p:',
        '    type: parallel',
        '    branches:',
        '      - start: x',
        '        steps:',
        '          x: {type: end}',
        '    next: x',
      ),
      "pb.yaml:11:11: steps.p.next: step 'x' is inside a parallel branch: only that branch's own steps can go to it",
    ],
    [
      'bad branch start',
      lines(
        'start: p',
        'steps:',
        '  p:',
        '    type: parallel',
        '    branches:',
        '      - start: y',
        '        steps:',
        '          x: {type: end}',
      ),
      "pb.yaml:8:16: steps.p.branches[0].start: no step named 'y'",
    ],
    [
      'map items that are not an expression',
      lines(
        'start: m',
        'steps:',
        '  m:',
        '    type: map',
        '    items: cidrs',
        '    action: ec2.deny-nacl-entry',
        '    with: {subnetId: subnet-1, cidr: "{% $item %}"}',
      ),
      "pb.yaml:7:12: steps.m.items: expected an expression {% … %}, got the literal 'cidrs'",
    ],
    [
      'duplicate step id across branches',
      lines(
        'start: p',
        'steps:',
        '  p:',
        '    type: parallel',
        '    branches:',
        '      - start: x',
        '        steps:',
        '          x: {type: end}',
        '      - start: x',
        '        steps:',
        '          x: {type: end}',
      ),
      "pb.yaml:13:11: steps.p.branches[1].steps.x: duplicate step id 'x': also defined at pb.yaml:10:11; step ids must be unique in the whole playbook because outputs are read as $steps.x",
    ],
    [
      'input default not matching its pattern',
      lines('inputs:', '  instanceId:', '    pattern: ^i-[0-9a-f]{8,17}$', '    default: i-nope', 'start: a', 'steps:', '  a: {type: end}'),
      "pb.yaml:6:14: inputs.instanceId.default: invalid default for input 'instanceId': 'i-nope' does not match the pattern ^i-[0-9a-f]{8,17}$",
    ],
    [
      'input default of the wrong type',
      lines('inputs:', '  severity:', '    type: number', '    default: high', 'start: a', 'steps:', '  a: {type: end}'),
      "pb.yaml:6:14: inputs.severity.default: invalid default for input 'severity': expected a number, got 'high'",
    ],
    [
      'input with an invalid pattern',
      lines('inputs:', '  x:', '    pattern: "[a-"', 'start: a', 'steps:', '  a: {type: end}'),
      "pb.yaml:5:14: inputs.x.pattern: invalid pattern for input 'x': Invalid regular expression: /[a-/: Unterminated character class",
    ],
    [
      'input pattern that can backtrack catastrophically (nested quantifiers)',
      lines('inputs:', '  x:', '    pattern: "^(a+)+$"', 'start: a', 'steps:', '  a: {type: end}'),
      "pb.yaml:5:14: inputs.x.pattern: invalid pattern for input 'x': it nests quantifiers (like (a+)+), which can take exponential time on a long value; write it without a repeated group that itself repeats",
    ],
    [
      'choice condition that is not an expression',
      lines(
        'start: a',
        'steps:',
        '  a:',
        '    type: choice',
        '    choices:',
        '      - when: $inputs.x',
        '        next: b',
        '    default: b',
        '  b: {type: end}',
      ),
      "pb.yaml:8:15: steps.a.choices[0].when: expected an expression {% … %}, got the literal '$inputs.x'",
    ],
    [
      'expression missing its closing %}',
      lines('start: a', 'steps:', '  a:', '    action: ec2.describe-instance', '    with:', '      instanceId: "{% $inputs.x }"'),
      'pb.yaml:8:19: steps.a.with.instanceId: this looks like an expression but is not one: an expression must be the whole string, {% … %}',
    ],
    [
      'wait duration that is neither',
      lines('start: a', 'steps:', '  a:', '    type: wait', '    duration: soon'),
      "pb.yaml:7:15: steps.a.duration: 'soon' is neither a duration (30s, 15m, 2h) nor an expression {% … %}",
    ],
  ])('%s', (_name, text, expected) => {
    const err = loadError(text);
    expect(err.line).toBe(expected);
    expect(err.exitCode).toBe(EXIT.invalid);
  });

  it('reports every problem, first one thrown, the rest in .more, in file order', () => {
    const err = loadError(lines('start: a', 'steps:', '  a:', '    action: ec2.nope', '    next: zz', '  b: {type: end}'));
    expect([err, ...err.more].map((e) => e.line)).toEqual([
      "pb.yaml:6:13: steps.a.action: unknown action 'ec2.nope'",
      "pb.yaml:7:11: steps.a.next: no step named 'zz'",
      "pb.yaml:8:3: steps.b: unreachable step 'b': no path from start 'a' leads to it",
    ]);
  });

  it('reports all schema problems of one step, not the other step types', () => {
    const err = loadError(lines('start: a', 'steps:', '  a:', '    type: choice', '    choices: []', '    default: 3'));
    expect([err, ...err.more].map((e) => e.line)).toEqual([
      'pb.yaml:7:14: steps.a.choices: needs at least 1 item',
      'pb.yaml:8:14: steps.a.default: expected a string, got 3',
    ]);
  });

  it('does not also call a step with a broken next a dead end', () => {
    const err = loadError(lines('start: a', 'steps:', '  a:', '    type: wait', '    duration: 1m', '    next: nope'));
    expect([err, ...err.more].map((e) => e.field)).toEqual(['steps.a.next']);
  });

  it('treats a string with {% in the middle as a literal', () => {
    const loaded = loadPlaybookText(
      lines(
        'start: a',
        'steps:',
        '  a:',
        '    action: ec2.isolate-instance',
        '    with:',
        '      instanceId: i-0123456789abcdef0',
        '      reason: "see {% $nope( %} in the notes"',
      ),
      'pb.yaml',
      LOAD_OPTS,
    );
    expect(loaded.playbook.steps.a).toMatchObject({ with: { reason: 'see {% $nope( %} in the notes' } });
  });

  it('allows a loop that has a way out', () => {
    const loaded = loadPlaybookText(
      lines(
        'start: check',
        'steps:',
        '  check:',
        '    type: choice',
        '    choices:',
        '      - when: "{% $steps.check.output = null %}"',
        '        next: pause',
        '    default: done',
        '  pause:',
        '    type: wait',
        '    duration: 30s',
        '    next: check',
        '  done: {type: end}',
      ),
      'pb.yaml',
      LOAD_OPTS,
    );
    expect(Object.keys(loaded.playbook.steps)).toEqual(['check', 'pause', 'done']);
  });

  it('names the file when it does not exist', () => {
    expect(() => loadPlaybook('test/fixtures/playbooks/nope.yaml', LOAD_OPTS)).toThrow(
      /failed to read playbook test\/fixtures\/playbooks\/nope.yaml: no such file/,
    );
  });
});

describe('findPlaybook', () => {
  const dir = mkdtempSync(join(tmpdir(), 'playbooks-'));
  const other = join(dir, 'more');
  mkdirSync(other);
  writeFileSync(join(dir, 'ec2-instance-compromise.yaml'), 'id: x\n');
  writeFileSync(join(dir, 'iam-key-leak.yml'), 'id: y\n');
  writeFileSync(join(other, 'nacl-block.yaml'), 'id: z\n');
  writeFileSync(join(dir, 'notes.txt'), 'not a playbook');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['ec2-instance-compromise', join(dir, 'ec2-instance-compromise.yaml')],
    ['iam-key-leak', join(dir, 'iam-key-leak.yml')],
    ['nacl-block', join(other, 'nacl-block.yaml')],
    [join(other, 'nacl-block.yaml'), join(other, 'nacl-block.yaml')],
  ])('resolves %s', (name, expected) => {
    expect(findPlaybook(name, [dir, other])).toBe(expected);
  });

  it('lists the available playbooks for an unknown name', () => {
    expect(() => findPlaybook('ec2-instance-compromize', [dir, other, join(dir, 'absent')])).toThrow(
      "unknown playbook 'ec2-instance-compromize' (did you mean 'ec2-instance-compromise'?); available: ec2-instance-compromise, iam-key-leak, nacl-block",
    );
    expect(listPlaybooks([dir])).toEqual(['ec2-instance-compromise', 'iam-key-leak']);
  });

  it('rejects a path that does not exist', () => {
    expect(() => findPlaybook(join(dir, 'missing.yaml'), [dir])).toThrow(InputError);
  });
});
