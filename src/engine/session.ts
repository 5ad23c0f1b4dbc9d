/**
 * Start or resume one run. A caller says *what* to run (`RunRequest`), *where* (a `Backend`,
 * built by src/backend), *who decides* (a `RunHost`) and *who watches* (observers); the engine
 * validates everything before any AWS call or any file is written, then hands back the run's id
 * and folder at once and its result as a promise.
 */
import { hostname, userInfo } from 'node:os';
import { resolve } from 'node:path';
import { actionIds, actions } from '../actions/registry.js';
import type { RunStarted } from '../audit/events.js';
import type { Backend } from '../cloud/backend.js';
import { loadConfig, type Config } from '../config/config.js';
import { systemClock, type Clock } from '../core/clock.js';
import { InputError } from '../core/errors.js';
import { PLAYBOOK_DIRS } from '../core/paths.js';
import { VERSION } from '../core/version.js';
import { parseInputArgs, validateInputs } from '../playbook/inputs.js';
import { findPlaybook, loadPlaybook } from '../playbook/load.js';
import type { LoadedPlaybook } from '../playbook/schema.js';
import { drive, type RunObserver } from './drive.js';
import { replay, type RunStatus } from './events.js';
import { newRunId, type HomeOptions } from './home.js';
import type { RunHost } from './host.js';
import { type AcrossResolved, checkAcross, unitsOf, type Across } from './locations.js';
import { runStoreFor, type RunStore } from './local-store.js';
import type { RunResult } from './runner.js';

export type { RunObserver } from './drive.js';

/** What to run. */
export interface RunRequest {
  /** A playbook name or file, or one the caller already loaded (an alert's route). */
  playbook: string | LoadedPlaybook;
  /** `name=value` strings from the command line, or values already typed (routes). */
  inputArgs?: string[];
  inputs?: Record<string, unknown>;
  incident?: string;
  dryRun?: boolean;
  runId?: string;
  /** Per-step approval policy that overrides the playbook's (an alert's route, the demo). */
  approvalOverrides?: Record<string, 'auto' | 'required'>;
  /** Extra fields for run.started (the alert that triggered the run, the route). */
  trigger?: Record<string, unknown>;
  /**
   * A fleet across accounts and Regions: lookups run in every account×Region, through the config's
   * roleArn template filled for each account, and map items act where they were found.
   */
  across?: Across;
}

/** How the engine runs it: where runs are kept, the config, the clock, interruption. */
export interface RunSettings extends HomeOptions {
  configFile?: string;
  config?: Config;
  /** Where the run persists (default: the local run folder under the home). */
  store?: RunStore;
  /** The engine's clock (waits, timestamps); a backend's clock is the backend's. */
  clock?: Clock;
  signal?: AbortSignal;
  /**
   * How long a step waits for a target resource another run holds (ms). 0 (default): fail at
   * once. Alert-triggered runs wait, so two alerts about one instance run one after the other.
   */
  lockWaitMs?: number;
}

export interface StartOptions extends RunSettings {
  run: RunRequest;
  backend: Backend;
  host: RunHost;
  /** Called with every journal event once written, after `host.onEvent`. */
  observers?: RunObserver[];
}

export interface ResumeOptions extends RunSettings {
  runId: string;
  /** Flags that override what run.started recorded (region, profile, role); the world is the run's own. */
  backend: Backend;
  host: RunHost;
  observers?: RunObserver[];
}

export interface RunOutcome extends RunResult {
  runId: string;
  runDir: string;
}

/** A run that has started: its id and folder now, its result when it stops. */
export interface RunHandle {
  runId: string;
  runDir: string;
  result: Promise<RunOutcome>;
}

/** Everything that can be checked without AWS and without writing: playbook, inputs, config, world. */
export async function prepareRun(what: RunRequest, backend: Backend, s: RunSettings = {}) {
  const { config } = s.config ? { config: s.config } : loadConfig(s.configFile);
  const loaded =
    typeof what.playbook === 'string'
      ? // Absolute, so `resume` finds the same file from any working directory.
        loadPlaybook(resolve(findPlaybook(what.playbook, PLAYBOOK_DIRS)), { actionIds, actionInputs: (id) => actions.get(id)?.input })
      : what.playbook;
  const file = loaded.file;
  const raw = what.inputs ?? parseInputArgs(what.inputArgs ?? [], loaded.playbook.inputs, { file });
  const inputs = validateInputs(raw, loaded.playbook.inputs, { file, posOf: loaded.posOf });
  // Accounts named outright are checked now; OUs are listed when the run starts (drive.ts), with its clients.
  const checked = what.across ? await checkAcross(config, loaded, what.across) : undefined;
  const units = what.across && unitsOf(what.across).length > 0 ? { across: what.across } : undefined;
  await backend.prepare(backendDefaults(config, what.across));
  const locations = units ? undefined : checked;
  return { config, loaded, inputs, ...(locations ? { locations } : {}), ...(units ? { units } : {}) };
}

