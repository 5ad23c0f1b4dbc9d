/**
 * One tabletop exercise, start to end: a copy of the scenario's world behind the simulated cloud,
 * the attacker and the players acting on it, the timeline's injects fired at their simulated
 * times, each alert starting its playbook run through the same engine as production (the
 * tabletop host answers for the players), and the objectives checked after every event.
 *
 * Alerts are taken one at a time, as one response team would: an alert that arrives while a run
 * is going is recorded then and handled when that run is done (a second copy of the same finding
 * is recorded on the first run and starts nothing).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig, type Config } from '../config/config.js';
import { parseDuration, SimClock } from '../core/clock.js';
import { Interrupted } from '../core/errors.js';
import { guardrails } from '../engine/guardrails.js';
import { startRun } from '../engine/session.js';
import { chooseBackend } from '../backend/backend.js';
import type { LoadedPlaybook } from '../playbook/schema.js';
import { createSimCloud, runDlmSchedules, type SimCloud } from '../sim/index.js';
import { Attacker } from './attacker.js';
import { NO_DECISIONS, type LoadedDecisions } from './decisions.js';
import { buildAlertEvent, type AlertEvent } from './findings.js';
import { tabletopHost, type Approver, type PlayerPrompt } from './host.js';
import { playbookFor, type LoadedScenario } from './load.js';
import { ExerciseLog, type TimelineEntry } from './log.js';
import { ObjectiveTracker, type ExerciseFacts, type ObjectiveState } from './objectives.js';
import { Players } from './players.js';
import { seededRng } from './rng.js';
import { resolveAlertRoute, type AlertRoute } from './routing.js';
import type { InjectT } from './scenario.js';
import { fireOps } from './ops.js';
import { runTimeline } from './run-timeline.js';
import { Scheduler } from './scheduler.js';
import { checkExpectation, score, type ExerciseResult, type RunSummary } from './scoring.js';

export interface ExerciseOptions {
  scenario: LoadedScenario;
  decisions?: LoadedDecisions;
  /** Play the playbooks' automatic policy for every step nothing scripted answers. */
  auto: boolean;
  seed: number;
  /** The exercise folder: its runs (and their locks) live here, apart from production runs. */
  dir: string;
  prompt?: PlayerPrompt;
  /** Real-time pacing: simulated seconds per real second. */
  speed?: number;
  config?: Config;
  onEntry?: (e: TimelineEntry) => void;
  /** The exercise's simulated cloud, once created (tests inspect its world). */
  onSim?: (sim: SimCloud) => void;
  signal?: AbortSignal;
}

interface QueuedAlert {
  key: string;
  event: AlertEvent;
  dedupKey: string;
  route: AlertRoute;
}

