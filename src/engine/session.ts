/**
 * Start or resume one run: everything around the engine. Validates all input before any AWS call
 * or any file is written, creates the run folder, takes the run lock, opens the journal, builds
 * the SDK clients (real AWS or the simulated cloud behind the same clients), records who is
 * acting, runs the engine, and leaves a summary.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { actionIds, actions, getAction } from '../actions/registry.js';
import { createClients, type AwsClients } from '../cloud/clients.js';
import { auditRecorder, permissionGuard } from '../cloud/middleware.js';
import { loadConfig, type Config } from '../config/config.js';
import { systemClock, type Clock } from '../core/clock.js';
import { projectRoot } from '../core/paths.js';
import { FirebreakError, InputError } from '../core/errors.js';
import { Journal } from '../audit/journal.js';
import { findPlaybook, loadPlaybook } from '../playbook/load.js';
import { parseInputArgs, validateInputs } from '../playbook/inputs.js';
import type { LoadedPlaybook } from '../playbook/schema.js';
import { createSimCloud, loadWorld, type SimCloud, type World } from '../sim/index.js';
import { saveWorldSync } from './world-file.js';
import { replay, type ReplayState, type RunStatus } from './events.js';
import { existingRunDir, homeDir, newRunId, runDir as runDirOf, type HomeOptions } from './home.js';
import type { RunHost } from './host.js';
import { acquireLock, describeHolder, lockResource, readLock, resourceLockPath, type Lock } from './lock.js';
import { waitForResourceLock } from './lock-wait.js';
import { assertAccountAllowed, guardrails } from './guardrails.js';
import { executeRun, errorInfo, type RunResult } from './runner.js';
import { STS } from '../cloud/sdk.js';

export const VERSION = '0.1.0';
/** The working directory's playbooks first (a team's own), then the ones shipped with Firebreak. */
export const PLAYBOOK_DIRS = ['playbooks', join(projectRoot(), 'playbooks')];

export interface BackendOptions {
  /** Use the simulated cloud: a world file, or true for the demo world. */
  sim?: string | boolean;
  /**
   * An already-created simulated cloud to run against (tabletop exercises: the attacker and the
   * scenario's clock act on the same world as the run). Takes the place of `sim`.
   */
  simCloud?: SimCloud;
  region?: string;
  profile?: string;
  /** Extra client plugins (tests: fault injection, call capture). */
  plugins?: AwsClientsPlugins;
  /** The run's clock; when given, the SDK's retry backoff is slept on it too (cloud/retry.ts). */
  clock?: Clock;
  /** The run's source of chance (retry jitter on a given clock): a tabletop's seeded generator. */
  random?: () => number;
  /** Receives the run's audited clients once built (notifications sent on the run's behalf). */
  onClients?: (aws: AwsClients) => void;
  /**
   * How long a step waits for a target resource another run holds (ms). 0 (default): fail at
   * once. Alert-triggered runs wait, so two alerts about one instance run one after the other.
   */
  lockWaitMs?: number;
  /** Cross-account response: act through this role (config `roleArn` when not given). */
  roleArn?: string;
  externalId?: string;
  /** The MFA device the role's trust policy requires, and how to ask a person for its code. */
  mfaSerial?: string;
  mfaCode?: (serial: string) => Promise<string>;
}
type AwsClientsPlugins = NonNullable<Parameters<typeof createClients>[0]>['plugins'];

export interface StartOptions extends BackendOptions, HomeOptions {
  playbook: string;
  /** `name=value` strings from the command line, or values already typed (routes). */
  inputArgs?: string[];
  inputs?: Record<string, unknown>;
  dryRun?: boolean;
  host: RunHost;
  incident?: string;
  runId?: string;
  configFile?: string;
  config?: Config;
  approvalOverrides?: Record<string, 'auto' | 'required'>;
  signal?: AbortSignal;
  /** Extra fields for run.started (the alert that triggered the run, the route). */
  trigger?: Record<string, unknown>;
  onJournal?: (journal: Journal) => void;
}

export interface RunOutcome extends RunResult {
  runId: string;
  runDir: string;
}

export const DEMO_WORLD = join(projectRoot(), 'worlds/demo.yaml');

