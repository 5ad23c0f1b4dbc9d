/**
 * Run inputs: parsed from `name=value` command-line arguments (or given as JSON by a trigger
 * route) and checked against the playbook's `inputs` declarations before anything runs.
 *
 * Patterns are used as written: `^i-[0-9a-f]{8,17}$` is anchored because the playbook anchors
 * it, and a pattern without anchors matches anywhere in the value.
 */
import { InputError, type SourcePos } from '../core/errors.js';
import { combine, suggestion } from '../core/yaml-source.js';
import type { InputDeclT } from './schema.js';
import { unsafePattern } from './patterns.js';

export type InputDecls = Readonly<Record<string, InputDeclT>>;

/** Where the declarations come from, to point at them when a declaration itself is wrong. */
export interface InputOrigin {
  file: string;
  posOf?(path: (string | number)[]): SourcePos | undefined;
}

/**
 * `['instanceId=i-0abc…', 'cidrs=1.2.3.0/24,5.6.7.0/24']` → typed values. A `string[]` input
 * takes a comma-separated list or a JSON array. Defaults and required inputs are checked by
 * `validateInputs`, which callers run next.
 */
export function parseInputArgs(args: readonly string[], decls: InputDecls, opts: { file?: string } = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const errors: InputError[] = [];
  const names = Object.keys(decls);
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq <= 0) {
      errors.push(
        new InputError(`failed to read input '${arg}': expected name=value`, {
          hint: names.length ? `inputs of this playbook: ${names.join(', ')}` : undefined,
        }),
      );
      continue;
    }
    const name = arg.slice(0, eq);
    const raw = arg.slice(eq + 1);
    // Own names only: `__proto__` or `constructor` would otherwise find Object.prototype's members.
    const decl = Object.hasOwn(decls, name) ? decls[name] : undefined;
    const field = `inputs.${name}`;
    if (!decl) {
      errors.push(unknownInput(name, names, opts.file));
      continue;
    }
    if (Object.hasOwn(out, name)) {
      errors.push(new InputError(`input '${name}' is given more than once`, { field }));
      continue;
    }
    const converted = convert(raw, decl.type ?? 'string');
    if ('error' in converted) errors.push(new InputError(`failed to read input '${name}': ${converted.error}`, { field }));
    else out[name] = converted.value;
  }
  if (errors.length) throw combine(errors);
  return out;
}

function convert(raw: string, type: InputDeclT['type']): { value: unknown } | { error: string } {
  switch (type) {
    case 'string':
      return { value: raw };
    case 'number': {
      const n = raw.trim() === '' ? NaN : Number(raw);
      return Number.isFinite(n) ? { value: n } : { error: `expected a number, got '${raw}'` };
    }
    case 'boolean':
      if (raw === 'true') return { value: true };
      if (raw === 'false') return { value: false };
      return { error: `expected true or false, got '${raw}'` };
    case 'string[]': {
      if (raw.trimStart().startsWith('[')) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(raw);
        } catch (err) {
          return { error: `expected a JSON array of strings: ${(err as Error).message}` };
        }
        return { value: parsed };
      }
      return {
        value: raw
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== ''),
      };
    }
  }
}

/**
 * Check input values against their declarations and fill in defaults. Unknown names, missing
 * required inputs, wrong types and pattern mismatches are all reported (first thrown, rest in
 * `.more`). Returns a new object; `values` is not changed.
 */
