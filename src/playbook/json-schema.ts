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

export function playbookJsonSchema(): Record<string, unknown> {
  return toJsonSchema(Playbook, {
    id: PLAYBOOK_SCHEMA_ID,
    title: 'Firebreak playbook',
    description:
      'An incident-response playbook: steps that plan, approve, apply and verify changes to AWS. Expressions are JSONata inside {% … %}.',
    names: { step: Step },
  });
}