/** Everything that can be checked without AWS and without writing: playbook, inputs, config, world. */
export async function prepareRun(o: StartOptions) {
  const { config } = o.config ? { config: o.config } : loadConfig(o.configFile);
  // Absolute, so `resume` finds the same file from any working directory.
  const file = resolve(findPlaybook(o.playbook, PLAYBOOK_DIRS));
  const loaded = loadPlaybook(file, { actionIds, actionInputs: (id) => actions.get(id)?.input });
  const raw = o.inputs ?? parseInputArgs(o.inputArgs ?? [], loaded.playbook.inputs, { file });
  const inputs = validateInputs(raw, loaded.playbook.inputs, { file, posOf: loaded.posOf });
  const worldFile = o.sim === true ? DEMO_WORLD : typeof o.sim === 'string' ? resolve(o.sim) : undefined;
  const world = o.simCloud ? o.simCloud.world : worldFile ? await loadWorld(worldFile) : undefined;
  return { config, loaded, inputs, world, worldFile };
}

export async function startRun(o: StartOptions): Promise<RunOutcome> {
  const prep = await prepareRun(o);
  const clock = o.clock ?? systemClock;
  const runId = o.runId ?? newRunId(clock.now());
  const dir = runDirOf(runId, o);
  if (existsSync(join(dir, 'journal.jsonl')))
    throw new InputError(`run ${runId} already exists`, { field: 'RUN', hint: `firebreak resume ${runId}` });
  mkdirSync(dir, { recursive: true });
  return drive({
    o,
    dir,
    runId,
    loaded: prep.loaded,
    inputs: prep.inputs,
    config: prep.config,
    world: prep.world,
    clock,
    replayed: replay([]),
    started: {
      runId,
      playbook: { id: prep.loaded.playbook.id, title: prep.loaded.playbook.title, file: prep.loaded.file, sha256: prep.loaded.sha256 },
      inputs: prep.inputs,
      incident: o.incident ?? runId,
      mode: o.host.kind,
      dryRun: !!o.dryRun,
      backend: prep.world ? 'sim' : 'aws',
      ...(prep.worldFile ? { world: prep.worldFile } : {}),
      region: prep.world?.region ?? o.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? null,
      ...(o.profile ? { profile: o.profile } : {}),
      ...((o.roleArn ?? prep.config.roleArn) ? { roleArn: o.roleArn ?? prep.config.roleArn } : {}),
      ...(o.approvalOverrides ? { approvalOverrides: o.approvalOverrides } : {}),
      ...(o.trigger ? { trigger: o.trigger } : {}),
      operator: operator(),
      version: VERSION,
    },
  });
}

export interface ResumeOptions extends BackendOptions, HomeOptions {
  runId: string;
  host: RunHost;
  configFile?: string;
  signal?: AbortSignal;
  onJournal?: (journal: Journal) => void;
  /** Called once with the run's clients (an alert run's waiting notice publishes with them). */
  onClients?: (aws: AwsClients) => void;
}

const FINISHED: RunStatus[] = ['succeeded', 'aborted', 'planned'];

export async function resumeRun(o: ResumeOptions): Promise<RunOutcome> {
  const dir = existingRunDir(o.runId, o);
  const events = Journal.read(join(dir, 'journal.jsonl'));
  const state = replay(events);
  if (!state.started)
    throw new InputError(`run ${o.runId} has no run.started event; its journal is damaged`, { hint: `firebreak audit verify ${o.runId}` });
  if (FINISHED.includes(state.status))
    throw new InputError(`run ${o.runId} already ${state.status}; there is nothing to resume`, {
      field: 'RUN',
      hint: `firebreak audit show ${o.runId}`,
    });
  const s = state.started as unknown as StartedEvent;
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
  const { config } = loadConfig(o.configFile);
  const world = s.backend === 'sim' ? await loadWorld(join(dir, 'world.json')) : undefined;
  return drive({
    o: {
      ...o,
      playbook: s.playbook.file,
      dryRun: s.dryRun,
      incident: s.incident,
      approvalOverrides: s.approvalOverrides,
      region: o.region ?? s.region ?? undefined,
      profile: o.profile ?? s.profile,
      roleArn: o.roleArn ?? s.roleArn,
    },
    dir,
    runId: o.runId,
    loaded,
    inputs: s.inputs,
    config,
    world,
    clock: o.clock ?? systemClock,
    replayed: state,
  });
}

interface StartedEvent {
  runId: string;
  playbook: { id: string; file: string; sha256: string };
  inputs: Record<string, unknown>;
  incident: string;
  mode: string;
  dryRun: boolean;
  backend: 'sim' | 'aws';
  region: string | null;
  profile?: string;
  roleArn?: string;
  approvalOverrides?: Record<string, 'auto' | 'required'>;
}

