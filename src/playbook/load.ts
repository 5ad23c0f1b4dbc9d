/**
 * Playbook files → a checked `LoadedPlaybook`. Two passes, as a config should be checked: the
 * zod schema (shape, with positions from the YAML), then the rules in rules.ts (the step graph,
 * actions, expressions). Anything wrong throws one InputError naming file:line:col and field,
 * with every further problem in `.more`, before any AWS call is made.
 */
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { basename, extname, join, sep } from 'node:path';
import { InputError } from '../core/errors.js';
import { combine, parseYamlSource, suggestion, validateWith, type YamlSource } from '../core/yaml-source.js';
import { checkPlaybook, type CheckOptions, type CheckablePlaybook } from './rules.js';
import { Playbook, type LoadedPlaybook } from './schema.js';
import { readInputBytes } from '../core/read-input.js';

export type LoadOptions = CheckOptions;

/** A loaded playbook that also keeps its parsed YAML (for positions inside expressions). */
export type LoadedPlaybookWithSource = LoadedPlaybook & { source: YamlSource };

/** Read, parse, validate and check a playbook file. `sha256` is the hash of the file's bytes. */
export function loadPlaybook(file: string, opts: LoadOptions): LoadedPlaybookWithSource {
  const bytes = readInputBytes(file, 'playbook');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (err) {
    throw new InputError(`failed to read playbook ${file}: the file is not UTF-8 text`, { pos: { file, line: 1, col: 1 }, cause: err });
  }
  return loadFromText(text, file, opts, sha256(bytes));
}

/** Same as loadPlaybook for text already in memory; `sha256` is the hash of its UTF-8 encoding. */
export function loadPlaybookText(text: string, file: string, opts: LoadOptions): LoadedPlaybookWithSource {
  return loadFromText(text, file, opts, sha256(Buffer.from(text, 'utf8')));
}

function loadFromText(text: string, file: string, opts: LoadOptions, hash: string): LoadedPlaybookWithSource {
  const source = parseYamlSource(text, file);
  const playbook = validateWith(Playbook, source, file);
  const loaded: CheckablePlaybook & { source: YamlSource } = { playbook, file, sha256: hash, posOf: source.posOf, source };
  const problems = checkPlaybook(loaded, opts);
  if (problems.length > 0) throw combine(problems);
  return loaded;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const EXTENSIONS = ['.yaml', '.yml'];

/**
 * `ec2-instance-compromise` → `playbooks/ec2-instance-compromise.yaml` (first match in `dirs`);
 * a path (with a slash or a .yaml/.yml extension) is used as given.
 */
export function findPlaybook(nameOrPath: string, dirs: readonly string[]): string {
  const isPath = nameOrPath.includes('/') || nameOrPath.includes(sep) || EXTENSIONS.includes(extname(nameOrPath).toLowerCase());
  if (isPath) {
    if (!isFile(nameOrPath)) throw new InputError(`failed to find playbook ${nameOrPath}: no such file`);
    return nameOrPath;
  }
  for (const dir of dirs) {
    for (const ext of EXTENSIONS) {
      const candidate = join(dir, nameOrPath + ext);
      if (isFile(candidate)) return candidate;
    }
  }
  const available = listPlaybooks(dirs);
  const list =
    available.length > 0 ? `; available: ${available.join(', ')}` : `; no playbooks found in ${dirs.join(', ') || '(no folders given)'}`;
  throw new InputError(`unknown playbook '${nameOrPath}'${suggestion(nameOrPath, available)}${list}`);
}

/** Names of the playbooks in `dirs` (file names without extension), sorted, without duplicates. */
export function listPlaybooks(dirs: readonly string[]): string[] {
  const names = new Set<string>();
  for (const dir of dirs) {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch (err) {
      // A playbook folder that does not exist simply holds no playbooks.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    for (const entry of entries) {
      const ext = extname(entry).toLowerCase();
      if (EXTENSIONS.includes(ext) && isFile(join(dir, entry))) names.add(basename(entry, extname(entry)));
    }
  }
  return [...names].sort();
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return false;
    throw err;
  }
}
