/** `firebreak runs`: id, playbook, status, started, actor — newest first. */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Journal } from '../../audit/journal.js';
import { runsDir } from '../../engine/home.js';
import { readLock } from '../../engine/lock.js';
import { readSummary, summarize } from '../../engine/run-summary.js';
import { out, printJson } from '../output.js';
import type { AwsRunStore } from '../../store/aws.js';
import { configuredAwsStore } from './run-store.js';

export async function runs(opts: { runsDir?: string; json?: boolean; config?: string }): Promise<void> {
  const aws = opts.runsDir ? undefined : configuredAwsStore(opts.config);
  if (aws) return print(await storedRows(aws), `no runs in table ${aws.config.table}`, opts);
  const root = runsDir(opts);
  const ids = existsSync(root) ? readdirSync(root).filter((d) => existsSync(join(root, d, 'journal.jsonl'))) : [];
  const rows = ids.map((id) => {
    const dir = join(root, id);
    // run.json is a cache; when it is missing or older than the journal (a crash), derive again.
    const cached = readSummary(dir);
    const s = cached ?? summarize(Journal.read(join(dir, 'journal.jsonl')));
    const holder = readLock(join(dir, 'run.lock'));
    const status = s.status === 'running' && !holder ? 'stopped' : s.status;
    return { id, playbook: s.playbook, status, waitingStep: s.waitingStep ?? null, started: s.started, actor: s.actor };
  });
  // Newest first by the journal's start time (milliseconds): two runs started in the same second
  // have ids that sort by their random suffix, not by when they started.
  rows.sort((a, b) => (b.started ?? '').localeCompare(a.started ?? '') || b.id.localeCompare(a.id));
  print(rows, `no runs in ${root}`, opts);
}

interface Row {
  id: string;
  playbook: string | undefined;
  status: string;
  waitingStep: string | null;
  started: string | undefined;
  actor: string | undefined;
}

/** The table's summaries, newest first; a running run whose lease lapsed shows as stopped, like a local one without its lock. */
async function storedRows(aws: AwsRunStore): Promise<Row[]> {
  const summaries = await aws.listRuns();
  return Promise.all(
    summaries.map(async (s) => {
      const f = s.fields as { playbook?: string; status?: string; waitingStep?: string; started?: string; actor?: string };
      let status = f.status ?? 'unknown';
      if (status === 'running') {
        const lease = await aws.readLease(`run/${s.runId}`);
        if (!lease || Date.parse(lease.expiresAt) <= Date.now()) status = 'stopped';
      }
      return {
        id: s.runId,
        playbook: f.playbook,
        status,
        waitingStep: f.waitingStep ?? null,
        started: f.started ?? s.startedAt,
        actor: f.actor,
      };
    }),
  );
}

function print(rows: Row[], empty: string, opts: { json?: boolean }) {
  if (opts.json) return printJson(rows);
  if (rows.length === 0) return out(empty);
  const head = ['RUN', 'PLAYBOOK', 'STATUS', 'STARTED', 'ACTOR'];
  const table = rows.map((r) => [
    r.id,
    r.playbook ?? '?',
    r.status + (r.waitingStep ? ` (${r.waitingStep})` : ''),
    r.started ?? '',
    r.actor ?? '',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((t) => String(t[i]).length)));
  for (const row of [head, ...table])
    out(
      row
        .map((v, i) => String(v).padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    );
}
