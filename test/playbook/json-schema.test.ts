import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PLAYBOOK_SCHEMA_ID, playbookJsonSchema, toJsonSchema } from '../../src/playbook/json-schema.js';

type Json = Record<string, any>;

const schema = playbookJsonSchema() as Json;
const fixture = parse(readFileSync('test/fixtures/playbooks/ec2-instance-compromise.yaml', 'utf8')) as Json;

/** The branch of the step union that a step (without `type`: an action) belongs to. */
function branchFor(step: Json): Json {
  const type = step.type ?? 'action';
  const branch = (schema.$defs.step.anyOf as Json[]).find((b) => b.properties.type.const === type);
  expect(branch, `a schema branch for step type ${type}`).toBeDefined();
  return branch!;
}

/** Structural check: known keys only, required keys present, recursing into parallel branches. */
function checkSteps(steps: Json): number {
  let checked = 0;
  for (const step of Object.values(steps)) {
    const branch = branchFor(step);
    expect(Object.keys(step).filter((k) => !(k in branch.properties))).toEqual([]);
    expect((branch.required as string[]).filter((k) => !(k in step))).toEqual([]);
    checked++;
    if (step.type === 'parallel') {
      const branchSchema = branch.properties.branches.items;
      for (const b of step.branches as Json[]) {
        expect(Object.keys(b).sort()).toEqual([...(branchSchema.required as string[])].sort());
        expect(branchSchema.properties.steps.additionalProperties).toEqual({ $ref: '#/$defs/step' });
        checked += checkSteps(b.steps);
      }
    }
  }
  return checked;
}

describe('playbook JSON Schema', () => {
  it('carries its identity and dialect', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.$id).toBe(PLAYBOOK_SCHEMA_ID);
    expect(schema.title).toBe('Firebreak playbook');
    expect(schema.type).toBe('object');
    expect(schema.additionalProperties).toBe(false);
  });

  it('makes fields with defaults optional (input side)', () => {
    expect([...schema.required].sort()).toEqual(['id', 'start', 'steps', 'title']);
    const action = branchFor({});
    expect(action.required).toEqual(['action']);
    expect(action.properties.approval).toMatchObject({ enum: ['auto', 'required'], default: 'required' });
  });

  it('describes the recursive step type once, by reference', () => {
    expect(schema.properties.steps.additionalProperties).toEqual({ $ref: '#/$defs/step' });
    expect((schema.$defs.step.anyOf as Json[]).map((b) => b.properties.type.const)).toEqual([
      'action',
      'choice',
      'manual',
      'wait',
      'end',
      'map',
      'parallel',
    ]);
    expect(JSON.stringify(schema)).not.toContain('__schema');
    expect(schema.properties.steps.propertyNames.pattern).toBe('^[a-z][a-zA-Z0-9_-]*$');
  });

  it('accepts the shape of the fixture playbook', () => {
    expect(Object.keys(fixture).filter((k) => !(k in schema.properties))).toEqual([]);
    expect((schema.required as string[]).filter((k) => !(k in fixture))).toEqual([]);
    const declKeys = Object.keys(schema.properties.inputs.additionalProperties.properties);
    for (const decl of Object.values(fixture.inputs as Json)) expect(Object.keys(decl).filter((k) => !declKeys.includes(k))).toEqual([]);
    expect(checkSteps(fixture.steps)).toBe(11);
  });

  it('is the same every time it is generated', () => {
    expect(JSON.stringify(playbookJsonSchema())).toBe(JSON.stringify(schema));
  });

  it('serves other file formats through toJsonSchema', () => {
    const World = z.strictObject({ region: z.string().describe('an AWS Region'), instances: z.array(z.string()).default([]) });
    const out = toJsonSchema(World, { id: 'urn:firebreak:schema:world', title: 'Firebreak world' }) as Json;
    expect(out).toMatchObject({
      $id: 'urn:firebreak:schema:world',
      title: 'Firebreak world',
      required: ['region'],
      additionalProperties: false,
    });
    expect(out.properties.region.description).toBe('an AWS Region');
  });
});
