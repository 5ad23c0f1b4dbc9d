/**
 * The routing table: which alert starts which playbook. Loaded in two passes, as playbooks are:
 * the schema (zod, `file:line:col`), then rules that need the playbooks themselves (the playbook
 * exists and loads, every input the route maps is declared, every step it sets an approval for
 * exists, every expression compiles). A bad table is refused whole, before any alert is read.
 *
 * Matching is in file order and the first route that matches wins. A route's criteria are checked
 * cheapest first; the resource-tag criterion, the only one that may need an AWS call, is checked
 * last and only for a route whose other criteria all matched.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { actionIds, actions } from '../actions/registry.js';
import { parseDuration } from '../core/clock.js';
import { InputError, type SourcePos } from '../core/errors.js';
import { combine, parseYamlSource, suggestion, validateWith, type YamlSource } from '../core/yaml-source.js';
import { PLAYBOOK_DIRS } from '../core/paths.js';
import { allSteps } from '../playbook/compile.js';
import { compileExpression, expressionBody, isExpression, isJsonataError } from '../playbook/expr.js';
import { findPlaybook, loadPlaybook } from '../playbook/load.js';
import type { LoadedPlaybook } from '../playbook/schema.js';
import type { Alert } from './alert.js';
import { globMatch } from './glob.js';
import { RoutesFile, type RouteMatchT, type RouteT } from './routes-schema.js';
import { readInputFile } from '../core/read-input.js';

export const DEFAULT_ROUTES_FILE = 'routes.yaml';

export interface LoadedRoute extends RouteT {
  index: number;
  loaded: LoadedPlaybook;
  lockWaitMs: number;
}

export interface RoutingTable {
  file: string;
  routes: LoadedRoute[];
  posOf(path: (string | number)[]): SourcePos | undefined;
}

export function loadRoutes(file: string = DEFAULT_ROUTES_FILE): RoutingTable {
  const path = resolve(file);
  if (!existsSync(path)) {
    throw new InputError(`routing table ${file} does not exist`, {
      field: '--routes',
      hint: 'create routes.yaml (see the example in the repository root) or pass --routes FILE',
    });
  }
  return parseRoutes(readInputFile(path, 'routes', '--routes'), file);
}

export function parseRoutes(text: string, file: string): RoutingTable {
  const source = parseYamlSource(text, file);
  const parsed = validateWith(RoutesFile, source);
  const errors: InputError[] = [];
  const routes: LoadedRoute[] = [];
  const names = new Set<string>();
  parsed.routes.forEach((route, index) => {
    // An unknown name points at the name itself (the key), anything else at the value.
    const at = (path: (string | number)[], key: boolean) => (key ? source.keyPosOf : source.posOf)(['routes', index, ...path]);
    const push = (key: boolean) => (message: string, path: (string | number)[], hint?: string) => {
      const pos = at(path, key);
      errors.push(
        new InputError(message, {
          ...(pos ? { pos } : {}),
          field: ['routes', `[${index}]`, ...path].join('.').replace('.[', '['),
          ...(hint ? { hint } : {}),
        }),
      );
    };
    const err = push(false);
    const errAtKey = push(true);
    if (names.has(route.name)) err(`duplicate route name '${route.name}'`, ['name']);
    names.add(route.name);
    let loaded: LoadedPlaybook;
    try {
      loaded = loadPlaybook(resolve(findPlaybook(route.playbook, PLAYBOOK_DIRS)), {
        actionIds,
        actionInputs: (id) => actions.get(id)?.input,
      });
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      err(`route '${route.name}': ${e.line}`, ['playbook'], e.hint);
      return;
    }
    const declared = Object.keys(loaded.playbook.inputs ?? {});
    for (const [name, value] of Object.entries(route.inputs)) {
      if (!declared.includes(name))
        errAtKey(
          `unknown input '${name}' of playbook ${loaded.playbook.id}${suggestion(name, declared)}`,
          ['inputs', name],
          declared.length ? `its inputs: ${declared.join(', ')}` : 'it declares no inputs',
        );
      checkExpression(value, ['inputs', name], err);
    }
    if (route.incident !== undefined) checkExpression(route.incident, ['incident'], err);
    for (const key of ['roleArn', 'externalId'] as const) {
      for (const m of (route[key] ?? '').matchAll(/\{%([\s\S]*?)%\}/g)) checkExpression(`{%${m[1]}%}`, [key], err);
    }
    const stepIds = allSteps(loaded.playbook).map((s) => s.id);
    for (const stepId of Object.keys(route.approval)) {
      if (!stepIds.includes(stepId))
        errAtKey(
          `unknown step '${stepId}' of playbook ${loaded.playbook.id}${suggestion(stepId, stepIds)}`,
          ['approval', stepId],
          `its steps: ${stepIds.join(', ')}`,
        );
    }
    for (const t of [route.match.type ?? []].flat()) {
      if (t.trim() !== t) err(`type pattern '${t}' has leading or trailing spaces`, ['match', 'type']);
    }
    routes.push({ ...route, index, loaded, lockWaitMs: parseDuration(route.lockTimeout) });
  });
  if (errors.length > 0) throw combine(errors);
  return { file, routes, posOf: source.posOf };
}

function checkExpression(value: unknown, path: (string | number)[], err: (m: string, p: (string | number)[]) => void): void {
  if (!isExpression(value)) return;
  try {
    compileExpression(expressionBody(value)!);
  } catch (e) {
    err(`invalid JSONata expression: ${isJsonataError(e) ? e.message : (e as Error).message}`, path);
  }
}

/**
 * Tags of resources, looked up when the alert carries none (ec2:DescribeInstances), for the route
 * whose tag criterion needs them: the route names the role the lookup acts through.
 */
