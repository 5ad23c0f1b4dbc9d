/**
 * One alert → one outcome: start its run, record it on the run it repeats, or ignore it (saying why).
 *
 * Exactly one run per alert. The run id comes from the alert's dedup key, and starting it is
 * claimed with `runs/<id>/create.lock` (a lock file is created atomically with link(), and a dead
 * claimer's lock is taken over), so two processes that receive the same finding at once start it
 * once; the loser records a repeat. `startRun` itself refuses a run id whose journal exists.
 *
 * A repeat (GuardDuty re-publishing a finding with a higher `service.count`, SNS redelivering)
 * starts nothing. It is appended to the run's journal as `alert.repeated` under the run lock, so
 * the journal keeps one writer. If another process holds the run (it is running or waiting with
 * --wait-for-approval), the repeat is recorded in the trigger log instead, naming the run and the
 * holder: the live run's journal is written only by its own process, and it has no reason to poll
 * for repeats, which change nothing it does. A delivery already recorded (same SNS MessageId or
 * EventBridge event id) is a duplicate and is only logged.
 *
 * With `store: aws` the table decides instead of the folder: the dedup key is claimed with a
 * conditional put before the run starts (one claimer across every process and machine); a
 * repeat is counted on the claim and journaled on the run under its lease, as here under the run
 * lock (store-repeat.ts), and the same delivery of a run whose process died resumes it.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Journal, type JournalEvent } from '../audit/journal.js';
import { chooseBackend, utilityClientsFor, worldFileOf, worldName, type BackendSpec } from '../backend/backend.js';
import type { Backend } from '../cloud/backend.js';
import { loadConfig, type Config } from '../config/config.js';
import { createAwsStore } from '../store/aws.js';
import type { AwsStoreConfig } from '../store/config.js';
import { FirebreakError } from '../core/errors.js';
import { autoHost } from '../engine/auto-host.js';
import { accountRefusal, resolveGuardrailUnits, type ResolvedUnits } from '../engine/guardrails.js';
import { replay, type RunStatus } from '../engine/events.js';
import { runDir, type HomeOptions } from '../engine/home.js';
import { acquireLock, readLock, type LockInfo } from '../engine/lock.js';
import { runStoreFor } from '../engine/local-store.js';
import { writeSummary } from '../engine/run-summary.js';
import { prepareRun, resumeRun, startRun, type RunOutcome, type RunSettings } from '../engine/session.js';
import { alertSummary, describeAlert, type Alert } from './alert.js';
import { waitingNotifier } from './notify.js';
import { mapRouteInputs, evaluateOverAlert } from './route-inputs.js';
import { responderWhere } from './responder-role.js';
import { chooseRoute, type LoadedRoute, type RoutingTable, type TagLookup } from './routes.js';
import { deliveredAlready, repeatFields } from './repeat.js';
import { recordStoredRepeat, storedPrior } from './store-repeat.js';
import type { TriggerLog } from './trigger-log.js';
import type { RoutingTagLookup } from './routing-clients.js';

export type Via = 'cli' | 'serve' | 'lambda';

export interface TriggerContext extends BackendSpec, HomeOptions {
  table: RoutingTable;
  log: TriggerLog;
  via: Via;
  configFile?: string;
  /** With the auto host: stay alive this long for `firebreak approve` (ms). */
  waitMs?: number;
  signal?: AbortSignal;
  /** Tags of the alert's resources, read in the alert's account and Region (routing-clients.ts). */
  lookupTags?: RoutingTagLookup;
  /** Where waiting notices go on this host (stdout, server log). */
  print: (text: string) => void;
  warn: (line: string) => void;
  /** Progress display: every journal event of a started run. */
  onEvent?: (e: { type: string; [k: string]: unknown }) => void;
}

export type TriggerOutcome =
  | { kind: 'ignored'; alert: Alert; reasons: string[] }
  | { kind: 'started'; alert: Alert; route: string; runId: string; run: RunOutcome; resumed?: true }
  | {
      kind: 'repeated';
      alert: Alert;
      runId: string;
      journaled: boolean;
      repeat?: number;
      status: RunStatus | 'starting';
      heldBy?: LockInfo;
    }
  | { kind: 'duplicate'; alert: Alert; runId: string; status: RunStatus };

/** A routed alert whose inputs validated: everything checked before anything is written. */
export interface Prepared {
  alert: Alert;
  route: LoadedRoute;
  inputs: Record<string, unknown>;
  incident?: string;
  config: Config;
  /** Where the run acts (chosen once, from the trigger's flags). */
  backend: Backend;
}

export function journalFile(runId: string, home: HomeOptions): string {
  return join(runDir(runId, home), 'journal.jsonl');
}

