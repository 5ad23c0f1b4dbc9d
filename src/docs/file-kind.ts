/**
 * Which Firebreak file format a YAML file is: from its `# yaml-language-server: $schema=…` line
 * (the schema the editor checks it against), or failing that from the keys at its top level. Kept
 * free of heavy imports: `firebreak validate` reads it before deciding what else to load.
 */
import { isMap, parseDocument } from 'yaml';

export const FILE_KINDS = ['playbook', 'routes', 'scenario', 'world', 'config', 'decisions'] as const;
export type FileKind = (typeof FILE_KINDS)[number];

export interface KindOf {
  kind: FileKind;
  /** How the kind was told: the schema line, or the document's top-level keys. */
  by: 'schema line' | 'shape';
}

const SCHEMA_LINE = /^#\s*yaml-language-server:\s*\$schema=(\S+)/;
const SCHEMA_NAME = /(?:^|[/:])([a-z]+)(?:\.schema\.json)?$/;

/** The kind the schema line names, among the comment lines that open the file. */
export function kindFromSchemaLine(text: string): FileKind | undefined {
  for (const line of text.split(/\r?\n/)) {
    if (!line.startsWith('#')) {
      if (line.trim() === '' || line.trim() === '---') continue;
      break;
    }
    const ref = SCHEMA_LINE.exec(line)?.[1];
    if (!ref) continue;
    const name = SCHEMA_NAME.exec(ref.replace(/\.schema\.json$/, ''))?.[1];
    return FILE_KINDS.find((k) => k === name);
  }
  return undefined;
}

/**
 * The kind a document's top-level keys show. Loose on purpose: a playbook missing `start` is still
 * a playbook, so the error a user sees is the playbook's ("missing start"), not "unknown file".
 */
export function kindFromShape(keys: readonly string[]): FileKind | undefined {
  const has = (...k: string[]) => k.some((x) => keys.includes(x));
  if (has('world') && has('timeline', 'objectives', 'attacker')) return 'scenario';
  if (has('steps') && has('start', 'id', 'title', 'inputs')) return 'playbook';
  if (has('routes') && keys.every((k) => k === 'routes')) return 'routes';
  if (has('account') && has('ec2', 'iam', 'sts', 'autoscaling', 'elbv2', 'dlm', 'support', 'sns', 'region', 'caller', 'faults'))
    return 'world';
  const config = ['guardrails', 'notifications', 'roleArn', 'externalId', 'region'];
  if (has('guardrails', 'notifications', 'roleArn', 'externalId') && keys.every((k) => config.includes(k))) return 'config';
  const decisions = ['scenario', 'steps', 'actions', 'expect'];
  if (has('steps', 'actions') && keys.every((k) => decisions.includes(k))) return 'decisions';
  return undefined;
}

/** The file's kind, or undefined when neither its schema line nor its shape tells. */
export function kindOf(text: string): KindOf | undefined {
  const named = kindFromSchemaLine(text);
  if (named) return { kind: named, by: 'schema line' };
  // A document that does not parse has no shape; the caller reports it as of no known kind.
  const doc = parseDocument(text, { uniqueKeys: false });
  if (doc.errors.length > 0 || !isMap(doc.contents)) return undefined;
  const keys = doc.contents.items.map((p) => String((p.key as { value?: unknown } | null)?.value ?? p.key));
  const kind = kindFromShape(keys);
  return kind ? { kind, by: 'shape' } : undefined;
}
