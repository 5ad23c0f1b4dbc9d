/**
 * Reading fields out of foreign JSON (findings, alarms) with errors that name the field:
 * "failed to read GuardDuty finding: detail.resource.instanceDetails.instanceId: expected a string, got 42".
 * Adapters only read the fields they use, so an AWS service adding a field never breaks them.
 */
import { InputError } from '../core/errors.js';

export type Json = Record<string, unknown>;

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class FieldReader {
  constructor(
    readonly what: string,
    readonly value: Json,
    readonly prefix = '',
    readonly file?: string,
  ) {}

  private path(key: string): string {
    return this.prefix ? `${this.prefix}.${key}` : key;
  }

  fail(key: string, message: string): never {
    throw new InputError(`failed to read ${this.what}: ${message}`, {
      field: this.path(key) || '(top level)',
      ...(this.file ? { hint: `check ${this.file}` } : {}),
    });
  }

  has(key: string): boolean {
    return this.value[key] !== undefined && this.value[key] !== null;
  }

  string(key: string): string {
    const v = this.value[key];
    if (typeof v === 'string' && v !== '') return v;
    return this.fail(
      key,
      v === undefined || v === null ? `missing required field '${key}'` : `expected a non-empty string, got ${describe(v)}`,
    );
  }

  optString(key: string): string | undefined {
    const v = this.value[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string') return v;
    return this.fail(key, `expected a string, got ${describe(v)}`);
  }

  number(key: string): number {
    const v = this.value[key];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    return this.fail(key, v === undefined || v === null ? `missing required field '${key}'` : `expected a number, got ${describe(v)}`);
  }

  optNumber(key: string): number | undefined {
    const v = this.value[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    // ASFF and alarm messages carry some numbers as strings ("Original": "8.0").
    if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
    return this.fail(key, `expected a number, got ${describe(v)}`);
  }

  optBoolean(key: string): boolean | undefined {
    const v = this.value[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'boolean') return v;
    return this.fail(key, `expected true or false, got ${describe(v)}`);
  }

  obj(key: string): FieldReader {
    const v = this.value[key];
    if (isObject(v)) return new FieldReader(this.what, v, this.path(key), this.file);
    return this.fail(key, v === undefined || v === null ? `missing required field '${key}'` : `expected an object, got ${describe(v)}`);
  }

  optObj(key: string): FieldReader | undefined {
    const v = this.value[key];
    if (v === undefined || v === null) return undefined;
    if (isObject(v)) return new FieldReader(this.what, v, this.path(key), this.file);
    return this.fail(key, `expected an object, got ${describe(v)}`);
  }

  /** A list of objects (each as a reader); absent means empty. */
  objects(key: string): FieldReader[] {
    const v = this.value[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) return this.fail(key, `expected a list, got ${describe(v)}`);
    return v.map((item, i) => {
      if (!isObject(item)) return this.fail(`${key}[${i}]`, `expected an object, got ${describe(item)}`);
      return new FieldReader(this.what, item, `${this.path(key)}[${i}]`, this.file);
    });
  }

  strings(key: string): string[] {
    const v = this.value[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) return this.fail(key, `expected a list of strings, got ${describe(v)}`);
    return v as string[];
  }
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return `'${v.length > 60 ? `${v.slice(0, 57)}…` : v}'`;
  if (typeof v === 'object') return 'an object';
  return String(v);
}

/**
 * GuardDuty findings arrive camelCase from EventBridge and the API, PascalCase from the AWS CLI
 * and boto3 (`AccountId`, `InstanceDetails`): one spelling for the adapter to read.
 */
export function camelKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(camelKeys);
  if (!isObject(v)) return v;
  const out: Json = {};
  for (const [k, val] of Object.entries(v)) out[k.charAt(0).toLowerCase() + k.slice(1)] = camelKeys(val);
  return out;
}
