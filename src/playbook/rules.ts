/**
 * Second pass over a playbook that passed its schema: the rules a schema cannot say. Every
 * problem names the file, line and column of the node at fault and its dotted field.
 *
 * Step graph: each `steps` map is a scope (the playbook's, and one per parallel branch); a step
 * may go only to steps of its own scope. A step without `next` ends its scope successfully, as
 * does an `end` step; an `onError` path counts as a way out, since the author chose it. Step ids
 * are unique across the whole playbook, because outputs are addressed as `$steps.<id>` from
 * anywhere.
 */
import type { Node as YamlNode } from 'yaml';
import { isScalar } from 'yaml';
import type * as z from 'zod';
import { InputError, type SourcePos } from '../core/errors.js';
import {
  dottedPath,
  issuesToErrors,
  objectKeys,
  sortByPos,
  suggestion,
  unwrap,
  type SourcePath,
  type YamlSource,
} from '../core/yaml-source.js';
import { parseDuration } from '../core/clock.js';
import { compileExpression, expressionBody, expressionOffset, isExpression, isJsonataError, looksLikeBrokenExpression } from './expr.js';
import { checkValue, compilePattern } from './inputs.js';
import type { LoadedPlaybook, StepT } from './schema.js';

export interface CheckOptions {
  /** Every registered action id. */
  actionIds: ReadonlySet<string>;
  /** An action's input schema, to check each step's `with` against it. */
  actionInputs?: (id: string) => z.ZodType | undefined;
}

/** A loaded playbook, with its YAML source when the loader kept it (for exact expression positions). */
export type CheckablePlaybook = LoadedPlaybook & { source?: YamlSource };

interface Scope {
  /** Path of the object holding `start` and `steps`: [] or ['steps', 'p', 'branches', 0]. */
  path: (string | number)[];
  start: string;
  steps: Record<string, StepT>;
  inBranch: boolean;
}

interface Edge {
  /** Path of the field naming the target, relative to the step. */
  field: (string | number)[];
  target: string;
}

export function checkPlaybook(loaded: CheckablePlaybook, opts: CheckOptions): InputError[] {
  const { playbook } = loaded;
  const errors: InputError[] = [];
  const posOf = (path: SourcePath): SourcePos | undefined => loaded.posOf([...path]);
  const keyPosOf = (path: SourcePath): SourcePos | undefined => loaded.source?.keyPosOf(path) ?? posOf(path);
  const report: Report = (path, message, opt = {}) => {
    const pos = opt.pos ?? (opt.atKey ? keyPosOf(path) : posOf(path));
    errors.push(
      new InputError(message, { ...(pos ? { pos } : {}), field: opt.field ?? dottedPath(path), ...(opt.hint ? { hint: opt.hint } : {}) }),
    );
  };

  const scopes = collectScopes(playbook.start, playbook.steps as Record<string, StepT>, [], false);
  const allIds = new Set<string>();
  const firstSeen = new Map<string, (string | number)[]>();
  for (const scope of scopes) {
    for (const id of Object.keys(scope.steps)) {
      const path = [...scope.path, 'steps', id];
      const seen = firstSeen.get(id);
      if (seen) {
        const where = keyPosOf(seen);
        report(
          path,
          `duplicate step id '${id}': also defined at ${where ? `${where.file}:${where.line}:${where.col}` : dottedPath(seen)}; step ids must be unique in the whole playbook because outputs are read as $steps.${id}`,
          { atKey: true },
        );
      } else {
        firstSeen.set(id, path);
      }
      allIds.add(id);
    }
  }

  for (const scope of scopes) checkGraph(scope, allIds, report);

  const inputNames = new Set(Object.keys(playbook.inputs));
  const exprCtx: ExprCheckContext = { loaded, stepIds: allIds, inputNames, report };
  for (const scope of scopes) {
    for (const [id, step] of Object.entries(scope.steps)) {
      const path = [...scope.path, 'steps', id];
      checkStep(step, path, opts, exprCtx, report, loaded);
    }
  }

  checkInputDecls(loaded, report);
  return sortByPos(errors);
}

interface ReportOptions {
  /** Point at the key of the map entry rather than its value. */
  atKey?: boolean;
  hint?: string;
  /** An exact position (a character inside an expression) instead of the node's. */
  pos?: SourcePos;
  field?: string;
}
type Report = (path: SourcePath, message: string, opt?: ReportOptions) => void;

function collectScopes(start: string, steps: Record<string, StepT>, path: (string | number)[], inBranch: boolean): Scope[] {
  const out: Scope[] = [{ path, start, steps, inBranch }];
  for (const [id, step] of Object.entries(steps)) {
    if (step.type !== 'parallel') continue;
    for (const [i, b] of step.branches.entries()) out.push(...collectScopes(b.start, b.steps, [...path, 'steps', id, 'branches', i], true));
  }
  return out;
}

