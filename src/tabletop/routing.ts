/**
 * Which playbook an alert inject starts, with which inputs and approval policy. The alert event
 * is read by production's own parser (src/triggers), so it must be shaped as AWS delivers it, and
 * its dedup key is production's. Then either:
 *  - the scenario names the playbook (and its inputs, `{% %}` JSONata over `$alert`, the event), or
 *  - production's routing table chooses, exactly as `firebreak trigger` would: first matching
 *    route, its inputs mapped from the alert, its approval policy. An alert no route matches
 *    starts nothing, as in production, and the timeline says why.
 */
import { dirname, resolve } from 'node:path';
import { InputError } from '../core/errors.js';
import { compileExpression, expressionBody, isExpression } from '../playbook/expr.js';
import { scopedWorld, type World } from '../sim/index.js';
import { ConfigSchema, type Config } from '../config/config.js';
import { fillTemplate, responderWhere, type ResponderWhere } from '../triggers/responder-role.js';
import { describeAlert, type Alert } from '../triggers/alert.js';
import { parseAlertValue } from '../triggers/parse.js';
import { evaluateOverAlert, mapRouteInputs } from '../triggers/route-inputs.js';
import { chooseRoute, loadRoutes, type RoutingTable, type TagLookup } from '../triggers/routes.js';
import type { AlertEvent } from './findings.js';
import { defaultRoutesFile, playbookFile } from './load-paths.js';
import type { AlertT } from './scenario.js';

export interface AlertRoute {
  /** The playbook file to run. */
  playbookFile: string;
  inputs: Record<string, unknown>;
  approvals?: Record<string, 'auto' | 'required'>;
  incident?: string;
  /** The route that matched, when production routing chose the playbook. */
  route?: string;
  /** Where the run acts: the alert's Region, and the responder role (the route's, or the inject's). */
  where: ResponderWhere;
}

export interface RoutingContext {
  scenarioFile: string;
  /** The routing table (default: routes.yaml of the working directory). */
  routesFile?: string;
  world: World;
}

/**
 * Routes name their own role; the config's default role is not used: a scenario's world is
 * self-contained, and a deployment's config names roles of its real accounts.
 */
const NO_DEFAULT_ROLE: Config = ConfigSchema.parse({});

export type RouteResult = { route: AlertRoute; alert: Alert } | { ignored: string[]; alert: Alert };

const tables = new Map<string, RoutingTable>();

function table(ctx: RoutingContext): RoutingTable {
  const file = ctx.routesFile ? resolve(dirname(ctx.scenarioFile), ctx.routesFile) : defaultRoutesFile();
  let t = tables.get(file);
  if (!t) {
    t = loadRoutes(file);
    tables.set(file, t);
  }
  return t;
}

/** The normalized alert production would make of the event (one event, one alert). */
export function readAlert(ev: AlertEvent): Alert {
  const alerts = parseAlertValue(ev.event, { deliveryId: ev.dedupKey, file: 'alert' });
  if (alerts.length !== 1) throw new InputError(`an alert inject must hold one finding, this one holds ${alerts.length}`);
  return alerts[0]!;
}

export async function resolveAlertRoute(a: AlertT, ev: AlertEvent, ctx: RoutingContext): Promise<RouteResult> {
  const alert = readAlert(ev);
  if (a.playbook) {
    const inputs = (await resolveAgainstAlert(a.inputs ?? {}, ev.event, 'inputs')) as Record<string, unknown>;
    let file: string;
    try {
      file = playbookFile(a.playbook, ctx.scenarioFile);
    } catch (err) {
      if (err instanceof InputError && !err.pos)
        throw new InputError(err.message, { field: 'playbook', ...(err.hint ? { hint: err.hint } : {}), cause: err });
      throw err;
    }
    const where = await injectWhere(a, alert);
    return { alert, route: { playbookFile: file, inputs, ...(a.approvals ? { approvals: a.approvals } : {}), where } };
  }
  const t = table(ctx);
  const decision = await chooseRoute(alert, t, worldTags(ctx.world));
  const where = decision.route ? await responderWhere(alert, decision.route, NO_DEFAULT_ROLE, {}) : undefined;
  if (!decision.route)
    return { alert, ignored: decision.reasons.length ? decision.reasons : [`no route in ${t.file} matches ${describeAlert(alert)}`] };
  const r = decision.route;
  const inputs = await mapRouteInputs(r.inputs, alert, r.loaded, { route: r.name, posOf: t.posOf, index: r.index });
  let incident: string | undefined;
  if (r.incident !== undefined) {
    const v = await evaluateOverAlert(r.incident, alert, { field: `routes[${r.index}].incident` });
    if (v !== undefined && v !== null) incident = String(v);
  }
  const approvals = { ...r.approval, ...(a.approvals ?? {}) };
  return {
    alert,
    route: {
      playbookFile: resolve(r.loaded.file),
      inputs,
      ...(Object.keys(approvals).length ? { approvals } : {}),
      ...(incident ? { incident } : {}),
      route: r.name,
      where: where!,
    },
  };
}

/**
 * Instance tags for routes that match on them, read from the world: the answer production's
 * ec2:DescribeInstances lookup gets from the same cloud.
 */
/** The inject's own Region and responder role, when it names the playbook (the role a template over the alert). */
async function injectWhere(a: AlertT, alert: Alert): Promise<ResponderWhere> {
  const region = alert.region ? { region: alert.region } : {};
  if (!a.roleArn) return region;
  const externalId = a.externalId ? await fillTemplate(a.externalId, alert, 'externalId') : undefined;
  return {
    ...region,
    roleArn: await fillTemplate(a.roleArn, alert, 'roleArn'),
    ...(externalId ? { externalId } : {}),
    sourceIdentity: 'firebreak-tabletop',
  };
}

function worldTags(world: World): TagLookup {
  return async (alert) => {
    const out: Record<string, Record<string, string>> = {};
    // Tags of the alert's instances where they live: the alert's account and Region.
    const scope = scopedWorld(world, { account: alert.account ?? world.account.id, region: alert.region ?? world.region });
    for (const id of alert.resources.instanceIds) {
      const inst = scope?.ec2.instances.find((i) => i.id === id);
      if (inst) out[id] = { ...inst.tags };
    }
    return out;
  };
}

/** Evaluate every `{% … %}` string in `value` with `$alert` bound to the event. */
export async function resolveAgainstAlert(value: unknown, event: unknown, field: string): Promise<unknown> {
  if (isExpression(value)) {
    try {
      const r = await compileExpression(expressionBody(value)!).evaluate(undefined, { alert: event });
      return r === undefined ? undefined : JSON.parse(JSON.stringify(r));
    } catch (err) {
      throw new InputError(`failed to evaluate ${field}: ${(err as Error).message}`, { field, cause: err });
    }
  }
  if (Array.isArray(value)) return Promise.all(value.map((v, i) => resolveAgainstAlert(v, event, `${field}[${i}]`)));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const r = await resolveAgainstAlert(v, event, `${field}.${k}`);
      if (r !== undefined) out[k] = r;
    }
    return out;
  }
  return value;
}
