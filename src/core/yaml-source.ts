/**
 * YAML files (playbooks, worlds, routes, scenarios) → a plain value plus the source position of
 * every node, and zod validation whose errors name `file:line:col` and the dotted field.
 *
 * Positions: a scalar or flow collection points at its value; a block map or list points at its
 * key, because a block collection's own range starts at its first child, a line below the name
 * the reader is looking for. A path that does not exist resolves to its deepest existing node
 * (for a missing key, the map that should hold it).
 */
import { LineCounter, isAlias, isMap, isPair, isScalar, isSeq, parseDocument, visit } from 'yaml';
import type { Document, Node as YamlNode, Pair } from 'yaml';
import * as z from 'zod';
import { InputError, type SourcePos } from './errors.js';

export type SourcePath = ReadonlyArray<string | number>;

export interface YamlSource {
  file: string;
  text: string;
  value: unknown;
  /** Position of the node at `path`, or of its deepest existing ancestor. */
  posOf(path: SourcePath): SourcePos | undefined;
  /** Position of the key of the map entry at `path` (falls back to `posOf`). */
  keyPosOf(path: SourcePath): SourcePos | undefined;
  /** The YAML node at exactly `path` (undefined when absent), for callers that need its style or range. */
  nodeAt(path: SourcePath): YamlNode | undefined;
  /** Position of character `offset` of the file. */
  posAt(offset: number): SourcePos;
}

/** Parse YAML text. Syntax errors (and YAML warnings such as unknown tags) throw one InputError, the rest in `.more`. */
export function parseYamlSource(text: string, file: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const posAt = (offset: number): SourcePos => ({ file, ...lineCounter.linePos(offset) });

  // Warnings are unknown tags and the like: a value we would silently read differently than the
  // author meant, so they reject the file too.
  const problems = [...doc.errors, ...doc.warnings].map(
    (e) => new InputError(`failed to parse YAML: ${firstLine(e.message)}`, { pos: posAt(e.pos[0]) }),
  );
  // An alias to an anchor defined later (or nowhere) only fails inside toJS, without a position.
  visit(doc, {
    Alias(_key, node) {
      if (node.resolve(doc) === undefined) {
        problems.push(
          new InputError(`failed to parse YAML: alias *${node.source} names no anchor defined before it`, {
            pos: posAt(node.range?.[0] ?? 0),
          }),
        );
      }
    },
  });
  if (problems.length > 0) throw combine(problems);

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new InputError(`failed to parse YAML: ${(err as Error).message}`, { pos: posAt(0), cause: err });
  }

  const walk = (path: SourcePath) => walkPath(doc, path);
  const posOf = (path: SourcePath): SourcePos => {
    const w = walk(path);
    const useKey = w.pair?.key && isNode(w.pair.key) && (!w.node || isBlockCollection(w.node) || isEmpty(w.node));
    const target = useKey ? (w.pair!.key as YamlNode) : w.node;
    return target?.range ? posAt(target.range[0]) : posAt(0);
  };
  return {
    file,
    text,
    value,
    posAt,
    posOf,
    nodeAt(path) {
      const w = walk(path);
      return w.depth === path.length ? (w.node ?? undefined) : undefined;
    },
    keyPosOf(path) {
      const w = walk(path);
      if (w.depth === path.length && w.pair?.key && isNode(w.pair.key) && w.pair.key.range) return posAt(w.pair.key.range[0]);
      return posOf(path);
    },
  };
}

interface Walked {
  node: YamlNode | null;
  pair?: Pair;
  depth: number;
}

function walkPath(doc: Document, path: SourcePath): Walked {
  let node = (doc.contents as YamlNode | null) ?? null;
  let pair: Pair | undefined;
  let depth = 0;
  for (const seg of path) {
    if (node && isAlias(node)) node = (node.resolve(doc) as YamlNode | undefined) ?? null;
    let next: { node: YamlNode | null; pair?: Pair } | undefined;
    if (node && isMap(node)) {
      const p = node.items.find((it) => isPair(it) && keyText(it.key) === String(seg));
      if (p) next = { node: (p.value as YamlNode | null) ?? null, pair: p };
    } else if (node && isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as YamlNode | undefined;
      if (item) next = { node: item };
    }
    if (!next) break;
    node = next.node;
    pair = next.pair;
    depth++;
  }
  return { node, pair: depth === 0 ? undefined : pair, depth };
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  if (key === null || key === undefined) return undefined;
  return String(key);
}

function isNode(v: unknown): v is YamlNode {
  return typeof v === 'object' && v !== null && 'range' in v;
}

function isBlockCollection(node: YamlNode): boolean {
  return (isMap(node) || isSeq(node)) && !node.flow;
}