function edgesOf(step: StepT): Edge[] {
  const out: Edge[] = [];
  switch (step.type) {
    case 'choice':
      for (const [i, c] of step.choices.entries()) out.push({ field: ['choices', i, 'next'], target: c.next });
      out.push({ field: ['default'], target: step.default });
      break;
    case 'end':
      break;
    default:
      if (step.next !== undefined) out.push({ field: ['next'], target: step.next });
  }
  if ('onError' in step && step.onError !== undefined) {
    const oe = step.onError;
    out.push(typeof oe === 'string' ? { field: ['onError'], target: oe } : { field: ['onError', 'next'], target: oe.next });
  }
  return out;
}

/** A step that ends its scope when it succeeds: an end step, or any step but a choice with no `next`. */
function endsScope(step: StepT): boolean {
  if (step.type === 'end') return true;
  if (step.type === 'choice') return false;
  return step.next === undefined;
}

function checkGraph(scope: Scope, allIds: ReadonlySet<string>, report: Report): void {
  const ids = Object.keys(scope.steps);
  const local = new Set(ids);
  const badRef = (path: SourcePath, target: string) => {
    if (allIds.has(target)) {
      report(
        path,
        scope.inBranch
          ? `step '${target}' is outside this parallel branch: a branch can only go to its own steps`
          : `step '${target}' is inside a parallel branch: only that branch's own steps can go to it`,
      );
    } else {
      report(path, `no step named '${target}'${suggestion(target, ids)}`);
    }
  };

  const startOk = local.has(scope.start);
  if (!startOk) badRef([...scope.path, 'start'], scope.start);

  // Edges to steps that do not exist are reported above; a step with such an edge is then left
  // out of the reachability rules so one typo does not also read as "no way to end".
  const broken = new Set<string>();
  const graph = new Map<string, string[]>();
  for (const [id, step] of Object.entries(scope.steps)) {
    const targets: string[] = [];
    for (const e of edgesOf(step)) {
      if (local.has(e.target)) targets.push(e.target);
      else {
        broken.add(id);
        badRef([...scope.path, 'steps', id, ...e.field], e.target);
      }
    }
    graph.set(id, targets);
  }

  if (!startOk) return;
  const reached = new Set<string>([scope.start]);
  const queue = [scope.start];
  while (queue.length)
    for (const t of graph.get(queue.shift()!) ?? []) {
      if (reached.has(t)) continue;
      reached.add(t);
      queue.push(t);
    }
  for (const id of ids) {
    if (!reached.has(id))
      report([...scope.path, 'steps', id], `unreachable step '${id}': no path from start '${scope.start}' leads to it`, { atKey: true });
  }

  // Walk backwards from every step that can end the scope.
  const reverse = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const [from, targets] of graph) for (const t of targets) reverse.get(t)!.push(from);
  const canEnd = new Set(ids.filter((id) => endsScope(scope.steps[id]!) || broken.has(id)));
  const back = [...canEnd];
  while (back.length)
    for (const f of reverse.get(back.shift()!) ?? []) {
      if (canEnd.has(f)) continue;
      canEnd.add(f);
      back.push(f);
    }

  const trapped = ids.filter((id) => reached.has(id) && !canEnd.has(id));
  const done = new Set<string>();
  for (const id of trapped) {
    if (done.has(id)) continue;
    // One report per group of trapped steps that lead into each other.
    const group = new Set([id]);
    const stack = [id];
    while (stack.length) {
      const cur = stack.pop()!;
      for (const n of [...(graph.get(cur) ?? []), ...(reverse.get(cur) ?? [])]) {
        if (!trapped.includes(n) || group.has(n)) continue;
        group.add(n);
        stack.push(n);
      }
    }
    for (const g of group) done.add(g);
    const members = ids.filter((s) => group.has(s));
    report(
      [...scope.path, 'steps', id],
      `no way to end: from step '${id}' every path loops through ${members.map((m) => `'${m}'`).join(', ')} and never reaches an end step or a step without next`,
      {
        atKey: true,
        hint: 'give one of these steps a next (or a choice a default) that leads to an end step',
      },
    );
  }
}