/**
 * What an alert meets, from one read of its run's journal:
 *  - 'new': no run has started for it;
 *  - 'resume': the run was started by this very delivery and stopped before it finished,
 *    interrupted (SIGTERM, Ctrl-C) or killed (its lock free, no end in its journal). The same
 *    delivery again — a server's spool after a restart, `firebreak trigger` run again on the same
 *    event, a retried Lambda invocation — continues it; completed steps are not done again;
 *  - 'repeat': anything else; the alert is recorded on the run and starts nothing.
 */
export function priorRun(alert: Alert, home: HomeOptions): 'new' | 'resume' | 'repeat' {
  let events: JournalEvent[];
  try {
    events = Journal.read(journalFile(alert.runId, home));
  } catch (err) {
    if ((err as { cause?: NodeJS.ErrnoException }).cause?.code === 'ENOENT') return 'new';
    throw err;
  }
  const started = events.find((e) => e.type === 'run.started');
  if (!started) return 'new';
  if ((started.trigger as { deliveryId?: string } | undefined)?.deliveryId !== alert.deliveryId) return 'repeat';
  const status = replay(events).status;
  return status === 'interrupted' || (status === 'running' && !readLock(join(runDir(alert.runId, home), 'run.lock'))) ? 'resume' : 'repeat';
}

/**
 * Route the alert and check everything the run needs (playbook, inputs, config, world). Throws
 * InputError for bad input; returns undefined when no route matches (the caller logs why).
 */
export async function prepareAlert(alert: Alert, ctx: TriggerContext): Promise<Prepared | { ignored: string[] }> {
  const { config } = loadConfig(ctx.configFile);
  // An alert from an account the guardrails exclude starts nothing, not even a tag lookup. An alert
  // that names no account is left to the run, which checks STS's answer before any change.
  const units = alert.account ? await guardrailUnitsFor(config, ctx) : undefined;
  const refusal = alert.account ? accountRefusal(config, alert.account, units) : undefined;
  if (refusal) return { ignored: [`guardrails: the alert's ${refusal}`] };
  // A route that matches on tags reads them where its run would act: the alert's account and Region, through its role.
  const lookup = ctx.lookupTags;
  const tagsFor: TagLookup | undefined = lookup && (async (a, route) => lookup(a, await responderWhere(a, route, config, ctx)));
  const decision = await chooseRoute(alert, ctx.table, tagsFor);
  if (!decision.route) return { ignored: decision.reasons.length ? decision.reasons : ['the routing table has no routes'] };
  const route = decision.route;
  const inputs = await mapRouteInputs(route.inputs, alert, route.loaded, { route: route.name, posOf: ctx.table.posOf, index: route.index });
  let incident: string | undefined;
  if (route.incident !== undefined) {
    const v = await evaluateOverAlert(route.incident, alert, { field: `routes[${route.index}].incident` });
    if (v !== undefined && v !== null) incident = String(v);
  }
  // Where to act comes from the alert: its account's responder role, in its Region.
  const where = await responderWhere(alert, route, config, ctx);
  // The route loaded the playbook: it is checked here and run as loaded, never read again.
  const backend = chooseBackend({ ...ctx, ...where });
  const prep = await prepareRun({ playbook: route.loaded, inputs }, backend, { ...settings(ctx), config });
  return { alert, route, inputs, ...(incident ? { incident } : {}), config: prep.config, backend };
}

const sharedClouds = new WeakMap<object, string>();

/**
 * The guardrails' OUs resolved with the trigger's own credentials (the security account's), in
 * the same per-process cache a run uses for the same cloud, so a run started here asks no more.
 */
function guardrailUnitsFor(config: Config, ctx: TriggerContext): Promise<ResolvedUnits> | undefined {
  const file = worldFileOf(ctx.sim);
  let cloudKey = `aws:${ctx.profile ?? ''}`;
  if (file) cloudKey = worldName(file);
  else if (ctx.simCloud) {
    if (!sharedClouds.has(ctx.simCloud)) sharedClouds.set(ctx.simCloud, `shared-sim-${randomUUID()}`);
    cloudKey = sharedClouds.get(ctx.simCloud)!;
  }
  const spec: BackendSpec = {
    ...(ctx.sim !== undefined ? { sim: ctx.sim } : {}),
    ...(ctx.simCloud ? { simCloud: ctx.simCloud } : {}),
    ...(ctx.profile ? { profile: ctx.profile } : {}),
  };
  return resolveGuardrailUnits(
    config,
    async () => (await utilityClientsFor(spec, { userAgent: 'firebreak guardrails' })).organizations,
    cloudKey,
  );
}

function settings(ctx: TriggerContext): RunSettings {
  return {
    ...(ctx.configFile ? { configFile: ctx.configFile } : {}),
    ...(ctx.clock ? { clock: ctx.clock } : {}),
    ...(ctx.runsDir ? { runsDir: ctx.runsDir } : {}),
    ...(ctx.home ? { home: ctx.home } : {}),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  };
}

