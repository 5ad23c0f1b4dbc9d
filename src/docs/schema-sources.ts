/**
 * THE list of JSON Schemas `firebreak schemas` writes to `schemas/`, and which YAML files must
 * name each one on their first line (`# yaml-language-server: $schema=…`) so editors complete and
 * check them. To add a file format: add one entry here; `firebreak schemas` and the first-line
 * test pick it up.
 */
import { actions } from '../actions/registry.js';
import { ConfigSchema } from '../config/config.js';
import { playbookJsonSchema, toJsonSchema } from '../playbook/json-schema.js';
import { worldJsonSchema } from '../sim/index.js';
import { decisionsSchema } from '../tabletop/decisions.js';
import { scenarioJsonSchema } from '../tabletop/scenario.js';
import { routesJsonSchema } from '../triggers/routes-schema.js';
import { OUTPUT_SCHEMAS } from './output-schemas.js';

export interface SchemaSource {
  /** `playbook` → `schemas/playbook.schema.json`. */
  name: string;
  /** Used when the generated schema has no title or description of its own. */
  title: string;
  description: string;
  /**
   * The YAML files that must reference this schema: every .yaml/.yml in `dir`, or one `file`, or
   * none where such files have no fixed place (decisions are passed with `--decisions`).
   */
  yaml: { dir: string } | { file: string } | { none: true };
  build(): Record<string, unknown>;
}

export const SCHEMA_SOURCES: readonly SchemaSource[] = [
  {
    name: 'playbook',
    title: 'Firebreak playbook',
    description: 'An incident-response playbook.',
    yaml: { dir: 'playbooks' },
    build: () => playbookJsonSchema([...actions.values()]),
  },
  {
    name: 'world',
    title: 'Firebreak simulated world',
    description: 'A simulated AWS account for tests, tabletop exercises and `--sim` runs: VPCs, instances, IAM, faults, the clock.',
    yaml: { dir: 'worlds' },
    build: worldJsonSchema,
  },
  {
    name: 'routes',
    title: 'Firebreak alert routes',
    description: 'Which playbook an alert starts, with which inputs and approval policy.',
    yaml: { file: 'routes.yaml' },
    build: routesJsonSchema,
  },
  {
    name: 'scenario',
    title: 'Firebreak tabletop scenario',
    description: 'A tabletop exercise: a world, injects on a simulated clock, and how it is scored.',
    yaml: { dir: 'scenarios' },
    build: scenarioJsonSchema,
  },
  {
    name: 'config',
    title: 'Firebreak configuration',
    description: 'firebreak.config.yaml: guardrails (allowed accounts, protected tag, most targets), notifications, the responder role.',
    yaml: { file: 'firebreak.config.yaml' },
    build: () => toJsonSchema(ConfigSchema, { id: schemaId('config'), title: 'Firebreak configuration' }),
  },
  {
    name: 'decisions',
    title: 'Firebreak tabletop decisions',
    description:
      'Scripted player decisions for `firebreak tabletop --decisions`: per step approve, skip, abort or done; player actions by hand.',
    yaml: { none: true },
    build: () => toJsonSchema(decisionsSchema, { id: schemaId('decisions'), title: 'Firebreak tabletop decisions' }),
  },
  ...OUTPUT_SCHEMAS.map(
    ({ name, commands, schema }): SchemaSource => ({
      name: `output/${name}`,
      title: `firebreak ${name} --json output`,
      description: `What ${commands} print${commands.includes(',') ? '' : 's'} on stdout with --json.`,
      yaml: { none: true },
      build: () => {
        const { title: _t, ...rest } = toJsonSchema(schema, { id: schemaId(`output/${name}`), title: '' });
        return rest;
      },
    }),
  ),
];

export const schemaFile = (name: string): string => `schemas/${name}.schema.json`;
export const schemaId = (name: string): string => `urn:firebreak:schema:${name}`;
