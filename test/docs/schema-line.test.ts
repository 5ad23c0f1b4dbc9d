/**
 * Every YAML file of the project names its JSON Schema on its first line, so an editor with the
 * YAML language server completes and checks it; and the schema it names is generated.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCHEMA_SOURCES, schemaFile } from '../../src/docs/schema-sources.js';
import { schemaLineFor, yamlFilesFor } from '../../src/docs/schemas.js';
import { ROOT } from '../helpers/cli.js';

const cases = SCHEMA_SOURCES.flatMap((src) => yamlFilesFor(ROOT, src).map((file) => [file, src.name] as const));

describe('YAML files reference their schema on the first line', () => {
  it('finds the project YAML files (playbooks and worlds at least)', () => {
    expect(cases.some(([, n]) => n === 'playbook')).toBe(true);
    expect(cases.some(([, n]) => n === 'world')).toBe(true);
  });

  it.each(cases)('%s → %s schema', (file, name) => {
    const first = readFileSync(join(ROOT, file), 'utf8').split(/\r?\n/, 1)[0];
    expect(first, `first line of ${file}`).toBe(schemaLineFor(file, name));
    // The path is relative to the file and points at the generated schema.
    const target = join(ROOT, dirname(file), first!.replace(/^# yaml-language-server: \$schema=/, ''));
    expect(target).toBe(join(ROOT, schemaFile(name)));
    expect(existsSync(target), `${schemaFile(name)} exists (firebreak schemas)`).toBe(true);
  });

  it.each([
    ['playbooks/x.yaml', 'playbook', '# yaml-language-server: $schema=../schemas/playbook.schema.json'],
    ['scenarios/deep/y.yml', 'scenario', '# yaml-language-server: $schema=../../schemas/scenario.schema.json'],
    ['routes.yaml', 'routes', '# yaml-language-server: $schema=schemas/routes.schema.json'],
  ])('the expected line for %s', (file, name, line) => {
    expect(schemaLineFor(file, name)).toBe(line);
  });
});