function isEmpty(node: YamlNode): boolean {
  return !node.range || node.range[0] === node.range[1];
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}

/** Sort problems by position and return the first, carrying the rest in `.more`. */
export function combine(errors: InputError[]): InputError {
  const sorted = sortByPos(errors);
  const [first, ...rest] = sorted;
  if (!first) throw new Error('combine() needs at least one error');
  return new InputError(first.message, {
    ...(first.pos ? { pos: first.pos } : {}),
    ...(first.field ? { field: first.field } : {}),
    ...(first.hint ? { hint: first.hint } : {}),
    cause: first.cause,
    more: [...first.more, ...rest],
  });
}

export function sortByPos(errors: InputError[]): InputError[] {
  return [...errors].sort((a, b) => {
    if (!a.pos || !b.pos) return a.pos ? -1 : b.pos ? 1 : 0;
    return a.pos.line - b.pos.line || a.pos.col - b.pos.col;
  });
}

/** `steps.isolate.with.instanceId`, `steps.contain.branches[0].start`. */
export function dottedPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += (out ? '.' : '') + String(seg);
  }
  return out;
}

/** The closest of `candidates` to `word`, when it is close enough to be a likely typo. */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  const lower = word.toLowerCase();
  for (const c of candidates) {
    const cl = c.toLowerCase();
    const d = cl === lower ? 0 : editDistance(lower, cl);
    if (d < bestScore) {
      bestScore = d;
      best = c;
    }
  }
  if (best === undefined) return undefined;
  // One edit in three letters: close enough to be a typo, far enough that 'y' does not suggest 'x'.
  const longest = Math.max(word.length, best.length);
  const limit = longest < 3 ? 0 : Math.max(1, Math.floor(longest / 3));
  return bestScore <= limit ? best : undefined;
}

/** " (did you mean 'x'?)" or "". */
export function suggestion(word: string, candidates: Iterable<string>): string {
  const s = didYouMean(word, candidates);
  return s === undefined ? '' : ` (did you mean '${s}'?)`;
}

function editDistance(a: string, b: string): number {
  // Optimal string alignment distance: a swapped pair of letters ("nxet") counts as one edit.
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

// ---------------------------------------------------------------------------------------------
// zod validation with positioned, plain-worded errors

type Issue = z.core.$ZodIssue;
type Schema = z.core.$ZodType;

/** Validate `source.value` against `schema`; every problem becomes an InputError (first thrown, rest in `.more`). */
export function validateWith<S extends z.ZodType>(schema: S, source: YamlSource, file: string = source.file): z.output<S> {
  const result = schema.safeParse(source.value);
  if (result.success) return result.data;
  throw combine(issuesToErrors(result.error.issues, schema, source, [], file));
}

/**
 * zod issues → InputErrors. `base` is where `schema` sits in the source (issue paths are relative
 * to it), so a sub-value (an action's `with`) can be checked against its own schema.
 */
export function issuesToErrors(
  issues: readonly Issue[],
  schema: Schema,
  source: Pick<YamlSource, 'posOf' | 'keyPosOf' | 'value'> & { file?: string },
  base: SourcePath = [],
  file?: string,
): InputError[] {
  const out: InputError[] = [];
  const valueAt = (path: SourcePath): { found: boolean; value: unknown } => {
    let v: unknown = source.value;
    for (const seg of path) {
      if (v === null || typeof v !== 'object' || !Object.hasOwn(v, seg)) return { found: false, value: undefined };
      v = (v as Record<string | number, unknown>)[seg];
    }
    return { found: true, value: v };
  };
  const push = (path: SourcePath, rawMessage: string, atKey = false) => {
    // A whole file that is not a map is most likely another kind of file (a path typo): name the
    // file, never echo its content, which may be anything (a key, /etc/passwd).
    const whole = path.length === 0 && source.value !== null && source.value !== undefined && typeof source.value !== 'object';
    const message = whole
      ? `expected a map, got ${describeKind(source.value)}: ${file ?? source.file ?? 'the file'} is not a file of this kind`
      : rawMessage;
    const pos = atKey ? source.keyPosOf(path) : source.posOf(path);
    out.push(new InputError(message, { ...(pos ? { pos: file ? { ...pos, file } : pos } : {}), field: dottedPath(path) || '(top level)' }));
  };

  const visit = (list: readonly Issue[], at: Schema, prefix: SourcePath) => {
    for (const issue of list) {
      const rel = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)) as (string | number)[];
      const path = [...prefix, ...rel];
      const here = valueAt(path);
      switch (issue.code) {
        case 'invalid_union': {
          const union = schemaAt(at, rel, valueAt(prefix).value, false);
          const def = union && defOf(union);
          const options: readonly Schema[] = def && def.type === 'union' ? def.options : [];
          if (issue.errors.length === 0) {
            push(path, 'matches more than one allowed form; make it unambiguous');
            break;
          }
          const pick = pickBranch(issue.errors, here.value);
          if (pick.index !== undefined && options[pick.index]) {
            visit(issue.errors[pick.index]!, options[pick.index]!, path);
          } else if (pick.discriminator) {
            const { key, values } = pick.discriminator;
            const got = valueAt([...path, key]);
            push([...path, key], `unknown ${key} ${quote(got.value)}: expected one of ${values.join(', ')}`);
          } else {
            const expected = [...new Set(issue.errors.map((errs) => describeExpected(errs[0])))];
            push(
              path,
              here.found
                ? `expected ${expected.join(' or ')}, got ${describeValue(here.value)}`
                : `missing required field '${String(path.at(-1))}'`,
            );
          }
          break;
        }
        case 'unrecognized_keys': {
          const known = objectKeys(schemaAt(at, rel, valueAt(prefix).value, true));
          for (const key of issue.keys) push([...path, key], `unknown field '${key}'${suggestion(key, known)}`, true);
          break;
        }
        case 'invalid_key': {
          const key = path.at(-1);
          const reason = issue.issues.map((i) => (i.code === 'invalid_format' ? formatReason(i) : plainMessage(i, key, true))).join('; ');
          push(path, `invalid key '${String(key)}': ${reason}`, true);
          break;
        }
        case 'invalid_type':
          if (!here.found && issue.expected !== 'undefined') {
            push(path, `missing required field '${String(path.at(-1))}' (${describeExpected(issue)})`);
          } else {
            push(path, plainMessage(issue, here.value, here.found));
          }
          break;
        default:
          push(path, plainMessage(issue, here.value, here.found));
      }
    }
  };
  visit(issues, schema, base);
  return sortByPos(out);
}

