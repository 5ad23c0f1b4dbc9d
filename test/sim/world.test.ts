import { describe, it, expect } from 'vitest';
import { mkdtemp, readFile, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadWorld, parseWorld, saveWorld, worldJsonSchema, type World } from '../../src/sim/index.js';
import { InputError } from '../../src/core/errors.js';
import { DEMO_FILE, DEMO_TEXT, WEB } from './helpers.js';

function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return err as InputError;
  }
  throw new Error('expected an InputError');
}

describe('world files', () => {
  it('loads the demo world with its defaults filled in', async () => {
    const w = await loadWorld(DEMO_FILE);
    expect(w.account.id).toBe('111122223333');
    expect(w.region).toBe('us-east-1');
    expect(w.ec2.instances.map((i) => i.id)).toEqual([WEB, 'i-0fedcba9876543210']);
    expect(w.ec2.limits).toEqual({ naclRulesPerDirection: 20, concurrentSnapshots: 5, rulesPerSecurityGroup: 60 });
    // A group written without egress rules gets AWS's default allow-all egress rule.
    expect(w.ec2.securityGroups[0]!.egress).toEqual([{ protocol: '-1', cidr: '0.0.0.0/0' }]);
    expect(w.ec2.connections[0]).toMatchObject({ id: 'attacker-ssh', state: 'open', remoteIp: '203.0.113.66' });
    expect(w.sts).toEqual({});
  });

  it('fills in region, caller, time and every slice for a minimal world', () => {
    const w = parseWorld('account: { id: "123456789012" }\n', 'min.yaml');
    expect(w.region).toBe('us-east-1');
    expect(w.time).toBe('2026-01-01T00:00:00Z');
    expect(w.caller.arn).toBe('arn:aws:iam::123456789012:user/responder');
    expect(w.caller.userId).toMatch(/^AIDA[A-Z2-7]{17}$/);
    expect(w.faults).toEqual([]);
    expect(w.ec2.instances).toEqual([]);
  });

  it('reads JSON worlds too', () => {
    const w = parseWorld(JSON.stringify({ account: { id: '123456789012' }, region: 'eu-west-1' }), 'w.json');
    expect(w.region).toBe('eu-west-1');
  });

  it.each([
    ['a malformed account id', 'account:\n  id: "12345"\n', 'account.id', 2, 7, /12 digits/],
    ['an unknown top-level field', 'account: { id: "123456789012" }\nregoin: us-east-1\n', 'regoin', 2, 1, /unknown field 'regoin'/],
    [
      'an unknown field in a resource',
      'account: { id: "123456789012" }\nec2:\n  vpcs:\n    - id: vpc-0a1b2c3d4e5f60718\n      cidrBlock: 10.0.0.0/16\n      colour: red\n',
      'ec2.vpcs.0.colour',
      6,
      7,
      /unknown field 'colour'/,
    ],
    [
      'a bad instance state',
      'account: { id: "123456789012" }\nec2:\n  instances:\n    - id: i-0abc123def4567890\n      state: sleeping\n',
      'ec2.instances.0.state',
      5,
      14,
      /running/,
    ],
    [
      'a missing required field',
      'account: { id: "123456789012" }\nec2:\n  vpcs:\n    - id: vpc-0a1b2c3d4e5f60718\n',
      'ec2.vpcs.0.cidrBlock',
      4,
      7,
      /./,
    ],
    [
      'a dangling reference',
      'account: { id: "123456789012" }\nec2:\n  networkInterfaces:\n    - id: eni-0a1a1a1a1a1a1a1a1\n      subnetId: subnet-0aa11bb22cc33dd44\n      groups: [sg-0123456789abcdef0]\n',
      'ec2.networkInterfaces.0.subnetId',
      5,
      17,
      /no subnet/,
    ],
    [
      'a bad fault',
      'account: { id: "123456789012" }\nfaults:\n  - operation: "ec2 Describe"\n    error: Throttling\n',
      'faults.0.operation',
      3,
      16,
      /operation such as/,
    ],
  ])('rejects %s with file:line:col and the field', (_name, text, field, line, col, message) => {
    const err = inputError(() => parseWorld(text, 'bad.yaml'));
    expect(err.field).toBe(field);
    expect(err.pos).toEqual({ file: 'bad.yaml', line, col });
    expect(err.message).toMatch(message);
    expect(err.line).toBe(`bad.yaml:${line}:${col}: ${field}: ${err.message}`);
  });

  it('reports every problem of one pass, the first as the error', () => {
    const err = inputError(() => parseWorld('account: { id: "1" }\nregion: mars\n', 'bad.yaml'));
    expect([err.field, ...err.more.map((e) => e.field)]).toEqual(['account.id', 'region']);
    expect(err.more[0]!.pos).toEqual({ file: 'bad.yaml', line: 2, col: 9 });
  });

  it('rejects YAML syntax errors with their position', () => {
    const err = inputError(() => parseWorld('account:\n  id: "123456789012\n', 'broken.yaml'));
    expect(err.pos?.file).toBe('broken.yaml');
    expect(err.pos?.line).toBeGreaterThanOrEqual(2);
    expect(err.message).toMatch(/^failed to parse world: /);
  });

  it('rejects an empty file and a missing file', async () => {
    expect(inputError(() => parseWorld('', 'empty.yaml')).message).toMatch(/empty/);
    await expect(loadWorld('/nonexistent/world.yaml')).rejects.toThrow(/failed to read world \/nonexistent\/world.yaml/);
  });

  it('saves atomically and loads back the same world, keeping the schema comment', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fb-world-'));
    const file = path.join(dir, 'w.yaml');
    await writeFile(file, DEMO_TEXT);
    const w = await loadWorld(file);
    w.ec2.instances[0]!.tags.incident = 'INC-1';
    w.time = '2026-01-01T01:00:00.000Z';
    await saveWorld(w, file);
    const text = await readFile(file, 'utf8');
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=../schemas/world.schema.json');
    const back: World = await loadWorld(file);
    expect(back).toEqual(w);
    expect(await readdir(dir)).toEqual(['w.yaml']); // no temporary file left behind

    const json = path.join(dir, 'w.json');
    await saveWorld(w, json);
    expect(await loadWorld(json)).toEqual(w);
  });

  it('exports a JSON Schema for editors', () => {
    const schema = worldJsonSchema() as { properties: Record<string, unknown>; required?: string[] };
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['account', 'region', 'caller', 'faults', 'ec2', 'sts', 'iam']));
    expect(schema.required).toEqual(['account']);
  });
});
