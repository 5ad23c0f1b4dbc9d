/**
 * Scenario files → a checked `LoadedScenario`, in two passes as playbooks are checked: the zod
 * schema (shape, with file:line:col from the YAML), then the rules below (references between
 * injects, objectives, the world, the playbooks and their inputs, the SDK's operations). Anything
 * wrong throws one InputError with every further problem in `.more`, before anything runs.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { actionIds, actions } from '../actions/registry.js';
import { parseDuration } from '../core/clock.js';
import { InputError, type SourcePos } from '../core/errors.js';
import { combine, issuesToErrors, parseYamlSource, suggestion, validateWith, type SourcePath } from '../core/yaml-source.js';
import { allSteps } from '../playbook/compile.js';
import { loadPlaybook } from '../playbook/load.js';
import { validateInputs } from '../playbook/inputs.js';
import type { LoadedPlaybook } from '../playbook/schema.js';
import { loadWorld, scopedWorld, worldSchema, type World } from '../sim/index.js';
import { commandFor } from './sdk-commands.js';
import { ATTACKER_KINDS, kindOf, scenarioSchema, type AttackerStepT, type ScenarioT } from './scenario.js';
import { buildAlertEvent } from './findings.js';
import { resolveAlertRoute } from './routing.js';
import { readInputFile } from '../core/read-input.js';
export { findScenario, playbookFile, SCENARIO_DIRS } from './load-paths.js';

export interface LoadedScenario {
  scenario: ScenarioT;
  file: string;
  sha256: string;
  /** The world as the file gives it; an exercise works on a copy. */
  world: World;
  worldFile?: string;
  start: Date;
  /** Simulated ms after `start` at which the exercise ends, when the scenario says. */
  durationMs?: number;
  posOf(path: SourcePath): SourcePos | undefined;
  /** Playbooks the alerts run, by absolute file path. */
  playbooks: ReadonlyMap<string, LoadedPlaybook>;
}

export async function loadScenario(file: string): Promise<LoadedScenario> {
  return loadScenarioText(readInputFile(file, 'scenario'), file);
}

export async function loadScenarioText(text: string, file: string): Promise<LoadedScenario> {
  const source = parseYamlSource(text, file);
  const scenario = validateWith(scenarioSchema, source, file);
  const { world, worldFile } = await resolveWorld(scenario, source, file);
  const start = new Date(scenario.start ?? world.time);
  const durationMs = scenario.duration === undefined ? undefined : parseDuration(scenario.duration);
  const problems: InputError[] = [];
  const at = (path: SourcePath, message: string, hint?: string) => {
    const pos = source.posOf(path);
    problems.push(new InputError(message, { ...(pos ? { pos } : {}), field: dotted(path), ...(hint ? { hint } : {}) }));
  };
  const playbooks = new Map<string, LoadedPlaybook>();
  checkReferences(scenario, world, at);
  await checkAlerts(scenario, world, start, file, playbooks, source.posOf, problems);
  await checkCalls(scenario, at);
  if (problems.length > 0) throw combine(problems);
  return {
    scenario,
    file,
    sha256: createHash('sha256').update(text).digest('hex'),
    world,
    ...(worldFile ? { worldFile } : {}),
    start,
    ...(durationMs !== undefined ? { durationMs } : {}),
    posOf: source.posOf,
    playbooks,
  };
}

async function resolveWorld(
  scenario: ScenarioT,
  source: ReturnType<typeof parseYamlSource>,
  file: string,
): Promise<{ world: World; worldFile?: string }> {
  if (typeof scenario.world === 'string') {
    const worldFile = resolve(dirname(file), scenario.world);
    if (!existsSync(worldFile)) {
      const pos = source.posOf(['world']);
      throw new InputError(`failed to read world ${scenario.world}: no such file (paths are relative to the scenario)`, {
        ...(pos ? { pos } : {}),
        field: 'world',
      });
    }
    return { world: await loadWorld(worldFile), worldFile };
  }
  const parsed = worldSchema.safeParse(scenario.world);
  if (!parsed.success) throw combine(issuesToErrors(parsed.error.issues, worldSchema, source, ['world'], file));
  return { world: parsed.data };
}

type At = (path: SourcePath, message: string, hint?: string) => void;

function dotted(path: SourcePath): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : (out ? '.' : '') + seg;
  return out;
}