export async function runExercise(o: ExerciseOptions): Promise<ExerciseResult> {
  const loaded = o.scenario;
  const sc = loaded.scenario;
  const decisions = o.decisions ?? NO_DECISIONS;
  const config = o.config ?? loadConfig().config;
  const start = loaded.start;
  const world = structuredClone(loaded.world);
  world.time = start.toISOString();
  const simClock = new SimClock(start);
  const sim = createSimCloud(world, { clock: simClock });
  o.onSim?.(sim);
  const rng = seededRng(o.seed);
  const log = new ExerciseLog(simClock, start);
  if (o.onEntry) log.onEntry(o.onEntry);
  const attacker = sc.attacker ? new Attacker(sim, sc.attacker, rng) : undefined;
  const facts: ExerciseFacts = {
    start,
    initial: structuredClone(world),
    ...(attacker ? { attacker } : {}),
    injectFired: new Map(),
    attacks: new Map(),
    firings: new Map(sc.timeline.filter((t) => t.id).map((t) => [t.id!, t.repeat?.times ?? 1])),
    steps: [],
    calls: sim.calls,
  };

  let scheduler!: Scheduler;
  const tracker = new ObjectiveTracker(
    sc.objectives,
    world,
    facts,
    simClock,
    (s: ObjectiveState) =>
      log.add({
        kind: 'objective',
        ref: s.objective.id,
        ok: s.status === 'met',
        text: `objective ${s.objective.id} ${s.status}: ${s.objective.title}`,
        detail: s.detail,
      }),
    // A check one millisecond after each deadline: a step that completes at the deadline still counts.
    (deadline) => scheduler.schedule(deadline + 1, 'deadline', async () => evaluate(), { internal: true }),
  );
  const evaluate = () => tracker.evaluate(scheduler.elapsed());
  log.onEntry((e) => {
    if (e.kind !== 'objective') evaluate();
  });
  scheduler = new Scheduler(simClock, start, {
    onMoved: (now) => {
      const dlm = runDlmSchedules(world, now);
      if (dlm.created.length > 0 || dlm.deleted.length > 0) {
        log.add({
          kind: 'snapshot',
          text: `Data Lifecycle Manager took ${dlm.created.length} snapshot${dlm.created.length === 1 ? '' : 's'}${dlm.deleted.length ? ` and expired ${dlm.deleted.length}` : ''}`,
          detail: dlm.created.join(', '),
        });
      }
      evaluate();
    },
    ...(o.speed ? { pace: (ms: number) => sleep(ms / o.speed!, undefined, o.signal ? { signal: o.signal } : {}) } : {}),
  });

  const players = new Players(sim, scheduler.engineClock(), guardrails(config), sc.id, () => rng.next());
  const approver: Approver = { who: 'the approver' };
  const queue: QueuedAlert[] = [];
  const handled = new Map<string, string>(); // alert dedup key → run id (or 'queued')
  const playbooks = loaded.playbooks as Map<string, LoadedPlaybook>;
  const routing = { scenarioFile: loaded.file, ...(sc.routes ? { routesFile: sc.routes } : {}), world };

  const fire = async (inj: InjectT, index: number, repeat: number): Promise<void> => {
    const key = inj.id ?? `inject-${index + 1}`;
    const ref = inj.repeat ? `${key}#${repeat + 1}` : key;
    if (inj.id && !facts.injectFired.has(inj.id)) facts.injectFired.set(inj.id, scheduler.elapsed());
    const title = inj.title ? `${inj.title}: ` : '';
    if (inj.alert) {
      const event = buildAlertEvent(inj.alert, {
        scenarioId: sc.id,
        injectKey: key,
        accountId: inj.alert.account ?? world.account.id,
        region: inj.alert.region ?? world.region,
        now: simClock.now(),
      });
      facts.firstAlertAt ??= scheduler.elapsed();
      const r = await resolveAlertRoute(inj.alert, event, routing);
      const dedupKey = r.alert.dedupKey;
      const seen = handled.get(dedupKey);
      if (seen) {
        log.add({
          kind: 'duplicate',
          ref,
          text: `${title}${event.summary} again: the same finding (${dedupKey}), recorded on ${seen === 'queued' ? 'the alert already waiting' : `run ${seen}`}; it starts nothing`,
        });
        return;
      }
      if (!('route' in r)) {
        log.add({
          kind: 'alert',
          ref,
          ok: false,
          text: `${title}${event.summary}: no route matches, so nothing starts`,
          detail: r.ignored.join('; '),
        });
        return;
      }
      handled.set(dedupKey, 'queued');
      queue.push({ key: ref, event, dedupKey, route: r.route });
      const pb = playbookFor(r.route.playbookFile, playbooks);
      log.add({
        kind: 'alert',
        ref,
        text: `${title}${event.summary} → ${r.route.route ? `route ${r.route.route}, ` : ''}playbook ${pb.playbook.id}`,
        detail: JSON.stringify(r.route.inputs),
      });
    } else if (inj.attacker) {
      const outcomes = await attacker!.perform(inj.attacker);
      for (const [i, out] of outcomes.entries()) {
        log.add({
          kind: 'attacker',
          ref,
          ok: out.ok,
          text: `${i > 0 ? 'then tries: ' : title}${out.text}`,
          ...(out.lesson ? { lesson: out.lesson } : {}),
        });
      }
      if (inj.id) facts.attacks.set(inj.id, [...(facts.attacks.get(inj.id) ?? []), { t: scheduler.elapsed(), ok: outcomes.at(-1)!.ok }]);
      evaluate();
    } else if (inj.ops) {
      fireOps(inj.ops, { ref, title, sim, scheduler, log, approver });
    } else if (inj.note !== undefined) {
      log.add({ kind: 'note', ref, text: `${title}${prose(inj.note)}` });
    } else {
      log.add({ kind: 'question', ref, text: `${title}${prose(inj.question!)}` });
    }
  };

  sc.timeline.forEach((inj, i) => {
    const times = inj.repeat?.times ?? 1;
    for (let k = 0; k < times; k++) {
      const at = parseDuration(inj.at) + (inj.repeat ? k * parseDuration(inj.repeat.every) : 0);
      scheduler.schedule(at, inj.id ?? `inject-${i + 1}`, () => fire(inj, i, k));
    }
  });
  decisions.actions.forEach((a, i) => {
    const key = a.id ?? `player-action-${i + 1}`;
    scheduler.schedule(parseDuration(a.at), key, async () => {
      const out = await players.perform(a, key);
      log.add({ kind: 'player', ref: key, ok: out.ok, text: `players, by hand: ${out.text}` });
    });
  });

  const runs: RunSummary[] = [];
  const runAlert = async (q: QueuedAlert) => {
    const n = runs.length + 1;
    const runId = `${sc.id}-${n}`;
    const pb = playbookFor(q.route.playbookFile, playbooks);
    handled.set(q.dedupKey, runId);
    log.add({
      kind: 'run',
      ref: runId,
      text: `run ${runId} starts playbook ${pb.playbook.id} for ${q.key}`,
      detail: JSON.stringify(q.route.inputs),
    });
    const host = tabletopHost({
      playbookId: pb.playbook.id,
      decisions,
      auto: o.auto,
      ...(o.prompt ? { prompt: o.prompt } : {}),
      scheduler,
      log,
      clock: sc.clock,
      rng,
      approver,
      players,
    });
    const toTimeline = runTimeline(runId, pb.playbook.id, facts, log, () => scheduler.elapsed());
    const engineClock = scheduler.engineClock();
    const handle = await startRun({
      run: {
        playbook: q.route.playbookFile,
        inputs: q.route.inputs,
        runId,
        ...(q.route.approvals ? { approvalOverrides: q.route.approvals } : {}),
        ...(q.route.incident ? { incident: q.route.incident } : {}),
        trigger: {
          source: q.event.source,
          dedupKey: q.dedupKey,
          inject: q.key,
          ...(q.route.route ? { route: q.route.route } : {}),
          event: q.event.event,
        },
      },
      // The run acts on the exercise's own simulated cloud, where the attacker and the scenario clock act too.
      // In the alert's Region, through the responder role when the route (or the inject) names one.
      backend: chooseBackend({ simCloud: sim, clock: engineClock, random: () => rng.next(), ...q.route.where }),
      host,
      observers: [
        (e) => {
          toTimeline(e);
          evaluate();
        },
      ],
      clock: engineClock,
      home: o.dir,
      config,
      ...(o.signal ? { signal: o.signal } : {}),
    });
    const outcome = await handle.result;
    runs.push({
      runId,
      playbook: pb.playbook.id,
      alert: q.key,
      status: outcome.status,
      ...(outcome.outcome ? { outcome: outcome.outcome } : {}),
      ...(outcome.waitingStep ? { waitingStep: outcome.waitingStep } : {}),
      ...(outcome.error && outcome.status !== 'waiting' ? { error: `${outcome.error.code}: ${outcome.error.message}` } : {}),
    });
    log.add({
      kind: 'run',
      ref: runId,
      ...(outcome.status === 'waiting' ? {} : { ok: outcome.status === 'succeeded' }),
      text: `run ${runId} ${outcome.status}${outcome.waitingStep ? ` at step ${outcome.waitingStep}` : ''}${outcome.error && outcome.status !== 'waiting' ? `: ${outcome.error.code}` : ''}`,
    });
  };

  for (;;) {
    if (o.signal?.aborted) throw new Interrupted();
    const next = queue.shift();
    if (next) {
      await runAlert(next);
      continue;
    }
    const at = scheduler.nextAt();
    if (at === undefined) break;
    if (loaded.durationMs !== undefined && at > Math.max(loaded.durationMs, scheduler.elapsed())) break;
    await scheduler.advanceTo(at);
  }
  if (loaded.durationMs !== undefined) await scheduler.advanceTo(loaded.durationMs);
  const end = scheduler.elapsed();
  const objectives = tracker.finish(end);

  const result: ExerciseResult = {
    scenario: { id: sc.id, title: sc.title, sha256: loaded.sha256 },
    mode: o.auto ? (decisions === NO_DECISIONS ? 'auto' : 'auto+scripted') : decisions === NO_DECISIONS ? 'players' : 'scripted',
    seed: o.seed,
    ...(decisions !== NO_DECISIONS ? { decisions: decisions.file } : {}),
    start: start.toISOString(),
    end: new Date(start.getTime() + end).toISOString(),
    durationMs: end,
    score: score(objectives),
    objectives: objectives.map((s) => ({
      id: s.objective.id,
      title: s.objective.title,
      kind: s.kind,
      points: s.objective.points,
      status: s.status === 'met' ? 'met' : 'missed',
      ...(s.t !== undefined ? { t: s.t, at: new Date(start.getTime() + s.t).toISOString() } : {}),
      ...(s.deadline !== undefined ? { deadline: s.deadline } : {}),
      detail: s.detail,
      ...(s.objective.capability ? { capability: s.objective.capability } : {}),
    })),
    runs,
    timeline: log.entries,
    notReached: scheduler.pending().map((p) => ({ t: p.at, label: p.label })),
  };
  // The scenario's expectation is for --auto alone; a decisions file states its own.
  const expectation = decisions.expect ?? (o.auto && decisions === NO_DECISIONS ? sc.expect?.auto : undefined);
  if (expectation) result.expectation = { source: decisions.expect ? 'decisions' : 'scenario', ...checkExpectation(expectation, result) };
  return result;
}

/** Text written in a YAML block: lines of a paragraph joined, paragraphs kept apart. */
function prose(text: string): string {
  return text
    .trim()
    .split(/\n\s*\n/)
    .map((p) => p.replace(/\s*\n\s*/g, ' '))
    .join('\n');
}
