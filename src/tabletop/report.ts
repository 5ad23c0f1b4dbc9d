/**
 * The after-action report of an exercise, in the shape of an HSEEP After-Action Report /
 * Improvement Plan: exercise overview, objectives and their results, analysis (strengths, areas
 * for improvement), the timeline of injects and decisions, and an improvement plan whose owners
 * and dates are left for the organization to fill in. Rendered from `templates/after-action.md.eta`
 * and `templates/after-action.html.eta` (a self-contained page). Only simulated times appear.
 */
import * as md from '../render/markdown.js';
import { type Lane, SVG_CSS, timelineSvg } from '../render/svg.js';
import { renderTemplate } from '../render/templates.js';
import type { LoadedScenario } from './load.js';
import { elapsed, type EntryKind } from './log.js';
import type { ObjectiveKind } from './scenario.js';
import type { ExerciseResult } from './scoring.js';

/** The corrective action proposed for a missed objective when the scenario names none. */
const IMPROVE: Record<ObjectiveKind, string> = {
  'instance-isolated':
    'Isolate with the two-step security-group swap (an allow-all transit group, then a group without rules) so tracked connections end too; rehearse the playbook until it runs within the deadline.',
  'connections-closed':
    "End the attacker's open connections: a security-group swap in one step leaves tracked connections alive; use the two-step swap or a network ACL deny.",
  'snapshot-before-change':
    'Take forensic snapshots of every volume before anyone (or anything) changes the instance, and raise the snapshot frequency of a suspicious instance (CC8).',
  'no-collateral': 'Confirm the target before approving a containment step; act only on the instances of the incident.',
  'support-case-opened':
    'Open an AWS Support case early in the incident (CC18); keep the case text ready where the Support API is not available (Basic or Developer plans).',
  'access-key-disabled':
    'Deactivate a leaked key instead of deleting it: deactivation can be undone, and the key and its last-used record stay as evidence.',
  'credential-revoked':
    'Revoke every credential the attacker holds: deactivate keys (including any the attacker created), revoke role sessions, and fix the trust policy or the caller.',
  'attacker-locked-out':
    'Cut every path the attacker still has: credentials (keys, role sessions, the instance profile that issues new ones) and open connections.',
  'address-range-blocked':
    "Deny the attacking range in the subnet's network ACL: it is stateless, so it also ends connections already open.",
  'attack-stopped': "Contain early enough that the attacker's next move fails.",
  'step-completed': 'Make sure the step completes: check its approval policy and who can approve it when it is needed.',
  'instance-profile-removed':
    'Replace or remove the instance profile of a compromised instance: revoking sessions does not stop its metadata service from handing out fresh credentials.',
};

const KIND_LABEL: Record<EntryKind, string> = {
  alert: 'alert',
  duplicate: 'alert (repeat)',
  run: 'run',
  decision: 'decision',
  step: 'step',
  attacker: 'attacker',
  player: 'players',
  ops: 'operations',
  note: 'facilitator note',
  question: 'discussion',
  objective: 'objective',
  snapshot: 'snapshots',
};

export interface AfterAction {
  title: string;
  scenarioId: string;
  sha256: string;
  description: string;
  controls: string[];
  capabilities: string[];
  mode: string;
  seed: number;
  decisions?: string;
  start: string;
  end: string;
  duration: string;
  account: string;
  region: string;
  threat?: string;
  playbooks: string[];
  score: ExerciseResult['score'];
  objectives: Array<{
    id: string;
    title: string;
    capability: string;
    points: number;
    met: boolean;
    when: string;
    deadline: string;
    detail: string;
    strength?: string;
    improvement: string;
  }>;
  strengths: Array<{ title: string; text: string }>;
  improvements: Array<{ capability: string; issue: string; action: string }>;
  timeline: Array<{ when: string; at: string; kind: string; text: string; ok?: boolean; lesson?: string; detail?: string }>;
  discussion: Array<{ when: string; kind: string; text: string }>;
  runs: Array<ExerciseResult['runs'][number] & { alertText: string }>;
  notReached: Array<{ when: string; label: string }>;
  expectation?: ExerciseResult['expectation'];
}

const MODE: Record<ExerciseResult['mode'], string> = {
  auto: "automatic: the playbooks' approval policy decided every step (a regression test of the playbooks)",
  'auto+scripted': "scripted player decisions, the playbooks' approval policy for the rest",
  scripted: 'scripted player decisions',
  players: 'players deciding at the prompt',
};