export type TagLookup = (alert: Alert, route: LoadedRoute) => Promise<Record<string, Record<string, string>>>;

export interface RouteDecision {
  route?: LoadedRoute;
  /** Why each route before the chosen one (or every route) did not match: "crypto: type … does not match …". */
  reasons: string[];
  /** Tags that decided a tag criterion, by resource id, and where they came from. */
  tagsFrom?: 'alert' | 'lookup';
}

export async function chooseRoute(alert: Alert, table: RoutingTable, lookupTags?: TagLookup): Promise<RouteDecision> {
  const reasons: string[] = [];
  if (!alert.active) return { reasons: [alert.inactiveReason ?? 'the alert is not active'] };
  for (const route of table.routes) {
    const why = mismatch(alert, route.match);
    if (why) {
      reasons.push(`${route.name}: ${why}`);
      continue;
    }
    if (route.match.tags) {
      let tags = alert.tags;
      let from: 'alert' | 'lookup' = 'alert';
      const untagged = alert.resources.instanceIds.some((id) => !alert.tags[id]);
      if (untagged && lookupTags) {
        tags = { ...(await lookupTags(alert, route)), ...alert.tags };
        from = 'lookup';
      }
      const tagWhy = tagMismatch(alert, route.match.tags, tags);
      if (tagWhy) {
        reasons.push(`${route.name}: ${tagWhy}`);
        continue;
      }
      return { route, reasons, tagsFrom: from };
    }
    return { route, reasons };
  }
  return { reasons };
}

const list = <T>(v: T | T[] | undefined): T[] | undefined => (v === undefined ? undefined : Array.isArray(v) ? v : [v]);

/** The first criterion the alert fails, in words; undefined when all but tags match. */
export function mismatch(alert: Alert, m: RouteMatchT): string | undefined {
  if (alert.sample && !m.samples) return 'a GuardDuty sample finding (set match.samples: true to act on samples)';
  const sources = list(m.source);
  if (sources && !sources.some((s) => globMatch(s, alert.source))) return `source '${alert.source}' is not ${sources.join(' or ')}`;
  const types = list(m.type);
  if (types && !types.some((t) => globMatch(t, alert.type)))
    return `type '${alert.type}' does not match ${types.map((t) => `'${t}'`).join(' or ')}`;
  if (m.minSeverity !== undefined && alert.severity < m.minSeverity) return `severity ${alert.severity} is below ${m.minSeverity}`;
  const accounts = list(m.account);
  if (accounts && !(alert.account && accounts.includes(alert.account)))
    return `account ${alert.account ?? '(none)'} is not ${accounts.join(' or ')}`;
  const regions = list(m.region);
  if (regions && !(alert.region && regions.includes(alert.region)))
    return `region ${alert.region ?? '(none)'} is not ${regions.join(' or ')}`;
  return undefined;
}

function tagMismatch(alert: Alert, want: Record<string, string>, tags: Record<string, Record<string, string>>): string | undefined {
  const ids = [...alert.resources.instanceIds, ...alert.resources.userNames, ...alert.resources.roleNames];
  const ok = ids.some((id) => Object.entries(want).every(([k, v]) => tags[id]?.[k] !== undefined && (v === '*' || tags[id]![k] === v)));
  if (ok) return undefined;
  const wanted = Object.entries(want)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  return ids.length
    ? `no resource of the alert carries ${wanted}`
    : `the alert names no instance, user or role to read tags from (wanted ${wanted})`;
}

export type { YamlSource };