function operator() {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (some containers): the STS identity still names the actor.
    user = process.env.USER ?? 'unknown';
  }
  return { osUser: user, host: hostname(), pid: process.pid };
}

interface DriveArgs {
  o: (
    | StartOptions
    | (ResumeOptions & { playbook: string; dryRun?: boolean; incident?: string; approvalOverrides?: Record<string, 'auto' | 'required'> })
  ) &
    BackendOptions &
    HomeOptions;
  dir: string;
  runId: string;
  loaded: LoadedPlaybook;
  inputs: Record<string, unknown>;
  config: Config;
  world: World | undefined;
  clock: Clock;
  replayed: ReplayState;
  started?: Record<string, unknown>;
}

async function drive(a: DriveArgs): Promise<RunOutcome> {
  const { o, dir, runId } = a;
  const owner = { runId, purpose: a.started ? 'run' : 'resume' };
  const runLock = await acquireLock(join(dir, 'run.lock'), owner);
  if (!runLock)
    throw new FirebreakError(`run ${runId} is active in another process`, {
      hint: `firebreak runs   (shows its status); wait for it, or stop that process`,
    });
  const held: Lock[] = [runLock];
  const journal = Journal.open(join(dir, 'journal.jsonl'), { clock: a.clock });
  o.onJournal?.(journal);
  try {
    // The run's copy of the simulated world exists before the journal says the run started, so a
    // run killed right after starting still resumes on its own world. After that it is saved
    // before each decision the journal records (not after every call): a decision never
    // reaches the journal ahead of the world it depends on, and a fleet run saves its world
    // once per target instead of once per AWS call.
    const worldFile = join(dir, 'world.json');
    let worldChanged = false;
    const sim: SimCloud | undefined =
      o.simCloud ??
      (a.world
        ? createSimCloud(a.world, {
            ...(o.clock ? { clock: o.clock } : {}),
            onChange: () => {
              worldChanged = true;
            },
          })
        : undefined);
    const saveWorld = () => {
      if (!worldChanged || !sim) return;
      worldChanged = false;
      saveWorldSync(sim.world, worldFile);
    };
    if (sim && a.started) saveWorldSync(sim.world, worldFile);
    journal.beforeSync(saveWorld);
    const startedAt = a.started
      ? (journal.append('run.started', a.started) as { ts: string }).ts
      : (a.replayed.started?.ts as string | undefined);
    if (!a.started) journal.append('run.resumed', { by: operator() });
    const aws = buildClients(
      runId,
      journal,
      { ...o, roleArn: o.roleArn ?? a.config.roleArn, externalId: o.externalId ?? a.config.externalId },
      sim,
    );
    o.onClients?.(aws);

    // Who is acting is asked at once but awaited only before the first write, so the first
    // plan's reads overlap with it; the allowed-account guardrail is checked there.
    const identity = aws.sts.send(new STS.GetCallerIdentityCommand({}));
    identity.catch(() => undefined);
    let identified: Promise<void> | undefined;
    const beforeWrite = () =>
      (identified ??= identity.then((id) => {
        journal.append('run.identity', { arn: id.Arn, account: id.Account, userId: id.UserId });
        assertAccountAllowed(a.config, id.Account);
      }));

    const interrupt = new AbortController();
    o.signal?.addEventListener('abort', () => interrupt.abort(o.signal?.reason), { once: true });
    const result = await executeRun({
      runId,
      loaded: a.loaded,
      inputs: a.inputs,
      incident: o.incident ?? runId,
      dryRun: !!o.dryRun,
      host: o.host,
      aws,
      journal,
      clock: a.clock,
      guard: guardrails(a.config),
      actions: getAction,
      replayed: a.replayed,
      ...(o.approvalOverrides ? { approvalOverrides: o.approvalOverrides } : {}),
      maxTargets: a.config.guardrails.maxTargets,
      signal: interrupt.signal,
      beforeWrite,
      ...(startedAt ? { startedAt } : {}),
      lockTarget: async (t) => {
        if (o.lockWaitMs) {
          let waited = false;
          const lock = await waitForResourceLock(
            homeDir(o),
            t.kind,
            t.id,
            { runId, purpose: 'target' },
            {
              timeoutMs: o.lockWaitMs,
              signal: interrupt.signal,
              onWait: (holder) => {
                waited = true;
                journal.append('lock.waiting', {
                  kind: t.kind,
                  id: t.id,
                  ...(holder ? { heldBy: holder.runId, pid: holder.pid } : {}),
                  timeoutMs: o.lockWaitMs,
                });
              },
            },
          );
          held.push(lock);
          if (waited) journal.append('lock.acquired', { kind: t.kind, id: t.id });
          return;
        }
        const lock = await lockResource(homeDir(o), t.kind, t.id, { runId, purpose: 'target' });
        if (!lock) {
          const holder = readLock(resourceLockPath(homeDir(o), t.kind, t.id));
          throw new FirebreakError(holder ? describeHolder(`${t.kind} ${t.id}`, holder) : `${t.kind} ${t.id} is locked by another run`, {
            hint: 'firebreak runs   (find the run working on it)',
          });
        }
        held.push(lock);
      },
    }).catch((err): RunResult => ({ status: 'failed', error: errorInfo(err) }));
    if (!identified) {
      // Nothing was written (dry-run, or every step already done): still record who looked.
      await identity.then(
        (id) => journal.append('run.identity', { arn: id.Arn, account: id.Account, userId: id.UserId }),
        (err) => journal.append('run.identity', { error: errorInfo(err) }),
      );
    }

    if (result.status === 'interrupted') journal.append('run.interrupted', { ...(result.error ? { error: result.error } : {}) });
    else if (result.status !== 'waiting')
      journal.append('run.ended', { status: result.status, outcome: result.outcome, ...(result.error ? { error: result.error } : {}) });
    saveWorld();
    writeSummary(dir, journal);
    return { ...result, runId, runDir: dir };
  } finally {
    journal.close();
    for (const l of held.reverse()) l.release();
  }
}