function checkStep(
  step: StepT,
  path: (string | number)[],
  opts: CheckOptions,
  ctx: ExprCheckContext,
  report: Report,
  loaded: CheckablePlaybook,
): void {
  switch (step.type) {
    case 'action':
    case 'map': {
      if (!opts.actionIds.has(step.action)) {
        report([...path, 'action'], `unknown action '${step.action}'${suggestion(step.action, opts.actionIds)}`);
      } else {
        checkWithAgainstAction(step.action, step.with, [...path, 'with'], opts, report, loaded);
      }
      checkValueExpressions(step.with, [...path, 'with'], ctx);
      if (step.type === 'action' && step.when !== undefined) checkExpression(step.when, [...path, 'when'], ctx, 'required');
      if (step.type === 'map') checkExpression(step.items, [...path, 'items'], ctx, 'required');
      break;
    }
    case 'choice':
      for (const [i, c] of step.choices.entries()) checkExpression(c.when, [...path, 'choices', i, 'when'], ctx, 'required');
      break;
    case 'wait':
      if (typeof step.duration === 'string') {
        if (isExpression(step.duration)) checkExpression(step.duration, [...path, 'duration'], ctx, 'required');
        else if (!isDuration(step.duration)) {
          report([...path, 'duration'], `'${step.duration}' is neither a duration (30s, 15m, 2h) nor an expression {% … %}`);
        }
      }
      break;
    default:
      break;
  }
}

function isDuration(text: string): boolean {
  try {
    parseDuration(text);
    return true;
  } catch {
    // parseDuration's only failure is "not a duration", which is the answer sought here.
    return false;
  }
}

function checkWithAgainstAction(
  action: string,
  withValue: Record<string, unknown>,
  path: (string | number)[],
  opts: CheckOptions,
  report: Report,
  loaded: CheckablePlaybook,
): void {
  const schema = opts.actionInputs?.(action);
  if (!schema) return;
  const unwrapped = unwrap(schema);
  const known = objectKeys(unwrapped);
  if (!unwrapped || known.length === 0) return;
  const shape = (unwrapped as unknown as { _zod: { def: { shape: Record<string, z.core.$ZodType> } } })._zod.def.shape;

  for (const key of Object.keys(withValue)) {
    if (!Object.hasOwn(shape, key)) {
      report([...path, key], `unknown field '${key}' for action ${action}${suggestion(key, known)}`, {
        atKey: true,
        hint: `fields of ${action}: ${known.join(', ')}`,
      });
    }
  }
  for (const key of known) {
    const field = shape[key]!;
    const optional = (field as unknown as { _zod: { optin?: string } })._zod.optin !== undefined;
    if (!optional && !Object.hasOwn(withValue, key)) {
      report(path, `missing field '${key}' required by action ${action}`);
    }
  }
  // Literal values can be checked now; expressions are checked by the action when they resolve.
  for (const [key, value] of Object.entries(withValue)) {
    const field = shape[key];
    if (!field || containsExpression(value)) continue;
    const result = (field as unknown as z.ZodType).safeParse(value);
    if (result.success) continue;
    const source = loaded.source ?? { value: loaded.playbook, posOf: loaded.posOf, keyPosOf: loaded.posOf };
    for (const e of issuesToErrors(result.error.issues, field, source, [...path, key])) {
      report([...path, key], `${e.message} (input of action ${action})`, {
        ...(e.pos ? { pos: e.pos } : {}),
        ...(e.field ? { field: e.field } : {}),
      });
    }
  }
}

function containsExpression(value: unknown): boolean {
  if (typeof value === 'string') return isExpression(value) || looksLikeBrokenExpression(value);
  if (Array.isArray(value)) return value.some(containsExpression);
  if (value !== null && typeof value === 'object') return Object.values(value).some(containsExpression);
  return false;
}

// --- expressions

interface ExprCheckContext {
  loaded: CheckablePlaybook;
  stepIds: ReadonlySet<string>;
  inputNames: ReadonlySet<string>;
  report: Report;
}

function checkValueExpressions(value: unknown, path: (string | number)[], ctx: ExprCheckContext): void {
  if (typeof value === 'string') {
    if (isExpression(value)) checkExpression(value, path, ctx, 'optional');
    else if (looksLikeBrokenExpression(value)) {
      ctx.report(path, 'this looks like an expression but is not one: an expression must be the whole string, {% … %}');
    }
  } else if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) checkValueExpressions(v, [...path, i], ctx);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) checkValueExpressions(v, [...path, k], ctx);
  }
}

