/**
 * A playbook as a Mermaid `stateDiagram-v2` (GitHub renders it): parallel steps become composite
 * states with one concurrent region per branch, choice steps `<<choice>>` states, `onError` paths
 * labelled transitions.
 */
import type { OnErrorT, PlaybookT, StepT } from '../playbook/schema.js';

// Words Mermaid's state-diagram grammar reads as keywords; a step with such an id gets a suffix.
const RESERVED = new Set([
  'state',
  'note',
  'end',
  'direction',
  'class',
  'classdef',
  'style',
  'click',
  'as',
  'scale',
  'hide',
  'left',
  'right',
  'of',
  'default',
]);

/** Text safe inside a state description or transition label. */
export function mermaidText(text: string, max = 60): string {
  const t = text
    .replace(/\{%\s*|\s*%\}/g, '')
    .replace(/\s+/g, ' ')
    .replace(/[;#{}]/g, '')
    .replace(/"/g, "'")
    .replace(/--/g, '—')
    .trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

function onErrorOf(step: StepT): OnErrorT | undefined {
  return (step as { onError?: OnErrorT }).onError;
}

interface Place {
  /** Inside a parallel branch, where `end` ends the branch, not the run. */
  inBranch: boolean;
  /** Reached by an `onError` edge, so the reader sees why the path stops. */
  afterError: boolean;
}

function describeStep(id: string, step: StepT, where: Place): string[] {
  switch (step.type ?? 'action') {
    case 'action': {
      const s = step as Extract<StepT, { action: string; type?: 'action' }>;
      return [s.title ?? id, s.action];
    }
    case 'map': {
      const s = step as Extract<StepT, { type: 'map' }>;
      return [s.title ?? id, `for each of ${s.items}: ${s.action}`];
    }
    case 'manual':
      return [`manual: ${(step as Extract<StepT, { type: 'manual' }>).title}`];
    case 'wait': {
      const d = (step as Extract<StepT, { type: 'wait' }>).duration;
      return [step.title ?? id, `wait ${typeof d === 'number' ? `${d}s` : d}`];
    }
    case 'end': {
      const outcome = (step as Extract<StepT, { type: 'end' }>).outcome;
      const ends = where.inBranch
        ? outcome && outcome !== 'success'
          ? `branch ends: ${outcome}`
          : 'branch ends'
        : `run ends: ${outcome ?? 'success'}`;
      return [...(step.title ? [step.title] : []), where.afterError ? `after the error, ${ends}` : ends];
    }
    default:
      return [step.title ?? id];
  }
}

export function playbookDiagram(pb: PlaybookT): string {
  const used = new Map<string, string>();
  const taken = new Set<string>();
  const mid = (id: string): string => {
    let m = used.get(id);
    if (m) return m;
    let base = id.replace(/[^A-Za-z0-9_]/g, '_');
    if (RESERVED.has(base.toLowerCase())) base += '_';
    m = base;
    for (let n = 2; taken.has(m); n++) m = `${base}_${n}`;
    used.set(id, m);
    taken.add(m);
    return m;
  };
  const lines: string[] = ['stateDiagram-v2'];
  const errorTargets = new Set<string>();
  const collect = (steps: Record<string, StepT>) => {
    for (const step of Object.values(steps)) {
      const onError = onErrorOf(step);
      if (onError !== undefined) errorTargets.add(typeof onError === 'string' ? onError : onError.next);
      if ((step.type ?? 'action') === 'parallel') for (const b of (step as Extract<StepT, { type: 'parallel' }>).branches) collect(b.steps);
    }
  };
  collect(pb.steps);
  const emit = (steps: Record<string, StepT>, start: string, depth: number) => {
    const pad = '    '.repeat(depth);
    // Mermaid fixes a state's shape where it first sees it: a choice used before its declaration is drawn as a box.
    for (const [id, step] of Object.entries(steps)) if (step.type === 'choice') lines.push(`${pad}state ${mid(id)} <<choice>>`);
    lines.push(`${pad}[*] --> ${mid(start)}`);
    for (const [id, step] of Object.entries(steps)) {
      const m = mid(id);
      const type = step.type ?? 'action';
      if (type === 'choice') {
        const s = step as Extract<StepT, { type: 'choice' }>;
        for (const c of s.choices) lines.push(`${pad}${m} --> ${mid(c.next)}: ${mermaidText(c.when)}`);
        lines.push(`${pad}${m} --> ${mid(s.default)}: otherwise`);
        continue;
      }
      if (type === 'parallel') {
        const s = step as Extract<StepT, { type: 'parallel' }>;
        lines.push(`${pad}state "${mermaidText(s.title ?? id)}" as ${m} {`);
        s.branches.forEach((b, i) => {
          if (i > 0) lines.push(`${pad}    --`);
          emit(b.steps, b.start, depth + 1);
        });
        lines.push(`${pad}}`);
      } else {
        for (const d of describeStep(id, step, { inBranch: depth > 1, afterError: errorTargets.has(id) }))
          lines.push(`${pad}${m}: ${mermaidText(d)}`);
      }
      if (type === 'end') {
        lines.push(`${pad}${m} --> [*]`);
        continue;
      }
      const next = (step as { next?: string }).next;
      lines.push(next ? `${pad}${m} --> ${mid(next)}` : `${pad}${m} --> [*]`);
      const onError = onErrorOf(step);
      if (onError !== undefined) {
        const target = typeof onError === 'string' ? onError : onError.next;
        const codes = typeof onError === 'string' ? undefined : onError.codes;
        lines.push(`${pad}${m} --> ${mid(target)}: ${mermaidText(codes?.length ? `on error ${codes.join(', ')}` : 'on error')}`);
      }
    }
  };
  emit(pb.steps, pb.start, 1);
  return lines.join('\n');
}