/** Handle one alert end to end. Bad input throws (InputError) before anything is written. */
export async function handleAlert(alert: Alert, ctx: TriggerContext): Promise<TriggerOutcome> {
  // With store: aws, the table decides (claimAlert in startOrJoin); a local journal is only a working copy.
  const inStore = loadConfig(ctx.configFile).config.store.kind === 'aws';
  if (!inStore && priorRun(alert, ctx) === 'repeat') return recordRepeat(alert, ctx);
  const prepared = await prepareAlert(alert, ctx);
  if ('ignored' in prepared) {
    await ctx.log.append('alert.ignored', { via: ctx.via, reasons: prepared.ignored, alert: alertSummary(alert) });
    return { kind: 'ignored', alert, reasons: prepared.ignored };
  }
  return startOrJoin(prepared, ctx);
}

export async function startOrJoin(p: Prepared, ctx: TriggerContext): Promise<TriggerOutcome> {
  if (p.config.store.kind === 'aws') return claimAndStart(p, p.config.store, ctx);
  const { alert } = p;
  const dir = runDir(alert.runId, ctx);
  mkdirSync(dir, { recursive: true });
  const claim = await acquireLock(join(dir, 'create.lock'), { runId: alert.runId, purpose: `start for ${ctx.via}` });
  if (!claim) {
    // Another process is starting (or running) this very alert's run right now.
    const heldBy = readLock(join(dir, 'create.lock'));
    await ctx.log.append('alert.repeated', {
      via: ctx.via,
      runId: alert.runId,
      journaled: false,
      reason: 'the run is being started by another process',
      ...(heldBy ? { heldBy } : {}),
      alert: repeatFields(alert),
    });
    return { kind: 'repeated', alert, runId: alert.runId, journaled: false, status: 'starting', ...(heldBy ? { heldBy } : {}) };
  }
  try {
    const prior = priorRun(alert, ctx);
    if (prior === 'repeat') return await recordRepeat(alert, ctx);
    const resume = prior === 'resume';
    return await launch(p, ctx, resume);
  } finally {
    claim.release();
  }
}

/**
 * With `store: aws`: the alert's dedup key is claimed in the table (a conditional put) before
 * anything starts, so across any number of processes and machines exactly one starts the run.
 * Every other delivery is counted on the claim (its `repeats`) and then judged from the stored
 * journal as priorRun judges the folder: the same delivery of a run whose process died resumes
 * it (storedPrior), anything else is a repeat recorded on the run (recordStoredRepeat).
 */
async function claimAndStart(p: Prepared, store: AwsStoreConfig, ctx: TriggerContext): Promise<TriggerOutcome> {
  const { alert } = p;
  const aws = createAwsStore(store);
  const claim = await aws.claimAlert(alert.dedupKey, alert.runId);
  if (claim.claimed) return launch(p, ctx, false);
  const { prior, status } = await storedPrior(aws, { ...alert, runId: claim.runId });
  if (prior === 'resume' && claim.runId === alert.runId) return launch(p, ctx, true);
  if (prior === 'duplicate') {
    await ctx.log.append('alert.duplicate', { via: ctx.via, runId: claim.runId, deliveryId: alert.deliveryId });
    return { kind: 'duplicate', alert, runId: claim.runId, status: status as RunStatus };
  }
  if (prior !== 'starting') return recordStoredRepeat({ ...alert, runId: claim.runId }, runStoreFor(store, ctx, aws), ctx);
  // Claimed, but its run has not written its first line yet: the claimer is starting it.
  await ctx.log.append('alert.repeated', {
    via: ctx.via,
    runId: claim.runId,
    journaled: false,
    repeat: claim.repeats,
    reason: `the run is being started by another process (its claim is in table ${store.table}); the repeat is counted on the claim`,
    alert: repeatFields(alert),
  });
  return { kind: 'repeated', alert, runId: claim.runId, journaled: false, repeat: claim.repeats, status: 'starting' };
}