export function afterAction(result: ExerciseResult, scenario: LoadedScenario): AfterAction {
  const sc = scenario.scenario;
  const objectives = result.objectives.map((o) => {
    const def = sc.objectives.find((x) => x.id === o.id)!;
    return {
      id: o.id,
      title: o.title,
      capability: o.capability ?? '',
      points: o.points,
      met: o.status === 'met',
      when: o.t !== undefined ? elapsed(o.t) : '',
      deadline: o.deadline !== undefined ? `by ${elapsed(o.deadline)}` : def.within ? `within ${def.within} of ${def.from}` : '',
      detail: o.detail,
      ...(def.strength ? { strength: def.strength } : {}),
      improvement: def.improvement ?? IMPROVE[o.kind],
    };
  });
  const lessons = [
    ...new Set(result.timeline.filter((e) => e.lesson && (e.kind === 'attacker' || e.kind === 'player') && e.ok).map((e) => e.lesson!)),
  ];
  return {
    title: sc.title,
    scenarioId: sc.id,
    sha256: result.scenario.sha256,
    description: (sc.description ?? '').trim(),
    controls: sc.controls,
    capabilities: sc.capabilities,
    mode: MODE[result.mode],
    seed: result.seed,
    ...(result.decisions ? { decisions: result.decisions.split(/[\\/]/).pop()! } : {}),
    start: isoSeconds(result.start),
    end: isoSeconds(result.end),
    duration: humanDuration(result.durationMs),
    account: scenario.world.account.id,
    region: scenario.world.region,
    ...(sc.attacker ? { threat: sc.attacker.name } : {}),
    playbooks: [...new Set(result.runs.map((r) => r.playbook))],
    score: result.score,
    objectives,
    strengths: objectives.filter((o) => o.met).map((o) => ({ title: o.title, text: o.strength ?? `Met at ${o.when}: ${o.detail}.` })),
    improvements: [
      ...objectives
        .filter((o) => !o.met)
        .map((o) => ({
          capability: o.capability || o.title,
          issue: `${o.title} — missed${o.when ? ` (${o.when})` : ''}: ${o.detail}`,
          action: o.improvement,
        })),
      ...lessons.map((l) => ({
        capability: 'Cybersecurity',
        issue: `The attacker succeeded: ${l}`,
        action: 'Discuss in the hot wash; add the missing step to the playbook or the runbook.',
      })),
    ],
    timeline: result.timeline.map((e) => ({
      when: elapsed(e.t),
      at: isoSeconds(e.at),
      kind: KIND_LABEL[e.kind],
      text: e.text,
      ...(e.ok !== undefined ? { ok: e.ok } : {}),
      ...(e.lesson ? { lesson: e.lesson } : {}),
      ...(e.detail ? { detail: e.detail } : {}),
    })),
    discussion: result.timeline
      .filter((e) => e.kind === 'note' || e.kind === 'question')
      .map((e) => ({ when: elapsed(e.t), kind: KIND_LABEL[e.kind], text: e.text })),
    runs: result.runs.map((r) => ({ ...r, alertText: alertText(result, r.alert) })),
    notReached: result.notReached.map((n) => ({ when: elapsed(n.t), label: n.label })),
    ...(result.expectation ? { expectation: result.expectation } : {}),
  };
}

/** What the alert that started a run said (`GuardDuty finding: … on i-…`), with its inject id. */
function alertText(result: ExerciseResult, inject: string): string {
  const e = result.timeline.find((x) => x.kind === 'alert' && x.ref === inject);
  return e ? `${e.text.split(' → ')[0]} (inject ${inject})` : inject;
}

/**
 * The exercise on one time axis: injects and alerts, the attacker's moves (filled when they worked),
 * each run's steps as it reached them, and the objectives as they were met or missed.
 */
export function exerciseLanes(result: ExerciseResult): Lane[] {
  const injects: Lane = { label: 'injects and alerts', bars: [], marks: [] };
  const attacker: Lane = { label: 'attacker', bars: [], marks: [] };
  const objectives: Lane = { label: 'objectives', bars: [], marks: [] };
  const runs = new Map<string, Lane & { from?: number; last?: number }>();
  for (const e of result.timeline) {
    const title = `${elapsed(e.t)} ${e.text}`;
    if (e.kind === 'alert' || e.kind === 'duplicate') injects.marks.push({ at: e.t, kind: 'alert', title });
    else if (e.kind === 'ops' || e.kind === 'note' || e.kind === 'question' || e.kind === 'player')
      injects.marks.push({ at: e.t, kind: 'inject', title });
    else if (e.kind === 'attacker') attacker.marks.push({ at: e.t, kind: e.ok === false ? 'attack-failed' : 'attack', title });
    else if (e.kind === 'objective') objectives.marks.push({ at: e.t, kind: e.ok === false ? 'missed' : 'objective', title });
    else if ((e.kind === 'run' || e.kind === 'step') && e.ref) {
      const id = e.ref.split('/')[0]!;
      let lane = runs.get(id);
      if (!lane) {
        lane = { label: `run ${id}`, bars: [], marks: [], from: e.t };
        runs.set(id, lane);
      }
      lane.last = e.t;
      if (e.kind === 'step')
        lane.marks.push({ at: e.t, kind: e.ok === false ? 'failure' : /retries/.test(e.text) ? 'retry' : 'done', title });
    }
  }
  const runLanes = [...runs.values()].map(({ label, marks, from, last }) => {
    const run = result.runs.find((r) => label === `run ${r.runId}`);
    const open = run?.status === 'waiting' || run?.status === 'running';
    const to = open ? result.durationMs : (last ?? from!);
    return {
      label,
      marks,
      bars: [
        {
          from: from!,
          to,
          tone: open ? ('wait' as const) : run?.status === 'succeeded' ? ('ok' as const) : ('bad' as const),
          title: `${label}: ${run?.status ?? '?'}`,
        },
      ],
    };
  });
  return [injects, attacker, ...runLanes, objectives].filter((l) => l.marks.length || l.bars.length);
}

/** `2026-03-03T02:40:00Z`: simulated times never carry meaningful milliseconds. */
function isoSeconds(iso: string): string {
  return iso.replace(/\.\d{3}Z$/, 'Z');
}

/** `45 min`, `1 h 05 min`. */
export function humanDuration(ms: number): string {
  const min = Math.round(ms / 60_000);
  return min < 60 ? `${min} min` : `${Math.floor(min / 60)} h ${String(min % 60).padStart(2, '0')} min`;
}

export function renderAfterAction(result: ExerciseResult, scenario: LoadedScenario): { markdown: string; html: string } {
  const it = afterAction(result, scenario);
  return {
    markdown: renderTemplate('after-action.md.eta', { ...it, md }),
    html: renderTemplate('after-action.html.eta', {
      ...it,
      svg: {
        css: SVG_CSS,
        timeline: timelineSvg(exerciseLanes(result), {
          start: 0,
          end: Math.max(result.durationMs, 1),
          label: `timeline of exercise ${it.scenarioId}`,
        }),
      },
    }),
  };
}