/**
 * A union failed: choose the branch the author meant. A branch is ruled out when the value's
 * type is wrong for it (an object given to a string branch) or when a discriminator-like key
 * (`type: wait`) holds another literal. The step union thus reports the branch named by
 * `type`, or the action branch when `type` is absent (its default).
 */
function pickBranch(
  branches: readonly (readonly Issue[])[],
  value: unknown,
): { index?: number; discriminator?: { key: string; values: string[] } } {
  const alive: number[] = [];
  const discriminators = new Map<string, Set<string>>();
  branches.forEach((errs, i) => {
    const typeMismatch = errs.some((e) => e.path.length === 0 && e.code === 'invalid_type');
    const disc = errs.find(
      (e) => e.code === 'invalid_value' && e.path.length === 1 && e.values.length === 1 && value !== null && typeof value === 'object',
    ) as z.core.$ZodIssueInvalidValue | undefined;
    if (disc) {
      const key = String(disc.path[0]);
      const set = discriminators.get(key) ?? new Set<string>();
      set.add(String(disc.values[0]));
      discriminators.set(key, set);
    }
    if (!typeMismatch && !disc) alive.push(i);
  });
  if (alive.length > 0) {
    alive.sort((a, b) => branches[a]!.length - branches[b]!.length);
    return { index: alive[0]! };
  }
  const [key, values] = [...discriminators.entries()][0] ?? [];
  if (key && values) return { discriminator: { key, values: [...values] } };
  return {};
}