/** Start (or resume) the alert's run with the automatic host. */
async function launch(p: Prepared, ctx: TriggerContext, resume: boolean): Promise<TriggerOutcome> {
  const { alert, route } = p;
  await ctx.log.append(resume ? 'alert.resumed' : 'alert.started', {
    via: ctx.via,
    runId: alert.runId,
    route: route.name,
    playbook: route.loaded.playbook.id,
    alert: alertSummary(alert),
  });
  const waitMs = ctx.waitMs ?? 0;
  const host = {
    ...autoHost({
      waitMs,
      onWaiting: waitingNotifier({ alert, route, config: p.config, alive: waitMs > 0, print: ctx.print, warn: ctx.warn }),
    }),
    ...(ctx.onEvent ? { onEvent: ctx.onEvent } : {}),
  };
  if (resume) {
    const handle = await resumeRun({ ...settings(ctx), runId: alert.runId, backend: p.backend, host });
    return { kind: 'started', alert, route: route.name, runId: alert.runId, run: await handle.result, resumed: true };
  }
  const handle = await startRun({
    ...settings(ctx),
    config: p.config,
    lockWaitMs: route.lockWaitMs,
    run: {
      playbook: route.loaded,
      inputs: p.inputs,
      runId: alert.runId,
      ...(p.incident ? { incident: p.incident } : {}),
      ...(Object.keys(route.approval).length ? { approvalOverrides: route.approval } : {}),
      trigger: {
        via: ctx.via,
        route: route.name,
        routes: ctx.table.file,
        deliveryId: alert.deliveryId,
        alert: alertSummary(alert),
        event: alert.raw,
      },
    },
    backend: p.backend,
    host,
  });
  const run = await handle.result;
  return { kind: 'started', alert, route: route.name, runId: alert.runId, run };
}

/** Append `alert.repeated` to an existing run's journal, or log it when the run is live elsewhere. */
export async function recordRepeat(alert: Alert, ctx: TriggerContext): Promise<TriggerOutcome> {
  const { store } = loadConfig(ctx.configFile).config;
  if (store.kind === 'aws') return recordStoredRepeat(alert, runStoreFor(store, ctx), ctx);
  const dir = runDir(alert.runId, ctx);
  const lockFile = join(dir, 'run.lock');
  const lock = await acquireLock(lockFile, { runId: alert.runId, purpose: 'record a repeated alert' });
  if (!lock) {
    const heldBy = readLock(lockFile);
    await ctx.log.append('alert.repeated', {
      via: ctx.via,
      runId: alert.runId,
      journaled: false,
      reason: 'the run is active in another process, which alone writes its journal',
      ...(heldBy ? { heldBy } : {}),
      alert: repeatFields(alert),
    });
    return { kind: 'repeated', alert, runId: alert.runId, journaled: false, status: 'running', ...(heldBy ? { heldBy } : {}) };
  }
  let status: RunStatus;
  let repeat: number;
  try {
    const journal = Journal.open(join(dir, 'journal.jsonl'));
    try {
      const events = journal.events();
      if (!events.some((e) => e.type === 'run.started')) {
        throw new FirebreakError(
          `failed to record a repeat on run ${alert.runId}: its journal has no run.started (the process starting it died)`,
          {
            hint: `move ${dir} aside and send the alert again`,
          },
        );
      }
      status = replay(events).status;
      if (deliveredAlready(events, alert.deliveryId)) {
        await ctx.log.append('alert.duplicate', { via: ctx.via, runId: alert.runId, deliveryId: alert.deliveryId });
        return { kind: 'duplicate', alert, runId: alert.runId, status };
      }
      repeat = events.filter((e) => e.type === 'alert.repeated').length + 1;
      journal.append('alert.repeated', { repeat, via: ctx.via, ...repeatFields(alert), resources: alert.resources });
      writeSummary(dir, journal.events());
    } finally {
      journal.close();
    }
  } finally {
    lock.release();
  }
  await ctx.log.append('alert.repeated', { via: ctx.via, runId: alert.runId, journaled: true, repeat, alert: repeatFields(alert) });
  return { kind: 'repeated', alert, runId: alert.runId, journaled: true, repeat, status };
}

/** One line for the terminal or the server log. */
export function describeOutcome(o: TriggerOutcome): string {
  switch (o.kind) {
    case 'ignored':
      return o.reasons[0]?.startsWith('guardrails:')
        ? `ignored ${describeAlert(o.alert)}: ${o.reasons.join('; ')}`
        : `ignored ${describeAlert(o.alert)}: no route matches (${o.reasons.join('; ')})`;
    case 'started':
      return `run ${o.runId}: ${o.resumed ? 'resumed, ' : ''}${o.run.status}${o.run.waitingStep ? ` (step ${o.run.waitingStep})` : ''} — route ${o.route}, ${describeAlert(o.alert)}`;
    case 'repeated':
      return o.journaled
        ? `repeat #${o.repeat} of run ${o.runId} (${o.status}) recorded in its journal${o.alert.count !== undefined ? ` (count ${o.alert.count})` : ''}; nothing started`
        : `repeat of run ${o.runId} recorded in the trigger log: the run is ${o.status === 'starting' ? 'being started' : 'active'}${o.heldBy ? ` in pid ${o.heldBy.pid}` : ''}; nothing started`;
    case 'duplicate':
      return `delivery ${o.alert.deliveryId} was already recorded on run ${o.runId} (${o.status}); nothing started`;
  }
}