function checkExpression(text: string, path: (string | number)[], ctx: ExprCheckContext, need: 'required' | 'optional'): void {
  const body = expressionBody(text);
  if (body === undefined) {
    if (need === 'required') ctx.report(path, `expected an expression {% … %}, got the literal '${text}'`);
    return;
  }
  let ast: JsonataNode;
  try {
    ast = compileExpression(body).ast() as JsonataNode;
  } catch (err) {
    if (!isJsonataError(err)) throw err;
    const end = typeof err.position === 'number' ? err.position : 0;
    const start = err.token && err.token !== '(end)' ? end - String(err.token).length : end;
    const at = expressionOffset(text) + Math.max(0, Math.min(body.length, start));
    const pos = charPos(ctx.loaded, path, text, at);
    ctx.report(path, `invalid expression: ${err.message}${err.code ? ` (JSONata ${err.code})` : ''}`, pos ? { pos } : {});
    return;
  }
  for (const ref of references(ast, body)) {
    const known = ref.root === 'steps' ? ctx.stepIds : ctx.inputNames;
    if (known.has(ref.name)) continue;
    const pos = charPos(ctx.loaded, path, text, expressionOffset(text) + ref.start);
    const hyphenHint =
      ref.root === 'steps' && ref.followedByMinus
        ? `; a step id with '-' is written $steps.\`${[...known].find((k) => k.startsWith(`${ref.name}-`)) ?? `${ref.name}-…`}\``
        : '';
    const what = ref.root === 'steps' ? 'step' : 'input';
    ctx.report(path, `$${ref.root}.${ref.name} names no ${what}${suggestion(ref.name, known)}${hyphenHint}`, pos ? { pos } : {});
  }
}

interface JsonataNode {
  type?: string;
  value?: unknown;
  position?: number;
  steps?: JsonataNode[];
  [k: string]: unknown;
}

interface Reference {
  root: 'steps' | 'inputs';
  name: string;
  start: number;
  followedByMinus: boolean;
}

/** `$steps.<id>` and `$inputs.<name>` paths in a parsed expression. */
function references(ast: JsonataNode, body: string): Reference[] {
  const out: Reference[] = [];
  const seen = new Set<object>();
  const visit = (node: unknown) => {
    if (node === null || typeof node !== 'object' || seen.has(node)) return;
    seen.add(node);
    const n = node as JsonataNode;
    if (n.type === 'path' && Array.isArray(n.steps) && n.steps.length >= 2) {
      const [first, second] = n.steps as [JsonataNode, JsonataNode];
      if (
        first.type === 'variable' &&
        (first.value === 'steps' || first.value === 'inputs') &&
        second.type === 'name' &&
        typeof second.value === 'string'
      ) {
        const end = typeof second.position === 'number' ? second.position : 0;
        const quoted = body[end - 1] === '`';
        const start = Math.max(0, end - second.value.length - (quoted ? 2 : 0));
        out.push({ root: first.value, name: second.value, start, followedByMinus: /^\s*-/.test(body.slice(end)) && n.steps.length === 2 });
      }
    }
    for (const v of Object.values(n)) {
      if (Array.isArray(v)) v.forEach(visit);
      else visit(v);
    }
  };
  visit(ast);
  return out;
}

/**
 * Position of character `offset` of a string value in the file. Exact for plain, quoted and
 * block-literal scalars written on their lines; otherwise the start of the value.
 */
function charPos(loaded: CheckablePlaybook, path: SourcePath, value: string, offset: number): SourcePos | undefined {
  const source = loaded.source;
  const node = source?.nodeAt(path);
  if (!source || !node || !isScalar(node) || !node.range) return loaded.posOf([...path]);
  const [start, end] = node.range;
  const raw = source.text.slice(start, end);
  const type = (node as YamlNode & { type?: string }).type;
  if (type === 'BLOCK_LITERAL' || type === 'BLOCK_FOLDED') {
    const nl = raw.indexOf('\n');
    if (nl < 0) return source.posAt(start);
    const lines = raw.slice(nl + 1).split('\n');
    const indent = Math.min(...lines.filter((l) => l.trim() !== '').map((l) => l.length - l.trimStart().length));
    let lineStart = start + nl + 1;
    let consumed = 0;
    for (const line of lines) {
      const content = line.slice(indent);
      if (offset <= consumed + content.length) return source.posAt(lineStart + indent + (offset - consumed));
      consumed += content.length + 1;
      lineStart += line.length + 1;
    }
    return source.posAt(start);
  }
  const at = raw.indexOf(value);
  if (at >= 0) return source.posAt(start + at + offset);
  return source.posAt(start);
}

// --- input declarations

function checkInputDecls(loaded: CheckablePlaybook, report: Report): void {
  for (const [name, decl] of Object.entries(loaded.playbook.inputs)) {
    const path = ['inputs', name];
    const regex = compilePattern(decl.pattern);
    if ('error' in regex) {
      report([...path, 'pattern'], `invalid pattern for input '${name}': ${regex.error}`);
      continue;
    }
    if (decl.default !== undefined) {
      const problem = checkValue(decl.default, decl, regex.value);
      if (problem) report([...path, 'default'], `invalid default for input '${name}': ${problem}`);
    }
    decl.examples?.forEach((ex, i) => {
      const problem = checkValue(ex, decl, regex.value);
      if (problem) report([...path, 'examples', i], `invalid example for input '${name}': ${problem}`);
    });
  }
}
