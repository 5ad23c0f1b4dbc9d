/** `firebreak report`: load a run's journal, check its chain, and render the report from templates/. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { actions } from '../actions/registry.js';
import { Journal } from '../audit/journal.js';
import { verifyJournal } from '../audit/verify.js';
import { InputError } from '../core/errors.js';
import { loadPlaybook } from '../playbook/load.js';
import type { PlaybookT } from '../playbook/schema.js';
import * as md from '../render/markdown.js';
import { flowSvg, SVG_CSS, timelineSvg } from '../render/svg.js';
import { renderTemplate } from '../render/templates.js';
import { existingRunDir, runDir, type HomeOptions } from '../engine/home.js';
import { buildReport, type ReportModel } from './model.js';

export type ReportFormat = 'md' | 'html';

export function loadReport(runId: string, home: HomeOptions = {}): ReportModel {
  const file = join(existingRunDir(runId, home), 'journal.jsonl');
  // Verify before reading: the report states whether the journal it is built from is intact.
  const chain = verifyJournal(file);
  const events = Journal.read(file);
  // Undo runs live beside the run; one that was removed leaves only the source's own record.
  const readRun = (id: string) => {
    const f = join(runDir(id, home), 'journal.jsonl');
    return existsSync(f) ? Journal.read(f) : undefined;
  };
  const playbook = recordedPlaybook(events[0]);
  return buildReport(runId, events, chain, { readRun, ...(playbook ? { playbook } : {}) });
}

/**
 * The playbook the run used, to draw its steps: only from its recorded file, and only while that
 * file still has the recorded sha256 (an edited playbook would draw steps the run never had).
 */
function recordedPlaybook(started: { type: string; playbook?: { file?: string; sha256?: string } } | undefined): PlaybookT | undefined {
  const file = started?.type === 'run.started' ? started.playbook?.file : undefined;
  if (!file || !existsSync(file)) return undefined;
  try {
    const loaded = loadPlaybook(file, { actionIds: new Set(actions.keys()) });
    return loaded.sha256 === started?.playbook?.sha256 ? loaded.playbook : undefined;
  } catch (err) {
    // A report is still wanted when the playbook no longer loads; its steps are then drawn from the journal.
    if (err instanceof InputError) return undefined;
    throw err;
  }
}

/** Display helpers the templates share. */
export const helpers = {
  /** `2026-03-01T02:15:00.179Z` → `02:15:00.179`, with the date when it differs from the run's start. */
  time(ts: string | undefined, startedAt?: string): string {
    if (!ts) return '';
    const [d, t] = ts.split('T') as [string, string | undefined];
    const clock = (t ?? '').replace(/Z$/, '');
    return startedAt?.startsWith(d) ? clock : `${d} ${clock}`;
  },
  dateTime(ts: string | undefined): string {
    return ts ? ts.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '';
  },
  json(v: unknown): string {
    return JSON.stringify(v, null, 2) ?? '';
  },
  value(v: unknown): string {
    if (v === null || v === undefined) return '—';
    if (typeof v === 'string') return v;
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v.length ? v.join(', ') : '(none)';
    return JSON.stringify(v);
  },
  /**
   * A step's changes under one heading per account and Region (a run across accounts; the heading is
   * empty for changes that name none), in the order each account×Region first appears.
   */
  byLocation<C extends { account?: string; region?: string }>(changes: C[]): Array<{ heading: string; changes: C[] }> {
    const groups = new Map<string, C[]>();
    for (const ch of changes) {
      const heading = ch.account ? `account ${ch.account}, ${ch.region}` : '';
      (groups.get(heading) ?? groups.set(heading, []).get(heading)!).push(ch);
    }
    return [...groups].map(([heading, cs]) => ({ heading, changes: cs }));
  },
  decision(d: string): string {
    return d === 'approve' ? 'approved' : d === 'skip' ? 'skipped / denied' : d === 'abort' ? 'aborted' : d;
  },
  how(via: string | undefined): string {
    switch (via) {
      case 'prompt':
        return 'at the interactive prompt';
      case 'policy':
        return "by the playbook's auto policy";
      case 'approve-command':
        return 'with firebreak approve';
      case 'script':
        return 'by scripted decisions';
      default:
        return via ?? '';
    }
  },
};

export function renderReport(model: ReportModel, format: ReportFormat): string {
  const data = { ...model, md, h: helpers, generator: 'firebreak report' };
  if (format === 'html') {
    const p = model.picture;
    const svg = {
      css: SVG_CSS,
      timeline: p.lanes.length ? timelineSvg(p.lanes, { start: p.start, end: p.end, label: `timeline of run ${model.run.id}` }) : '',
      flow: p.flow.length
        ? flowSvg(p.flow, { label: `steps of ${model.run.playbook.id}, the ones this run went through highlighted` })
        : '',
    };
    return renderTemplate('report.html.eta', { ...data, svg });
  }
  return md.tidy(renderTemplate('report.md.eta', data));
}
