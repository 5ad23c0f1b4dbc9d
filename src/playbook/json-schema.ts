/**
 * JSON Schema for editors, generated from the zod schemas (never written by hand). The CLI writes
 * `schemas/playbook.schema.json`; worlds, routes and scenarios use the same `toJsonSchema`.
 */
import * as z from 'zod';
import { Playbook, Step } from './schema.js';

/** A URN, not a URL: nothing needs to be fetched to identify the schema. */
export const PLAYBOOK_SCHEMA_ID = 'urn:firebreak:schema:playbook';

export interface JsonSchemaMeta {
  id: string;
  title: string;
  description?: string;
  /**
   * Names for sub-schemas that become `$defs` (recursive ones always do): without a name zod
   * calls them `__schema0`, which editors show to the user.
   */
  names?: Record<string, z.ZodType>;
}

/**
 * A zod schema as JSON Schema (draft 2020-12). `io: 'input'` describes what a file may contain:
 * fields with defaults are optional. Recursive (lazy) types become `$defs` references.
 */
export function toJsonSchema(schema: z.ZodType, meta: JsonSchemaMeta): Record<string, unknown> {
  for (const [name, sub] of Object.entries(meta.names ?? {})) {
    // zod reads `$defs` names from the registry that also holds `.describe()` texts, so the
    // name is added there (once: the registry refuses a second schema under the same id).
    if (!z.globalRegistry.has(sub)) z.globalRegistry.add(sub, { id: name });
  }
  const generated = z.toJSONSchema(schema, {
    io: 'input',
    target: 'draft-2020-12',
    cycles: 'ref',
    reused: 'inline',
    unrepresentable: 'throw',
  }) as Record<string, unknown>;
  const { $schema, ...rest } = generated;
  return {
    $schema,
    $id: meta.id,
    title: meta.title,
    ...(meta.description ? { description: meta.description } : {}),
    ...rest,
  };
}

/** What the playbook schema needs to know of an action: its id, a line for completion, its inputs. */
export interface ActionSchemaInfo {
  id: string;
  summary: string;
  input: z.ZodType;
}

/** A value that is wholly an expression (`{% … %}`, surrounding whitespace allowed), as `isExpression` reads it. */
export const EXPRESSION_PATTERN = '^\\s*\\{%[\\s\\S]*%\\}\\s*$';

/**
 * The playbook schema. With `actions`, an action or map step's `action` must be one of their ids,
 * and its `with` is checked against that action's input schema, so editors complete ids and
 * inputs and flag typos. This is done with an enum on `action` plus one `if`/`then` per action
 * (rather than a `oneOf` of whole step shapes): a misspelt id then fails one enum, which editors
 * report as "not one of …" and complete from, instead of 27 competing branches whose errors an
 * editor has to guess between; yaml-language-server evaluates `if` to pick the `then` it
 * completes from.
 */
export function playbookJsonSchema(actions: readonly ActionSchemaInfo[] = []): Record<string, unknown> {
  const schema = toJsonSchema(Playbook, {
    id: PLAYBOOK_SCHEMA_ID,
    title: 'Firebreak playbook',
    description:
      'An incident-response playbook: steps that plan, approve, apply and verify changes to AWS. Expressions are JSONata inside {% … %}.',
    names: { step: Step },
  });
  if (actions.length === 0) return schema;
  const defs = schema.$defs as Record<string, Json>;
  const sorted = [...actions].sort((a, b) => a.id.localeCompare(b.id));
  defs.expression = { type: 'string', pattern: EXPRESSION_PATTERN, description: 'a JSONata expression: {% … %}' };
  for (const a of sorted) defs[inputDefName(a.id)] = actionInputSchema(a);
  const actionEnum = {
    type: 'string',
    description: 'the action this step runs (firebreak list --actions)',
    enum: sorted.map((a) => a.id),
    // Not JSON Schema: read by yaml-language-server and VS Code to describe each completion.
    markdownEnumDescriptions: sorted.map((a) => a.summary),
  };
  const branches = (defs.step as { anyOf: Json[] }).anyOf;
  for (const branch of branches) {
    const type = (branch.properties as Record<string, Json>).type?.const;
    if (type !== 'action' && type !== 'map') continue;
    (branch.properties as Record<string, Json>).action = actionEnum;
    branch.allOf = sorted.map((a) => {
      const input = defs[inputDefName(a.id)]!;
      const needsWith = Array.isArray(input.required) && input.required.length > 0;
      return {
        if: { properties: { action: { const: a.id } }, required: ['action'] },
        // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword, not a thenable
        then: { properties: { with: { $ref: `#/$defs/${inputDefName(a.id)}` } }, ...(needsWith ? { required: ['with'] } : {}) },
      };
    });
  }
  return schema;
}

type Json = Record<string, unknown>;

const inputDefName = (id: string) => `with:${id}`;

/** JSON Schema 2020-12's own formats; zod also writes names of its checks (`starts_with`) that validators reject. */
const STANDARD_FORMATS = new Set([
  'date-time',
  'date',
  'time',
  'duration',
  'email',
  'idn-email',
  'hostname',
  'idn-hostname',
  'ipv4',
  'ipv6',
  'uri',
  'uri-reference',
  'iri',
  'iri-reference',
  'uuid',
  'uri-template',
  'json-pointer',
  'relative-json-pointer',
  'regex',
]);

/**
 * An action's input schema as a step's `with`: every value, at any depth, may instead be an
 * expression, because `firebreak validate` checks a literal only where no expression sits inside it
 * (the action checks the resolved value at run time).
 */
function actionInputSchema(a: ActionSchemaInfo): Json {
  const generated = z.toJSONSchema(a.input, {
    io: 'input',
    target: 'draft-2020-12',
    cycles: 'ref',
    reused: 'inline',
    unrepresentable: 'throw',
  }) as Json;
  const { $schema: _dialect, ...rest } = generated;
  const body = walk(rest, false);
  return { description: `inputs of ${a.id}: ${a.summary}`, ...body };
}

/** Rewrites a generated schema node: children may be expressions; non-standard formats dropped. */
function walk(node: Json, orExpression: boolean): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'format' && typeof value === 'string' && !STANDARD_FORMATS.has(value)) continue;
    if (key === 'properties' && isObject(value)) {
      out.properties = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v as Json, true)]));
    } else if ((key === 'items' || key === 'additionalProperties') && isObject(value)) {
      out[key] = walk(value, true);
    } else if ((key === 'anyOf' || key === 'oneOf' || key === 'allOf' || key === 'prefixItems') && Array.isArray(value)) {
      out[key] = value.map((v) => walk(v as Json, key === 'prefixItems'));
    } else {
      out[key] = value;
    }
  }
  if (!orExpression) return out;
  // Annotations move to the wrapper, where editors look for hover text and the value to insert.
  const { description, default: dflt, title, ...constraint } = out;
  return {
    ...(title !== undefined ? { title } : {}),
    ...(description !== undefined ? { description } : {}),
    ...(dflt !== undefined ? { default: dflt } : {}),
    anyOf: [constraint, { $ref: '#/$defs/expression' }],
  };
}

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
