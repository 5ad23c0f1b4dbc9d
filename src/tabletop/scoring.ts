/**
 * Scoring and the exercise's JSON result: every objective met or missed with its time, the
 * points, and whether the run matched what the scenario (for --auto) or the decisions file
 * expected — which makes a scenario a regression test of its playbooks.
 */
import type { TimelineEntry } from './log.js';
import type { ObjectiveState } from './objectives.js';
import type { ExpectT, ObjectiveKind } from './scenario.js';

export interface ObjectiveResult {
  id: string;
  title: string;
  kind: ObjectiveKind;
  points: number;
  status: 'met' | 'missed';
  /** When it was met or missed: ms since the start, and the simulated time. */
  t?: number;
  at?: string;
  deadline?: number;
  detail: string;
  capability?: string;
}

export interface RunSummary {
  runId: string;
  playbook: string;
  /** The inject whose alert started it. */
  alert: string;
  status: string;
  outcome?: string;
  waitingStep?: string;
  error?: string;
}

export interface Score {
  points: number;
  total: number;
  percent: number;
}

export interface ExerciseResult {
  scenario: { id: string; title: string; sha256: string };
  mode: 'auto' | 'auto+scripted' | 'scripted' | 'players';
  seed: number;
  decisions?: string;
  start: string;
  end: string;
  durationMs: number;
  score: Score;
  objectives: ObjectiveResult[];
  runs: RunSummary[];
  timeline: TimelineEntry[];
  /** Injects scheduled after the exercise ended. */
  notReached: Array<{ t: number; label: string }>;
  expectation?: { source: 'scenario' | 'decisions'; ok: boolean; problems: string[] };
}

export function score(states: readonly ObjectiveState[]): Score {
  const total = states.reduce((n, s) => n + s.objective.points, 0);
  const points = states.reduce((n, s) => n + (s.status === 'met' ? s.objective.points : 0), 0);
  return { points, total, percent: total === 0 ? 100 : Math.round((points / total) * 1000) / 10 };
}

export function checkExpectation(exp: ExpectT, r: Pick<ExerciseResult, 'score' | 'objectives'>): { ok: boolean; problems: string[] } {
  const problems: string[] = [];
  if (exp.score !== undefined && exp.score !== r.score.points)
    problems.push(`expected a score of ${exp.score}, got ${r.score.points} of ${r.score.total}`);
  const status = new Map(r.objectives.map((o) => [o.id, o.status]));
  for (const id of exp.met ?? []) if (status.get(id) !== 'met') problems.push(`expected objective ${id} met, it was missed`);
  for (const id of exp.missed ?? []) if (status.get(id) !== 'missed') problems.push(`expected objective ${id} missed, it was met`);
  return { ok: problems.length === 0, problems };
}