export async function startRun(o: StartOptions): Promise<RunHandle> {
  const { run: what } = o;
  const prep = await prepareRun(what, o.backend, o);
  const clock = o.clock ?? systemClock;
  const runId = what.runId ?? newRunId(clock.now());
  const store = o.store ?? runStoreFor(prep.config.store, o);
  const record = await store.create(runId);
  const defaults = backendDefaults(prep.config, what.across);
  const result = o.backend.start(record.dir, defaults).then((where) =>
    drive({
      ...o,
      store,
      record,
      where,
      ...(prep.locations ? { locations: prep.locations } : {}),
      ...(prep.units ? { units: prep.units } : {}),
      loaded: prep.loaded,
      inputs: prep.inputs,
      config: prep.config,
      clock,
      replayed: replay([]),
      dryRun: !!what.dryRun,
      incident: what.incident ?? runId,
      ...(what.approvalOverrides ? { approvalOverrides: what.approvalOverrides } : {}),
      started: {
        runId,
        playbook: { id: prep.loaded.playbook.id, title: prep.loaded.playbook.title, file: prep.loaded.file, sha256: prep.loaded.sha256 },
        inputs: prep.inputs,
        incident: what.incident ?? runId,
        mode: o.host.kind,
        dryRun: !!what.dryRun,
        ...where.record,
        ...(what.approvalOverrides ? { approvalOverrides: what.approvalOverrides } : {}),
        ...(what.trigger ? { trigger: what.trigger } : {}),
        ...(what.across ? { across: what.across } : {}),
        operator: operator(),
        version: VERSION,
      },
    }),
  );
  return { runId, runDir: record.dir, result };
}

const FINISHED: RunStatus[] = ['succeeded', 'aborted', 'planned'];

export async function resumeRun(o: ResumeOptions): Promise<RunHandle> {
  const { config } = o.config ? { config: o.config } : loadConfig(o.configFile);
  const store = o.store ?? runStoreFor(config.store, o);
  const record = await store.open(o.runId);
  const events = record.readJournal();
  const state = replay(events, { file: `${o.runId}/journal.jsonl` });
  const s = state.started;
  if (!s)
    throw new InputError(`run ${o.runId} has no run.started event; its journal is damaged`, { hint: `firebreak audit verify ${o.runId}` });
  if (FINISHED.includes(state.status))
    throw new InputError(`run ${o.runId} already ${state.status}; there is nothing to resume`, {
      field: 'RUN',
      hint: `firebreak audit show ${o.runId}`,
    });
  const loaded = loadPlaybook(s.playbook.file, { actionIds, actionInputs: (id) => actions.get(id)?.input });
  if (loaded.sha256 !== s.playbook.sha256) {
    throw new InputError(
      `playbook ${s.playbook.file} changed since run ${o.runId} started (sha256 ${s.playbook.sha256.slice(0, 12)}… → ${loaded.sha256.slice(0, 12)}…); resuming would run a different procedure`,
      {
        field: 'playbook',
        hint: `restore the playbook (git checkout -- ${s.playbook.file}) or start a new run`,
      },
    );
  }
  // Across accounts, the guardrails and the role template are those of today's config, checked again;
  // the accounts are those the OUs resolved to when the run started, even if the OUs changed since.
  const recorded = events.find((e) => e.type === 'across.resolved') as (AcrossResolved & { type: string }) | undefined;
  const resolved = recorded ? { units: recorded.units, accounts: recorded.accounts } : undefined;
  const units = s.across && unitsOf(s.across).length > 0 ? { across: s.across, ...(resolved ? { resolved } : {}) } : undefined;
  const locations = s.across && !units ? await checkAcross(config, loaded, s.across) : undefined;
  const result = o.backend.resume(record.dir, recordedBackend(s), backendDefaults(config, s.across)).then((where) =>
    drive({
      ...o,
      store,
      record,
      where,
      ...(locations ? { locations } : {}),
      ...(units ? { units } : {}),
      loaded,
      inputs: s.inputs,
      config,
      clock: o.clock ?? systemClock,
      replayed: state,
      dryRun: s.dryRun,
      incident: s.incident,
      ...(s.approvalOverrides ? { approvalOverrides: s.approvalOverrides } : {}),
      resumedBy: operator(),
    }),
  );
  return { runId: o.runId, runDir: record.dir, result };
}

/** The config's role for the run's home clients; across accounts the role is assumed per account (locations.ts), not at home. */
export function backendDefaults(config: Config, across?: Across) {
  if (across) return {};
  return { ...(config.roleArn ? { roleArn: config.roleArn } : {}), ...(config.externalId ? { externalId: config.externalId } : {}) };
}

export function recordedBackend(s: RunStarted) {
  return {
    backend: s.backend,
    region: s.region,
    ...(s.account ? { account: s.account } : {}),
    ...(s.world ? { world: s.world } : {}),
    ...(s.profile ? { profile: s.profile } : {}),
    ...(s.roleArn ? { roleArn: s.roleArn } : {}),
  };
}

export function operator() {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (some containers): the STS identity still names the actor.
    user = process.env.USER ?? 'unknown';
  }
  return { osUser: user, host: hostname(), pid: process.pid };
}