export function validateInputs(
  values: Readonly<Record<string, unknown>>,
  decls: InputDecls,
  origin?: string | InputOrigin,
): Record<string, unknown> {
  const from: InputOrigin | undefined = typeof origin === 'string' ? { file: origin } : origin;
  const errors: InputError[] = [];
  const out: Record<string, unknown> = {};
  const names = Object.keys(decls);

  for (const name of Object.keys(values)) {
    if (!Object.hasOwn(decls, name)) errors.push(unknownInput(name, names, from?.file));
  }
  for (const [name, decl] of Object.entries(decls)) {
    const field = `inputs.${name}`;
    const declPos = (key?: string) =>
      from?.posOf?.(key ? ['inputs', name, key] : ['inputs', name]) ?? (from ? { file: from.file, line: 1, col: 1 } : undefined);
    const regex = compilePattern(decl.pattern);
    if ('error' in regex) {
      errors.push(
        new InputError(`input '${name}' declares an invalid pattern: ${regex.error}`, {
          field: `${field}.pattern`,
          pos: declPos('pattern'),
        }),
      );
      continue;
    }
    const given = Object.hasOwn(values, name) && values[name] !== undefined;
    if (given) {
      const problem = checkValue(values[name], decl, regex.value);
      if (problem) errors.push(new InputError(`invalid input '${name}': ${problem}`, { field }));
      else out[name] = copy(values[name]);
      continue;
    }
    if (decl.default !== undefined) {
      const problem = checkValue(decl.default, decl, regex.value);
      // A bad default is the playbook's mistake, so it points at the declaration.
      if (problem)
        errors.push(
          new InputError(`invalid default for input '${name}': ${problem}`, { field: `${field}.default`, pos: declPos('default') }),
        );
      else out[name] = copy(decl.default);
      continue;
    }
    if (decl.required) {
      errors.push(
        new InputError(`missing required input '${name}'${decl.description ? ` (${decl.description})` : ''}`, {
          field,
          hint: `give it as ${name}=${exampleOf(decl)}`,
        }),
      );
    }
  }
  if (errors.length) throw combine(errors);
  return out;
}

/** Problem with one value for a declaration, in words ("expected a number, got 'x'"), or undefined. */
export function checkValue(value: unknown, decl: InputDeclT, pattern?: RegExp): string | undefined {
  const type = decl.type ?? 'string';
  switch (type) {
    case 'string':
      if (typeof value !== 'string') return `expected a string, got ${describe(value)}`;
      if (pattern && !pattern.test(value)) return `'${value}' does not match the pattern ${decl.pattern}`;
      return undefined;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : `expected a number, got ${describe(value)}`;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : `expected true or false, got ${describe(value)}`;
    case 'string[]': {
      if (!Array.isArray(value)) return `expected a list of strings, got ${describe(value)}`;
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        if (typeof item !== 'string') return `item ${i + 1} should be a string, got ${describe(item)}`;
        if (pattern && !pattern.test(item)) return `item ${i + 1} '${item}' does not match the pattern ${decl.pattern}`;
      }
      return undefined;
    }
  }
}

/** The declaration's pattern as a RegExp (as written, no implicit anchors). */
export function compilePattern(pattern: string | undefined): { value?: RegExp } | { error: string } {
  if (pattern === undefined) return { value: undefined };
  let value: RegExp;
  try {
    value = new RegExp(pattern);
  } catch (err) {
    return { error: (err as Error).message };
  }
  const unsafe = unsafePattern(pattern);
  return unsafe ? { error: unsafe } : { value };
}

function unknownInput(name: string, names: string[], file?: string): InputError {
  return new InputError(`unknown input '${name}'${suggestion(name, names)}`, {
    field: `inputs.${name}`,
    hint: names.length ? `inputs of ${file ?? 'this playbook'}: ${names.join(', ')}` : `${file ?? 'this playbook'} declares no inputs`,
  });
}

function exampleOf(decl: InputDeclT): string {
  const ex = decl.examples?.[0];
  if (ex !== undefined) return Array.isArray(ex) ? ex.join(',') : String(ex);
  return { string: '…', number: '1', boolean: 'true', 'string[]': 'a,b' }[decl.type ?? 'string'];
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'object') return 'a map';
  return String(value);
}

function copy(value: unknown): unknown {
  return Array.isArray(value) ? [...value] : value;
}
