/**
 * The journal's event types, in one place, and the run state derived from them. The journal is
 * the source of truth: `replay` reads it to decide, on resume, what already ran.
 */
import type { Change, Check } from '../actions/define.js';
import { parseRunEvent, type RunStarted } from '../audit/events.js';

export type RunStatus = 'running' | 'waiting' | 'succeeded' | 'failed' | 'aborted' | 'interrupted' | 'planned';

export type Decision = 'approve' | 'skip' | 'abort';

export interface Approval {
  decision: Decision;
  by: string;
  note?: string;
  via?: string; // 'prompt', 'policy', 'approve-command', 'script'
}

export interface StepRecord {
  status: 'applied' | 'already-done' | 'skipped' | 'denied' | 'planned' | 'manual' | 'failed' | 'condition-false';
  output?: unknown;
  /** A dry run's planned step: what apply would return, as far as its plan tells. */
  predicted?: unknown;
  error?: { code: string; message: string };
  /** A step across accounts: its output in each account×Region. */
  locations?: Array<{ account: string; region: string; output?: unknown }>;
}

/** A change, with the account and Region of its resource in a run across accounts. */
export type LocatedChange = Change & { account?: string; region?: string };

export interface PlanRecord {
  changes: LocatedChange[];
  alreadyDone: boolean;
  notes: string[];
}

export interface UndoRecord {
  action: string;
  input: unknown;
}

export type { Change, Check };

/** A journal event as read (Journal.read, Journal.events()): parsed by `replay` with its type's schema. */
export interface JournalLike {
  seq: number;
  ts: string;
  type: string;
  [k: string]: unknown;
}

/** What the journal says happened, step key by step key. */
export interface ReplayState {
  runId?: string;
  started?: RunStarted;
  status: RunStatus;
  waitingStep?: string;
  completed: Map<string, StepRecord>;
  /** Failures whose onError path was taken: replayed as the same failure. */
  handledFailures: Map<string, { code: string; message: string }>;
  approvals: Map<string, Approval>;
  /**
   * Answers to manual tasks, apart from approvals: a step approved by policy that then becomes a
   * manual task (no Support plan) must wait for a person, not replay its approval as the answer.
   */
  manualAnswers: Map<string, Approval>;
  choices: Map<string, string>;
  waits: Map<string, string>; // step key → ISO time the wait ends
  items: Map<string, Map<number, unknown>>; // map step key → item index → output
  applied: Array<{ step: string; action: string; output: unknown; undo?: UndoRecord; seq: number }>;
  /** Step keys whose apply began (step.applying) and that have not completed: a kill came mid-apply. */
  applying: Set<string>;
}

/**
 * The run state a journal records. Every event is parsed with its declared schema first
 * (audit/events.ts): an event that does not match fails here, naming its line and field, rather
 * than resuming a run on a field that silently read as undefined.
 */
export function replay(events: readonly JournalLike[], where: { file?: string } = {}): ReplayState {
  const s: ReplayState = {
    status: 'running',
    completed: new Map(),
    handledFailures: new Map(),
    approvals: new Map(),
    manualAnswers: new Map(),
    choices: new Map(),
    waits: new Map(),
    items: new Map(),
    applied: [],
    applying: new Set(),
  };
  const manualAsked = new Set<string>();
  for (const raw of events) {
    const e = parseRunEvent(raw, { ...where, line: raw.seq });
    switch (e.type) {
      case 'run.started':
        s.started = e;
        s.runId = e.runId;
        s.status = 'running';
        break;
      case 'run.resumed':
        s.status = 'running';
        s.waitingStep = undefined;
        break;
      case 'run.waiting':
        s.status = 'waiting';
        s.waitingStep = e.step;
        break;
      case 'run.interrupted':
        s.status = 'interrupted';
        break;
      case 'run.ended':
        s.status = e.status;
        break;
      case 'manual.requested':
        manualAsked.add(e.step);
        break;
      case 'approval.answered':
        (manualAsked.delete(e.step) ? s.manualAnswers : s.approvals).set(e.step, {
          decision: e.decision,
          by: e.by,
          note: e.note,
          via: e.via,
        });
        break;
      case 'choice.taken':
        s.choices.set(e.step, e.next);
        break;
      case 'wait.started':
        s.waits.set(e.step, e.until);
        break;
      case 'item.completed': {
        const m = s.items.get(e.step) ?? new Map<number, unknown>();
        s.items.set(e.step, m);
        m.set(e.index, e.output);
        break;
      }
      case 'step.applied':
        s.applied.push({
          step: e.step,
          action: e.action,
          output: e.output,
          ...(e.undo ? { undo: { action: e.undo.action, input: e.undo.input } } : {}),
          seq: e.seq,
        });
        break;
      case 'step.applying':
        s.applying.add(e.step);
        break;
      case 'step.completed':
        s.applying.delete(e.step);
        s.completed.set(e.step, {
          status: e.status,
          output: e.output,
          ...(e.predicted !== undefined ? { predicted: e.predicted } : {}),
          ...(e.locations ? { locations: e.locations } : {}),
        });
        break;
      case 'step.failed':
        if (e.handled) s.handledFailures.set(e.step, { code: e.error.code, message: e.error.message });
        break;
    }
  }
  return s;
}
