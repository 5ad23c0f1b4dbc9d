/**
 * The tabletop host: the players' side of the engine's RunHost. Each answer comes from the
 * scripted decisions, else (with --auto) from the playbook's approval policy, else from a prompt
 * the CLI provides. An answer takes simulated time (the scenario's `clock`), during which the
 * timeline goes on — the attacker does not wait for the players. A step that needs a person
 * while the approver is away waits until they are back.
 */
import { parseDuration } from '../core/clock.js';
import { WaitingForApproval } from '../core/errors.js';
import type { Approval, Decision } from '../engine/events.js';
import type { ManualView, RunHost, StepView } from '../engine/host.js';
import type { LoadedDecisions, StepDecision } from './decisions.js';
import { elapsed, type ExerciseLog } from './log.js';
import type { Players } from './players.js';
import type { Rng } from './rng.js';
import type { ClockT } from './scenario.js';
import type { Scheduler } from './scheduler.js';

/** How the CLI asks the players when nothing scripted answers (interactive exercises). */
export interface PlayerPrompt {
  approve(view: StepView, signal: AbortSignal): Promise<{ decision: Decision; note?: string }>;
  manual(view: ManualView, signal: AbortSignal): Promise<{ decision: Decision; note?: string }>;
}

export interface Approver {
  /** Until when (ms since start) no one can approve. */
  awayUntil?: number;
  who: string;
}

export interface TabletopHostOptions {
  playbookId: string;
  decisions: LoadedDecisions;
  auto: boolean;
  prompt?: PlayerPrompt;
  scheduler: Scheduler;
  log: ExerciseLog;
  clock: ClockT;
  rng: Rng;
  approver: Approver;
  players: Players;
}

const WORD: Record<Decision, string> = { approve: 'approve', skip: 'skip', abort: 'abort' };

export function tabletopHost(o: TabletopHostOptions): RunHost {
  const jitter = parseDuration(o.clock.jitter);
  const taken = (scripted: StepDecision | undefined, base: string | number) => {
    if (scripted?.minutes !== undefined) return scripted.minutes * 60_000;
    const ms = parseDuration(base);
    // Jitter only varies decisions nobody timed: scripted minutes are what the script says.
    return jitter > 0 ? Math.max(0, ms + Math.round((o.rng.next() * 2 - 1) * jitter)) : ms;
  };

  /** A person must answer: wait for the approver to be back first. */
  const approverBack = async (what: string) => {
    const away = o.approver.awayUntil;
    if (away === undefined || o.scheduler.elapsed() >= away) return;
    o.log.add({ kind: 'decision', text: `${what} waits for ${o.approver.who}, unavailable until ${elapsed(away)}` });
    await o.scheduler.advanceTo(away);
  };

  const ref = (runId: string, key: string) => `${runId}/${key}`;

  return {
    kind: 'tabletop',

    async approve(view, signal): Promise<Approval> {
      const scripted = o.decisions.forStep(o.playbookId, view.key);
      let answer: { decision: Decision; note?: string };
      let by: string;
      let via: string;
      let ms: number;
      if (scripted) {
        if (scripted.decision === 'done')
          throw new Error(`scripted decision 'done' given for step ${view.key}, which needs approve, skip or abort`);
        answer = { decision: scripted.decision, ...(scripted.note ? { note: scripted.note } : {}) };
        [by, via] = ['players', 'script'];
        // Only letting a change through needs the approver; anyone may hold a step back.
        if (answer.decision === 'approve') await approverBack(`approval of ${view.key}`);
        ms = taken(scripted, o.clock.decision);
      } else if (o.auto && view.policy === 'auto') {
        answer = { decision: 'approve' };
        [by, via] = ['policy', 'policy'];
        ms = taken(undefined, o.clock.automatic);
      } else if (o.prompt && !o.auto) {
        answer = await o.prompt.approve(view, signal);
        if (answer.decision === 'approve') await approverBack(`approval of ${view.key}`);
        [by, via] = ['players', 'prompt'];
        ms = taken(undefined, o.clock.decision);
      } else {
        o.log.add({
          kind: 'decision',
          ref: ref(view.runId, view.key),
          text: `step ${view.key} (${view.title}) needs a person's approval (policy: ${view.policy}) and nobody answers: the run waits`,
        });
        throw new WaitingForApproval(view.runId, view.key);
      }
      await o.scheduler.advanceBy(ms);
      o.log.add({
        kind: 'decision',
        ref: ref(view.runId, view.key),
        text: `${by === 'policy' ? 'policy approves' : `players ${WORD[answer.decision]}`} step ${view.key} (${view.title}): ${view.plan.changes.length} change${view.plan.changes.length === 1 ? '' : 's'}`,
        detail: `took ${Math.round(ms / 1000)}s${answer.note ? `; ${answer.note}` : ''}`,
      });
      if (answer.decision === 'skip' && scripted?.instead) {
        const out = await o.players.perform(scripted.instead, scripted.instead.id ?? `${view.key}-instead`);
        o.log.add({ kind: 'player', ref: ref(view.runId, view.key), ok: out.ok, text: `instead of ${view.key}, by hand: ${out.text}` });
      }
      return { decision: answer.decision, by, via, ...(answer.note ? { note: answer.note } : {}) };
    },

    async manual(view, signal): Promise<Approval> {
      const scripted = o.decisions.forStep(o.playbookId, view.key);
      const word = scripted ? (scripted.manual ?? scripted.decision) : undefined;
      let answer: { decision: Decision; note?: string };
      let via: string;
      if (word !== undefined && (scripted!.manual !== undefined || word !== 'approve')) {
        answer = { decision: word === 'done' ? 'approve' : (word as Decision), ...(scripted!.note ? { note: scripted!.note } : {}) };
        via = 'script';
      } else if (o.prompt && !o.auto) {
        answer = await o.prompt.manual(view, signal);
        via = 'prompt';
      } else {
        o.log.add({
          kind: 'decision',
          ref: ref(view.runId, view.key),
          text: `manual task ${view.key} (${view.title}) needs a person and nobody confirms it: the run waits`,
        });
        throw new WaitingForApproval(view.runId, view.key, 'manual');
      }
      const ms = answer.decision === 'approve' ? taken(scripted, o.clock.manual) : taken(scripted, o.clock.decision);
      await o.scheduler.advanceBy(ms);
      o.log.add({
        kind: 'decision',
        ref: ref(view.runId, view.key),
        text: `players ${answer.decision === 'approve' ? 'complete' : WORD[answer.decision]} manual task ${view.key} (${view.title})`,
        detail: `took ${Math.round(ms / 1000)}s${answer.note ? `; ${answer.note}` : ''}`,
      });
      return { decision: answer.decision, by: 'players', via, ...(answer.note ? { note: answer.note } : {}) };
    },
  };
}
