/**
 * JSONata expressions inside `{% … %}`, the syntax AWS Step Functions uses.
 *
 * A string is an expression only when the whole string is `{% … %}` (surrounding whitespace
 * allowed, because a YAML block scalar ends with a newline). A string that merely contains `{%`
 * somewhere else is a literal: that is Step Functions' rule, and it keeps a support-case text that
 * quotes template syntax from being evaluated.
 *
 * Evaluation is deterministic given its scope: `$now()` and `$millis()` read the scope's clock
 * (the run's clock, simulated in tabletop exercises) instead of the wall clock, and `$random()`
 * is refused.
 */
import jsonata from 'jsonata';
import { InputError, type SourcePos } from '../core/errors.js';
import { SafeRegExp } from './patterns.js';

const WHOLE = /^\s*\{%([\s\S]*)%\}\s*$/;

/** True for a string that is exactly one `{% … %}` expression. */
export function isExpression(v: unknown): v is string {
  return typeof v === 'string' && WHOLE.test(v);
}

/** The JSONata text inside `{% … %}`, or undefined for a literal. */
export function expressionBody(v: string): string | undefined {
  return WHOLE.exec(v)?.[1];
}

/** Offset of the JSONata text inside the string (where `{%` ends). */
export function expressionOffset(v: string): number {
  return v.indexOf('{%') + 2;
}

/**
 * True for a string that begins with `{%` but is not one whole `{% … %}`: an expression whose
 * closing `%}` is missing, which would otherwise pass silently as a literal.
 */
export function looksLikeBrokenExpression(v: unknown): boolean {
  return typeof v === 'string' && !WHOLE.test(v) && v.trimStart().startsWith('{%');
}

export interface ExprScope {
  inputs: Record<string, unknown>;
  /** Step results by id: `{ output, status, … }` as the engine records them. */
  steps: Record<string, unknown>;
  run: Record<string, unknown>;
  /** The current element and its position, in a map step. */
  item?: unknown;
  index?: number;
  /** The run clock's current time; `$now()` and `$millis()` fail without it rather than read the wall clock. */
  now?: Date;
}

/** Where an expression sits, for the error message: `steps.isolate.with.instanceId`. */
export interface ExprWhere {
  field: string;
  pos?: SourcePos;
}

/** An expression failed to compile or evaluate. */
export class ExpressionError extends InputError {
  constructor(
    message: string,
    readonly expression: string,
    readonly code: string | undefined,
    opts: { pos?: SourcePos; field?: string; cause?: unknown },
  ) {
    super(message, opts);
  }
}

/** A JSONata error as thrown by the jsonata package. */
export interface JsonataError {
  code?: string;
  position?: number;
  token?: string;
  message: string;
}

export function isJsonataError(err: unknown): err is JsonataError {
  return typeof err === 'object' && err !== null && 'code' in err && 'message' in err;
}

/** A JSONata error's message, in Firebreak's words when the evaluation budget ran out. */
export function jsonataMessage(err: JsonataError): string {
  return (err.code && BUDGET_MESSAGES[err.code]) ?? err.message;
}

/**
 * Every evaluation's budget. Expressions come from playbooks and routing tables and read alert
 * data, so one that recurses or loops without end must fail its step or route instead of hanging
 * the CLI or wedging `serve`. Real expressions take well under a millisecond and nest a few
 * dozen levels; the limits leave two orders of magnitude of room.
 */
export const EXPR_LIMITS = { timeoutMs: 1000, depth: 500, sequence: 100_000 } as const;

const BUDGET_MESSAGES: Record<string, string> = {
  D1011: `the expression nested too deep (over ${EXPR_LIMITS.depth} levels: a recursion without end?)`,
  D1012: `the expression ran longer than ${EXPR_LIMITS.timeoutMs} ms (a loop without end?)`,
  D2015: `the expression built too many items (over ${EXPR_LIMITS.sequence})`,
};

const cache = new Map<string, jsonata.Expression>();
const CACHE_LIMIT = 2000;