/** Every attacker step of an inject (the action and its `otherwise` alternatives) with its path. */
export function attackerSteps(scenario: ScenarioT): Array<{ step: AttackerStepT; path: SourcePath; inject: number }> {
  const out: Array<{ step: AttackerStepT; path: SourcePath; inject: number }> = [];
  scenario.timeline.forEach((inj, i) => {
    if (!inj.attacker) return;
    out.push({ step: inj.attacker, path: ['timeline', i, 'attacker'], inject: i });
    for (const [j, alt] of (inj.attacker.otherwise ?? []).entries())
      out.push({ step: alt, path: ['timeline', i, 'attacker', 'otherwise', j], inject: i });
  });
  return out;
}

function checkReferences(s: ScenarioT, world: World, at: At): void {
  const instances = new Set(world.ec2.instances.map((x) => x.id));
  const injectIds = new Map<string, number>();
  s.timeline.forEach((inj, i) => {
    if (!inj.id) return;
    if (injectIds.has(inj.id)) at(['timeline', i, 'id'], `duplicate inject id '${inj.id}'`);
    else injectIds.set(inj.id, i);
  });
  const objectiveIds = new Set<string>();
  s.objectives.forEach((o, i) => {
    if (objectiveIds.has(o.id)) at(['objectives', i, 'id'], `duplicate objective id '${o.id}'`);
    objectiveIds.add(o.id);
  });
  const instance = (path: SourcePath, id: string | undefined) => {
    if (id !== undefined && !instances.has(id)) at(path, `no instance '${id}' in the world${suggestion(id, instances)}`);
  };

  // The attacker: credentials used must be held at the start or obtained by some action.
  const steps = attackerSteps(s);
  if (steps.length > 0 && !s.attacker) at(steps[0]!.path, "attacker actions need an 'attacker' section (its addresses and credentials)");
  const creds = new Set(Object.keys(s.attacker?.credentials ?? {}));
  const connections = new Set<string>();
  for (const { step } of steps) {
    const k = kindOf(step, ATTACKER_KINDS);
    const v = step[k] as Record<string, unknown>;
    if (typeof v.as === 'string') creds.add(v.as);
    if (k === 'connect' && typeof v.name === 'string') connections.add(v.name);
  }
  for (const [i, id] of (s.attacker?.footholds ?? []).entries()) instance(['attacker', 'footholds', i], id);
  for (const { step, path } of steps) {
    const k = kindOf(step, ATTACKER_KINDS);
    const v = step[k] as Record<string, unknown>;
    for (const f of ['instance', 'from', 'to'] as const)
      if (typeof v[f] === 'string' && /^i-/.test(v[f] as string)) instance([...path, k, f], v[f] as string);
    if (typeof v.with === 'string' && !creds.has(v.with))
      at(
        [...path, k, 'with'],
        `the attacker holds no credential named '${v.with}'${suggestion(v.with, creds)}`,
        "name it under attacker.credentials, or obtain it first with 'as:'",
      );
    const conn = k === 'check-connection' ? v.name : k === 'exfiltrate' ? v.via : undefined;
    if (typeof conn === 'string' && !connections.has(conn))
      at(
        [...path, k, k === 'exfiltrate' ? 'via' : 'name'],
        `no attacker connect names a connection '${conn}'${suggestion(conn, connections)}`,
      );
  }

  const alerts = s.timeline.some((t) => t.alert);
  s.objectives.forEach((o, i) => {
    if (o.from !== 'first-alert' && o.from !== 'start' && !injectIds.has(o.from))
      at(['objectives', i, 'from'], `'${o.from}' is not first-alert, start or an inject id${suggestion(o.from, injectIds.keys())}`);
    if (o.from === 'first-alert' && o.within !== undefined && !alerts)
      at(['objectives', i, 'within'], 'counts from the first alert, but the timeline has no alert (use from: start)');
    const isolatedIn = o['instance-isolated'];
    if (isolatedIn && (isolatedIn.account || isolatedIn.region)) {
      const scope = scopedWorld(world, { account: isolatedIn.account ?? world.account.id, region: isolatedIn.region ?? world.region });
      const there = new Set(scope?.ec2.instances.map((x) => x.id) ?? []);
      if (!there.has(isolatedIn.instance))
        at(
          ['objectives', i, 'instance-isolated', 'instance'],
          `no instance '${isolatedIn.instance}' in ${isolatedIn.account ?? world.account.id}/${isolatedIn.region ?? world.region}${suggestion(isolatedIn.instance, there)}`,
        );
    }
    for (const k of [
      ...(isolatedIn && (isolatedIn.account || isolatedIn.region) ? [] : (['instance-isolated'] as const)),
      'snapshot-before-change',
      'instance-profile-removed',
      'address-range-blocked',
      'connections-closed',
    ] as const) {
      instance(['objectives', i, k, 'instance'], (o[k] as { instance?: string } | undefined)?.instance);
    }
    for (const [j, id] of (o['no-collateral']?.except ?? []).entries()) instance(['objectives', i, 'no-collateral', 'except', j], id);
    const stopped = o['attack-stopped']?.inject;
    if (stopped !== undefined) {
      const idx = injectIds.get(stopped);
      if (idx === undefined)
        at(['objectives', i, 'attack-stopped', 'inject'], `no inject with id '${stopped}'${suggestion(stopped, injectIds.keys())}`);
      else if (!s.timeline[idx]!.attacker)
        at(['objectives', i, 'attack-stopped', 'inject'], `inject '${stopped}' is not an attacker action`);
    }
    const cred = o['credential-revoked']?.credential;
    if (cred !== undefined && !creds.has(cred))
      at(
        ['objectives', i, 'credential-revoked', 'credential'],
        `the attacker holds no credential named '${cred}'${suggestion(cred, creds)}`,
      );
    const conn = o['connections-closed']?.connection;
    if (conn !== undefined && !connections.has(conn))
      at(
        ['objectives', i, 'connections-closed', 'connection'],
        `no attacker connect names a connection '${conn}'${suggestion(conn, connections)}`,
      );
    const key = o['access-key-disabled']?.accessKeyId;
    if (key !== undefined && !world.iam.users.some((u) => u.accessKeys.some((k) => k.id === key)))
      at(['objectives', i, 'access-key-disabled', 'accessKeyId'], `no access key '${key}' in the world`);
  });
  const exp = s.expect?.auto;
  for (const list of ['met', 'missed'] as const) {
    exp?.[list]?.forEach((id, j) => {
      if (!objectiveIds.has(id)) at(['expect', 'auto', list, j], `no objective '${id}'${suggestion(id, objectiveIds)}`);
    });
  }
}

