/**
 * The two pictures of the incident report, as data for src/render/svg.ts: the timeline (one lane
 * per step: a bar from start to end, approvals, retries, failures, expected error answers and
 * manual tasks marked) and the playbook's steps with the ones the run went through highlighted.
 */
import type { StepRecord } from '../engine/events.js';
import type { PlaybookT, StepT } from '../playbook/schema.js';
import type { FlowNode, Lane, NodeState, Tone } from '../render/svg.js';
import type { CallOutcome } from './calls.js';

// biome-ignore lint/suspicious/noExplicitAny: a report reads journals of any version, field by field (the typed union is the engine's, for the current version)
type Event = { seq: number; ts: string; type: string; [k: string]: any };

/** Every status a step can complete with has its colour (typed, so a new status cannot go uncoloured). */
export const COMPLETION_TONE: Record<StepRecord['status'], Tone> = {
  applied: 'ok',
  'already-done': 'ok',
  planned: 'ok',
  manual: 'warn',
  skipped: 'warn',
  denied: 'warn',
  'condition-false': 'muted',
  failed: 'bad',
};

export function timelineLanes(events: readonly Event[], outcomes: Map<number, CallOutcome>, end: number): Lane[] {
  const lanes = new Map<string, Lane & { started?: number; waitFrom?: number }>();
  const lane = (step: string) => {
    let l = lanes.get(step);
    if (!l) {
      l = { label: step, bars: [], marks: [] };
      lanes.set(step, l);
    }
    return l;
  };
  events.forEach((e, i) => {
    const step = e.step === undefined ? undefined : String(e.step).split('#')[0]!;
    const t = Date.parse(e.ts);
    if (!step) return;
    switch (e.type) {
      case 'step.started':
        lane(step).started ??= t;
        break;
      case 'wait.started':
        lane(step).waitFrom = t;
        break;
      case 'step.completed':
      case 'step.failed': {
        const l = lane(step);
        if (e.type === 'step.failed')
          l.marks.push({ at: t, kind: 'failure', title: `${step} failed: ${e.error?.code}${e.handled ? ' (onError path taken)' : ''}` });
        if (l.waitFrom !== undefined) {
          l.bars.push({ from: l.waitFrom, to: t, tone: 'wait', title: `${step}: waited until ${new Date(t).toISOString()}` });
          l.waitFrom = undefined;
        } else if (l.started !== undefined) {
          const status = e.type === 'step.failed' ? 'failed' : String(e.status);
          l.bars.push({
            from: l.started,
            to: t,
            tone: COMPLETION_TONE[status as StepRecord['status']] ?? 'muted',
            title: `${step}: ${status} (${Math.max(t - l.started, 0)} ms)`,
          });
        }
        l.started = undefined;
        break;
      }
      case 'approval.answered':
        lane(step).marks.push({ at: t, kind: 'approval', title: `${step}: ${e.decision} by ${e.by}${e.via ? ` (${e.via})` : ''}` });
        break;
      case 'step.retrying':
        lane(step).marks.push({ at: t, kind: 'retry', title: `${step}: retry ${e.attempt} of ${e.of} after ${e.error?.code}` });
        break;
      case 'item.failed':
        lane(step).marks.push({ at: t, kind: 'failure', title: `${step} item ${e.index} failed: ${e.error?.code}` });
        break;
      case 'manual.requested':
        lane(step).marks.push({ at: t, kind: 'manual', title: `manual task: ${e.title}` });
        break;
      case 'aws.call': {
        const o = outcomes.get(i);
        if (o === 'expected')
          lane(step).marks.push({ at: t, kind: 'expected', title: `${e.service}:${e.operation} → ${e.error?.code} (expected answer)` });
        if (o === 'failed') lane(step).marks.push({ at: t, kind: 'failure', title: `${e.service}:${e.operation} → ${e.error?.code}` });
        break;
      }
    }
  });
  // A step still open when the journal ends: running, or waiting for someone.
  for (const [step, l] of lanes) {
    if (l.waitFrom !== undefined) l.bars.push({ from: l.waitFrom, to: end, tone: 'wait', title: `${step}: waiting` });
    else if (l.started !== undefined) l.bars.push({ from: l.started, to: end, tone: 'info', title: `${step}: not finished` });
  }
  return [...lanes.values()].filter((l) => l.bars.length || l.marks.length).map(({ label, bars, marks }) => ({ label, bars, marks }));
}

/** What the journal says each step (by id, map items folded) came to. */
export function stepStates(events: readonly Event[], waitingStep?: string): Map<string, { state: NodeState; detail: string }> {
  const s = new Map<string, { state: NodeState; detail: string }>();
  for (const e of events) {
    if (e.step === undefined) continue;
    const id = String(e.step).split('#')[0]!;
    if (e.type === 'step.started' || e.type === 'choice.taken')
      s.set(id, { state: 'taken', detail: e.type === 'choice.taken' ? `chose ${e.next}` : 'started' });
    if (e.type === 'step.completed') {
      const st = String(e.status);
      s.set(id, {
        state:
          st === 'failed'
            ? 'failed'
            : st === 'manual'
              ? 'manual'
              : st === 'skipped' || st === 'denied' || st === 'condition-false'
                ? 'skipped'
                : 'done',
        detail: st,
      });
    }
    if (e.type === 'step.failed')
      s.set(id, { state: 'failed', detail: `failed: ${e.error?.code}${e.handled ? ' (onError path taken)' : ''}` });
  }
  if (waitingStep) s.set(waitingStep.split('#')[0]!, { state: 'waiting', detail: 'waiting' });
  return s;
}

function label(id: string, step: StepT): string {
  const type = step.type ?? 'action';
  if (type === 'choice') return `◇ ${id}`;
  if (type === 'end') return `■ end: ${(step as { outcome?: string }).outcome ?? 'success'}`;
  if (type === 'wait') return `wait: ${step.title ?? id}`;
  return step.title ?? id;
}

/** Rows of the flow picture: the playbook's top-level steps in order, a parallel step's branch steps side by side. */
export function flowRows(
  pb: PlaybookT | undefined,
  states: Map<string, { state: NodeState; detail: string }>,
  seen: readonly string[],
): FlowNode[][] {
  const node = (id: string, l: string): FlowNode => {
    const st = states.get(id);
    return { id, label: l, state: st?.state ?? 'not-taken', detail: st?.detail ?? 'not reached' };
  };
  // Without the playbook (moved or changed since the run), the steps the journal names, in order.
  if (!pb) return seen.map((id) => [node(id, id)]);
  return Object.entries(pb.steps).map(([id, step]) => {
    if ((step.type ?? 'action') !== 'parallel') return [node(id, label(id, step))];
    const branches = (step as Extract<StepT, { type: 'parallel' }>).branches;
    return branches.flatMap((b) => Object.entries(b.steps).map(([bid, bs]) => node(bid, label(bid, bs))));
  });
}