/** Compile JSONata text (without the braces), cached, with the evaluation budget. Throws the JSONata error as is. */
export function compileExpression(body: string): jsonata.Expression {
  let compiled = cache.get(body);
  if (!compiled) {
    compiled = jsonata(body, {
      timeout: EXPR_LIMITS.timeoutMs,
      stack: EXPR_LIMITS.depth,
      sequence: EXPR_LIMITS.sequence,
      RegexEngine: SafeRegExp as unknown as RegExpConstructor,
    });
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(body, compiled);
  }
  return compiled;
}

const fromMillis = jsonata('$fromMillis($ms, $picture, $timezone)');

/**
 * Evaluate one expression (`{% … %}` or bare JSONata text) against a scope.
 * Errors read "failed to evaluate <where>: <JSONata message>".
 */
export async function evaluate(expr: string, scope: ExprScope, where?: string | ExprWhere): Promise<unknown> {
  const body = expressionBody(expr) ?? expr;
  const label = typeof where === 'string' ? { field: where } : where;
  const fail = (err: unknown): never => {
    const j = isJsonataError(err) ? err : undefined;
    const detail = j
      ? `${jsonataMessage(j)}${j.code ? ` (JSONata ${j.code}${j.position !== undefined ? ` at character ${j.position}` : ''})` : ''}`
      : ((err as Error).message ?? String(err));
    throw new ExpressionError(`failed to evaluate ${label?.field ?? `expression {% ${body.trim()} %}`}: ${detail}`, body, j?.code, {
      ...(label?.pos ? { pos: label.pos } : {}),
      ...(label?.field ? { field: label.field } : {}),
      cause: err,
    });
  };

  let compiled: jsonata.Expression;
  try {
    compiled = compileExpression(body);
  } catch (err) {
    return fail(err);
  }
  try {
    const result = await compiled.evaluate(undefined, bindings(scope));
    return toPlain(result);
  } catch (err) {
    return fail(err);
  }
}

function bindings(scope: ExprScope): Record<string, unknown> {
  const needClock = (fn: string) => {
    throw new Error(`${fn} needs the run clock, and none was given`);
  };
  const b: Record<string, unknown> = {
    inputs: scope.inputs,
    steps: scope.steps,
    run: scope.run,
    now: async (picture?: string, timezone?: string) => {
      if (!scope.now) return needClock('$now()');
      const ms = scope.now.getTime();
      if (picture === undefined && timezone === undefined) return new Date(ms).toISOString();
      return fromMillis.evaluate(undefined, { ms, picture, timezone });
    },
    millis: () => (scope.now ? scope.now.getTime() : needClock('$millis()')),
    random: () => {
      // A playbook must decide the same way when a run is resumed or replayed.
      throw new Error('$random() is not allowed: expressions must give the same result when a run is resumed');
    },
  };
  if ('item' in scope) b.item = scope.item;
  if ('index' in scope) b.index = scope.index;
  return b;
}

/** JSONata results carry sequence flags and may be functions; the engine needs plain JSON-like data. */
function toPlain(value: unknown): unknown {
  if (typeof value === 'function') throw new Error('the expression gave a function, not a value');
  if (Array.isArray(value)) return value.map(toPlain);
  if (value !== null && typeof value === 'object' && isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const p = toPlain(v);
      if (p !== undefined) out[k] = p;
    }
    return out;
  }
  return value;
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Evaluate every `{% … %}` string in a value (objects and lists walked deeply); other strings
 * are literals. A map key whose expression gives no value (JSONata's undefined) is left out, so
 * the action's own input schema reports it if it was required.
 */
export async function resolveValue(value: unknown, scope: ExprScope, where?: string | ExprWhere): Promise<unknown> {
  const label = typeof where === 'string' ? { field: where } : where;
  const at = (suffix: string): ExprWhere => ({
    field: `${label?.field ?? ''}${suffix}`.replace(/^\./, '') || 'value',
    ...(label?.pos ? { pos: label.pos } : {}),
  });
  if (isExpression(value)) return evaluate(value, scope, label ?? { field: 'value' });
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (let i = 0; i < value.length; i++) out.push(await resolveValue(value[i], scope, at(`[${i}]`)));
    return out;
  }
  if (value !== null && typeof value === 'object' && isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const r = await resolveValue(v, scope, at(`.${k}`));
      if (r !== undefined) out[k] = r;
    }
    return out;
  }
  return value;
}