/** Each alert is read as production reads it; its playbook must load and its inputs validate. */
async function checkAlerts(
  s: ScenarioT,
  world: World,
  start: Date,
  file: string,
  playbooks: Map<string, LoadedPlaybook>,
  posOf: (p: SourcePath) => SourcePos | undefined,
  problems: InputError[],
): Promise<void> {
  for (const [i, inj] of s.timeline.entries()) {
    if (!inj.alert) continue;
    const path: SourcePath = ['timeline', i, 'alert'];
    const event = buildAlertEvent(inj.alert, {
      scenarioId: s.id,
      injectKey: inj.id ?? `inject-${i + 1}`,
      accountId: inj.alert.account ?? world.account.id,
      region: inj.alert.region ?? world.region,
      now: new Date(start.getTime() + parseDuration(inj.at)),
    });
    try {
      const r = await resolveAlertRoute(inj.alert, event, { scenarioFile: file, ...(s.routes ? { routesFile: s.routes } : {}), world });
      if (!('route' in r)) continue;
      const loaded = playbookFor(r.route.playbookFile, playbooks);
      const steps = new Set(allSteps(loaded.playbook).map((x) => x.id));
      for (const step of Object.keys(inj.alert.approvals ?? {})) {
        if (!steps.has(step))
          throw new InputError(`playbook ${loaded.playbook.id} has no step '${step}'${suggestion(step, steps)}`, {
            field: `approvals.${step}`,
          });
      }
      validateInputs(r.route.inputs, loaded.playbook.inputs);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      // Problems inside a playbook or the routing table keep their own file and line; problems
      // with this alert point here.
      const field = err.pos ? err.field : `${dotted(path)}${err.field ? `.${err.field}` : ''}`;
      const pos = err.pos ?? posOf(err.field ? [...path, ...err.field.split('.')] : path);
      problems.push(
        new InputError(err.message, {
          ...(pos ? { pos } : {}),
          ...(field ? { field } : {}),
          ...(err.hint ? { hint: err.hint } : {}),
          more: err.more,
        }),
      );
    }
  }
}

/** Load (once) a playbook file an alert runs. */
export function playbookFor(file: string, cache: Map<string, LoadedPlaybook>): LoadedPlaybook {
  let loaded = cache.get(file);
  if (!loaded) {
    loaded = loadPlaybook(file, { actionIds, actionInputs: (id) => actions.get(id)?.input });
    cache.set(file, loaded);
  }
  return loaded;
}

async function checkCalls(s: ScenarioT, at: At): Promise<void> {
  for (const { step, path } of attackerSteps(s)) {
    if (!step.call) continue;
    if (!(await commandFor(step.call.service, step.call.operation)))
      at([...path, 'call', 'operation'], `${step.call.service} has no operation '${step.call.operation}'`);
  }
}