function buildClients(runId: string, journal: Journal, o: BackendOptions, sim: SimCloud | undefined): AwsClients {
  // A call's record is written at once and flushed with the next decision (see audit/journal.ts).
  const audit = auditRecorder((call) => journal.append('aws.call', call as unknown as Record<string, unknown>, { sync: 'later' }));
  const plugins = [audit, permissionGuard(), ...(o.plugins ?? []), ...(sim ? [sim.plugin] : [])];
  return createClients({
    ...(sim
      ? { region: sim.region, credentials: sim.credentials }
      : { ...(o.region ? { region: o.region } : {}), ...(o.profile ? { profile: o.profile } : {}) }),
    ...(o.roleArn
      ? {
          assumeRole: {
            roleArn: o.roleArn,
            // RoleSessionName allows 64 characters; the run id makes the role's CloudTrail events traceable to the run.
            sessionName: `firebreak-${runId}`.slice(0, 64),
            ...(o.externalId ? { externalId: o.externalId } : {}),
            ...(o.mfaSerial ? { mfaSerial: o.mfaSerial } : {}),
            ...(o.mfaCode ? { mfaCode: o.mfaCode } : {}),
            plugins: [audit, ...(sim ? [sim.plugin] : [])],
          },
        }
      : {}),
    userAgent: `firebreak/${VERSION} run/${runId}`,
    plugins,
    ...(o.clock ? { clock: o.clock } : {}),
    ...(o.random ? { random: o.random } : {}),
  });
}

/** A small summary for `firebreak runs`, derived from the journal (the journal stays the truth). */
export function writeSummary(dir: string, journal: { events(): ReadonlyArray<{ type: string; [k: string]: unknown }> }): void {
  const s = summarize(journal.events() as never);
  const tmp = join(dir, `run.json.${process.pid}.tmp`);
  writeFileSync(tmp, `${JSON.stringify(s, null, 2)}\n`);
  renameSync(tmp, join(dir, 'run.json'));
}

/** The fields of journal events a run's summary reads. */
interface SummaryEvent {
  type: string;
  ts: string;
  runId?: string;
  playbook?: { id?: string };
  arn?: string;
  operator?: { osUser?: string; host?: string };
  backend?: string;
  incident?: string;
}

export function summarize(events: SummaryEvent[]) {
  const st = replay(events as never);
  const started = events.find((e) => e.type === 'run.started');
  const identity = events.find((e) => e.type === 'run.identity');
  const last = events[events.length - 1];
  return {
    runId: started?.runId,
    playbook: started?.playbook?.id,
    status: st.status,
    ...(st.waitingStep ? { waitingStep: st.waitingStep } : {}),
    started: started?.ts,
    updated: last?.ts,
    actor: identity?.arn ?? (started ? `${started.operator?.osUser}@${started.operator?.host}` : undefined),
    backend: started?.backend,
    incident: started?.incident,
  };
}

export function readSummary(dir: string) {
  const f = join(dir, 'run.json');
  return existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) : undefined;
}