function plainMessage(issue: Issue, value: unknown, found: boolean): string {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${describeExpected(issue)}, got ${found ? describeValue(value) : 'nothing'}`;
    case 'invalid_value':
      return issue.values.length === 1
        ? `expected ${quote(issue.values[0])}, got ${describeValue(value)}`
        : `expected one of ${issue.values.map(String).join(', ')}, got ${describeValue(value)}`;
    case 'invalid_format':
      return isDefaultMessage(issue.message)
        ? `${quote(value)} ${formatReason(issue)}`
        : `${quote(value)} is not valid: ${formatReason(issue)}`;
    case 'too_small':
      return issue.origin === 'array'
        ? `needs at least ${issue.minimum} item${Number(issue.minimum) === 1 ? '' : 's'}`
        : issue.origin === 'string'
          ? `needs at least ${issue.minimum} character${Number(issue.minimum) === 1 ? '' : 's'}`
          : `must be ${issue.inclusive === false ? 'greater than' : 'at least'} ${issue.minimum}, got ${describeValue(value)}`;
    case 'too_big':
      return issue.origin === 'array'
        ? `allows at most ${issue.maximum} item${Number(issue.maximum) === 1 ? '' : 's'}`
        : issue.origin === 'string'
          ? `allows at most ${issue.maximum} characters`
          : `must be ${issue.inclusive === false ? 'less than' : 'at most'} ${issue.maximum}, got ${describeValue(value)}`;
    case 'not_multiple_of':
      return `must be a multiple of ${issue.divisor}, got ${describeValue(value)}`;
    default:
      return issue.message;
  }
}

/** The schema's own words for a format (`a duration such as 30s…`) or the pattern it failed. */
function formatReason(issue: z.core.$ZodIssueInvalidStringFormat): string {
  if (!isDefaultMessage(issue.message)) return issue.message;
  return issue.format === 'regex' ? `does not match the pattern ${issue.pattern}` : `is not a valid ${issue.format}`;
}

function isDefaultMessage(message: string): boolean {
  return /^Invalid\b/.test(message);
}

function describeExpected(issue: Issue | undefined): string {
  if (!issue) return 'a valid value';
  if (issue.code === 'invalid_type') {
    const words: Record<string, string> = {
      string: 'a string',
      number: 'a number',
      int: 'an integer',
      boolean: 'true or false',
      object: 'a map',
      array: 'a list',
      record: 'a map',
      null: 'null',
      undefined: 'nothing',
    };
    return words[issue.expected] ?? issue.expected;
  }
  if (issue.code === 'invalid_format' && !isDefaultMessage(issue.message)) return issue.message;
  if (issue.code === 'invalid_value') return `one of ${issue.values.map(String).join(', ')}`;
  return 'a valid value';
}

function describeKind(value: unknown): string {
  return typeof value === 'string' ? 'plain text' : `a ${typeof value}`;
}

function describeValue(value: unknown): string {
  // YAML `key:` with no value, and an empty file, read as null: "nothing" is what the author wrote.
  if (value === null) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'number':
    case 'boolean':
      return String(value);
    case 'object':
      return 'a map';
    case 'undefined':
      return 'nothing';
    default:
      return typeof value;
  }
}

function quote(value: unknown): string {
  if (typeof value === 'string') return `'${value.length > 60 ? `${value.slice(0, 57)}...` : value}'`;
  return describeValue(value);
}

// --- walking a zod schema along an issue path (issues no longer carry the schema that raised them)

/** The definition of a schema, narrowed by its `type` (zod's own union of first-party schema types). */
function defOf(schema: Schema): z.core.$ZodTypes['_zod']['def'] {
  return (schema as z.core.$ZodTypes)._zod.def;
}

/** Strip wrappers that do not change the shape: lazy, optional, default, pipe, … */
export function unwrap(schema: Schema | undefined): Schema | undefined {
  let s = schema;
  for (let i = 0; s && i < 50; i++) {
    const def = defOf(s);
    switch (def.type) {
      case 'lazy':
        s = def.getter();
        break;
      case 'optional':
      case 'nullable':
      case 'default':
      case 'prefault':
      case 'readonly':
      case 'catch':
      case 'nonoptional':
        s = def.innerType;
        break;
      case 'pipe':
        s = def.in;
        break;
      default:
        return s;
    }
  }
  return s;
}

/**
 * The schema at `path` below `schema`, whose value is `value`. zod reports a union's issues
 * without naming the option when only one option fits, so unions on the way are resolved the
 * same way pickBranch does, from the value itself. The last node is resolved only when
 * `resolveLast` (an invalid_union issue needs the union itself).
 */
function schemaAt(schema: Schema, path: readonly (string | number)[], value: unknown, resolveLast: boolean): Schema | undefined {
  let s: Schema | undefined = schema;
  let v: unknown = value;
  for (const seg of path) {
    s = resolveUnion(unwrap(s), v);
    if (!s) return undefined;
    const def = defOf(s);
    if (def.type === 'object') s = (def.shape as Record<string, Schema>)[String(seg)];
    else if (def.type === 'record') s = def.valueType;
    else if (def.type === 'array') s = def.element;
    else return undefined;
    v = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[seg] : undefined;
  }
  s = unwrap(s);
  return resolveLast ? resolveUnion(s, v) : s;
}

function resolveUnion(schema: Schema | undefined, value: unknown): Schema | undefined {
  let s = schema;
  for (let depth = 0; s && depth < 10; depth++) {
    const def = defOf(s);
    if (def.type !== 'union') break;
    const options = def.options;
    const results = options.map((o) => z.safeParse(o, value));
    const ok = results.findIndex((r) => r.success);
    const index =
      ok >= 0
        ? ok
        : pickBranch(
            results.map((r) => (r.success ? [] : r.error.issues)),
            value,
          ).index;
    s = index === undefined ? undefined : unwrap(options[index]);
  }
  return s;
}

/** The field names of an object schema (after unwrapping), or [] for anything else. */
export function objectKeys(schema: Schema | undefined): string[] {
  const s = unwrap(schema);
  if (!s) return [];
  const def = defOf(s);
  return def.type === 'object' ? Object.keys(def.shape as object) : [];
}
