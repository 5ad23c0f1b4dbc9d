/**
 * Part of a run — one step, one map item — for an executor that owns the run's control flow (Step
 * Functions). Everything around the step is the run's own, as `startRun`/`resumeRun` give it: the run
 * store's record and journal, the backend's audited clients, guardrails, target locks. The first part
 * of a run starts it (journals `run.started` with its executor); later parts open it, replay its
 * journal, and run on the world it left.
 */
import { actionIds, actions } from '../actions/registry.js';
import type { RunStarted } from '../audit/events.js';
import type { Backend } from '../cloud/backend.js';
import { loadConfig } from '../config/config.js';
import { systemClock } from '../core/clock.js';
import { InputError } from '../core/errors.js';
import { VERSION } from '../core/version.js';
import { loadPlaybook } from '../playbook/load.js';
import type { LoadedPlaybook } from '../playbook/schema.js';
import { drive, type RunObserver } from './drive.js';
import { replay } from './events.js';
import type { RunHost } from './host.js';
import { localRunStore } from './local-store.js';
import type { EngineOptions, RunResult } from './runner.js';
import { backendDefaults, operator, prepareRun, recordedBackend, type RunOutcome, type RunRequest, type RunSettings } from './session.js';

export interface RunPartOptions extends RunSettings {
  runId: string;
  /** What the run is, used when the store has no run of this id yet. */
  run: RunRequest;
  executor: NonNullable<RunStarted['executor']>;
  backend: Backend;
  host: RunHost;
  observers?: RunObserver[];
  /** The part itself, given the engine's options for the run (its replayed journal among them). */
  part: (o: EngineOptions) => Promise<RunResult>;
  /** The playbook as this part runs it (Step Functions retries steps itself): derived from the loaded one. */
  adapt?: (loaded: LoadedPlaybook) => LoadedPlaybook;
}

export async function runPart(o: RunPartOptions): Promise<RunOutcome> {
  const store = o.store ?? localRunStore(o);
  const clock = o.clock ?? systemClock;
  const adapt = o.adapt ?? ((l: LoadedPlaybook) => l);
  // A run the store does not hold yet starts here; an unknown run is an InputError from `open`.
  const existing = await store.open(o.runId).catch((err: unknown) => {
    if (err instanceof InputError) return undefined;
    throw err;
  });
  if (!existing) {
    const prep = await prepareRun(o.run, o.backend, o);
    const record = await store.create(o.runId);
    const where = await o.backend.start(record.dir, backendDefaults(prep.config));
    const incident = o.run.incident ?? o.runId;
    return drive({
      ...o,
      store,
      record,
      where,
      loaded: adapt(prep.loaded),
      inputs: prep.inputs,
      config: prep.config,
      clock,
      replayed: replay([]),
      dryRun: false,
      incident,
      ...(o.run.approvalOverrides ? { approvalOverrides: o.run.approvalOverrides } : {}),
      started: {
        runId: o.runId,
        playbook: { id: prep.loaded.playbook.id, title: prep.loaded.playbook.title, file: prep.loaded.file, sha256: prep.loaded.sha256 },
        inputs: prep.inputs,
        incident,
        mode: o.host.kind,
        dryRun: false,
        ...where.record,
        ...(o.run.approvalOverrides ? { approvalOverrides: o.run.approvalOverrides } : {}),
        ...(o.run.trigger ? { trigger: o.run.trigger } : {}),
        executor: o.executor,
        operator: operator(),
        version: VERSION,
      },
    });
  }
  const record = existing;
  const state = replay(record.readJournal(), { file: `${o.runId}/journal.jsonl` });
  const s = state.started;
  if (!s)
    throw new InputError(`run ${o.runId} has no run.started event; its journal is damaged`, { hint: `firebreak audit verify ${o.runId}` });
  const loaded = loadPlaybook(s.playbook.file, { actionIds, actionInputs: (id) => actions.get(id)?.input });
  if (loaded.sha256 !== s.playbook.sha256)
    throw new InputError(`playbook ${s.playbook.file} changed since run ${o.runId} started; a step of it would run a different procedure`, {
      field: 'playbook',
    });
  const { config } = o.config ? { config: o.config } : loadConfig(o.configFile);
  const where = await o.backend.resume(record.dir, recordedBackend(s), backendDefaults(config));
  return drive({
    ...o,
    store,
    record,
    where,
    loaded: adapt(loaded),
    inputs: s.inputs,
    config,
    clock,
    replayed: state,
    dryRun: s.dryRun,
    incident: s.incident,
    ...(s.approvalOverrides ? { approvalOverrides: s.approvalOverrides } : {}),
  });
}
