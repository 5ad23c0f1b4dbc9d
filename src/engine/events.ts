/**
 * The journal's event types, in one place, and the run state derived from them. The journal is
 * the source of truth: `replay` reads it to decide, on resume, what already ran.
 */
import type { Change, Check } from '../actions/define.js';

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
  error?: { code: string; message: string };
}

export interface PlanRecord {
  changes: Change[];
  alreadyDone: boolean;
  notes: string[];
}

export interface UndoRecord {
  action: string;
  input: unknown;
}

export type { Change, Check };

export interface JournalLike {
  seq: number;
  ts: string;
  type: string;
  [k: string]: unknown;
}

/** What the journal says happened, step key by step key. */
export interface ReplayState {
  runId?: string;
  started?: JournalLike;
  status: RunStatus;
  waitingStep?: string;
  completed: Map<string, StepRecord>;
  /** Failures whose onError path was taken: replayed as the same failure. */
  handledFailures: Map<string, { code: string; message: string }>;
  approvals: Map<string, Approval>;
  choices: Map<string, string>;
  waits: Map<string, string>; // step key → ISO time the wait ends
  items: Map<string, Map<number, unknown>>; // map step key → item index → output
  applied: Array<{ step: string; action: string; output: unknown; undo?: UndoRecord; seq: number }>;
}

export function replay(events: readonly JournalLike[]): ReplayState {
  const s: ReplayState = {
    status: 'running',
    completed: new Map(),
    handledFailures: new Map(),
    approvals: new Map(),
    choices: new Map(),
    waits: new Map(),
    items: new Map(),
    applied: [],
  };
  for (const e of events) {
    const step = e.step as string;
    switch (e.type) {
      case 'run.started':
        s.started = e;
        s.runId = e.runId as string;
        s.status = 'running';
        break;
      case 'run.resumed':
        s.status = 'running';
        s.waitingStep = undefined;
        break;
      case 'run.waiting':
        s.status = 'waiting';
        s.waitingStep = step;
        break;
      case 'run.interrupted':
        s.status = 'interrupted';
        break;
      case 'run.ended':
        s.status = e.status as RunStatus;
        break;
      case 'approval.answered':
        s.approvals.set(step, {
          decision: e.decision as Decision,
          by: e.by as string,
          note: e.note as string | undefined,
          via: e.via as string | undefined,
        });
        break;
      case 'choice.taken':
        s.choices.set(step, e.next as string);
        break;
      case 'wait.started':
        s.waits.set(step, e.until as string);
        break;
      case 'item.completed': {
        let m = s.items.get(step);
        if (!m) {
          m = new Map();
          s.items.set(step, m);
        }
        m.set(e.index as number, e.output);
        break;
      }
      case 'step.applied':
        s.applied.push({ step, action: e.action as string, output: e.output, undo: e.undo as UndoRecord | undefined, seq: e.seq });
        break;
      case 'step.completed':
        s.completed.set(step, { status: e.status as StepRecord['status'], output: e.output });
        break;
      case 'step.failed':
        if (e.handled) s.handledFailures.set(step, e.error as { code: string; message: string });
        break;
    }
  }
  return s;
}
