/** A small summary for `firebreak runs`, derived from the journal (the journal stays the truth). */
import { existsSync, readFileSync } from 'node:fs';
import { writeFileDurablySync } from '../core/durable-write.js';
import { join } from 'node:path';
import { replay, type JournalLike, type RunStatus } from './events.js';

export interface RunSummary {
  runId?: string;
  playbook?: string;
  status: RunStatus;
  waitingStep?: string;
  started?: string;
  updated?: string;
  actor?: string;
  backend?: string;
  incident?: string;
  /** The Step Functions execution that runs it, when one does. */
  execution?: string;
}

export function summarize(events: readonly JournalLike[]): RunSummary {
  const st = replay(events);
  const started = st.started;
  const identity = events.find((e) => e.type === 'run.identity') as (JournalLike & { arn?: string }) | undefined;
  const last = events[events.length - 1];
  return {
    runId: started?.runId,
    playbook: started?.playbook.id,
    status: st.status,
    ...(st.waitingStep ? { waitingStep: st.waitingStep } : {}),
    started: started?.ts,
    updated: last?.ts,
    actor: identity?.arn ?? (started ? `${started.operator?.osUser}@${started.operator?.host}` : undefined),
    backend: started?.backend,
    incident: started?.incident,
    ...(started?.executor?.execution ? { execution: started.executor.execution } : {}),
  };
}

export function writeSummary(dir: string, events: readonly JournalLike[]): void {
  writeFileDurablySync(join(dir, 'run.json'), `${JSON.stringify(summarize(events), null, 2)}\n`);
}

export function readSummary(dir: string): RunSummary | undefined {
  const f = join(dir, 'run.json');
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as RunSummary) : undefined;
}
