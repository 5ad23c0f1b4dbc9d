/** `firebreak runs`: id, playbook, status, started, actor — newest first; for a run on Step Functions, its execution's status too. */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { Journal } from '../../audit/journal.js';
import { FirebreakError } from '../../core/errors.js';
import { runsDir } from '../../engine/home.js';
import { readLock } from '../../engine/lock.js';
import { readSummary, summarize } from '../../engine/run-summary.js';
import { describeRunExecution, sfnClientFor } from '../../sfn/executions.js';
import { out, printJson } from '../output.js';
import type { AwsRunStore } from '../../store/aws.js';
import { configuredAwsStore } from './run-store.js';

export interface RunsOptions {
  runsDir?: string;
  home?: string;
  json?: boolean;
  config?: string;
  /** The Step Functions client executions are described with (default: one per execution's Region, standard SDK configuration). */
  sfn?: Pick<SFNClient, 'send'>;
}

export async function runs(opts: RunsOptions): Promise<void> {
  const aws = opts.runsDir ? undefined : configuredAwsStore(opts.config);
  if (aws) return print(await withExecutions(await storedRows(aws), opts), `no runs in table ${aws.config.table}`, opts);
  const root = runsDir(opts);
  const ids = existsSync(root) ? readdirSync(root).filter((d) => existsSync(join(root, d, 'journal.jsonl'))) : [];
  const rows = ids.map((id) => {
    const dir = join(root, id);
    // run.json is a cache; when it is missing or older than the journal (a crash), derive again.
    const cached = readSummary(dir);
    const s = cached ?? summarize(Journal.read(join(dir, 'journal.jsonl')));
    const execution = s.execution;
    const holder = readLock(join(dir, 'run.lock'));
    // A run on Step Functions holds its lock only while a task writes: its execution says whether it goes on.
    const status = s.status === 'running' && !holder && !execution ? 'stopped' : s.status;
    return { id, playbook: s.playbook, status, waitingStep: s.waitingStep ?? null, started: s.started, actor: s.actor, execution };
  });
  // Newest first by the journal's start time (milliseconds): two runs started in the same second
  // have ids that sort by their random suffix, not by when they started.
  rows.sort((a, b) => (b.started ?? '').localeCompare(a.started ?? '') || b.id.localeCompare(a.id));
  print(await withExecutions(rows, opts, root), `no runs in ${root}`, opts);
}

interface Row {
  id: string;
  playbook: string | undefined;
  status: string;
  waitingStep: string | null;
  started: string | undefined;
  actor: string | undefined;
  execution?: string | undefined;
}

interface ExecutionCell {
  arn: string;
  status: string;
  waiting: string[];
  redriveCount: number;
}

/** Each run's execution as Step Functions describes it now (the steps it waits on from the run's journal). */
async function withExecutions(rows: Row[], opts: RunsOptions, root?: string) {
  const clients = new Map<string, Pick<SFNClient, 'send'>>();
  const clientFor = (arn: string) => {
    if (opts.sfn) return opts.sfn;
    const region = arn.split(':')[3] ?? '';
    const known = clients.get(region);
    if (known) return known;
    const c = sfnClientFor(arn);
    clients.set(region, c);
    return c;
  };
  return Promise.all(
    rows.map(async ({ execution, ...row }) => {
      if (!execution) return { ...row, execution: null };
      const events = root ? Journal.read(join(root, row.id, 'journal.jsonl')) : [];
      const x = await describeRunExecution(clientFor(execution), execution, events).catch((err: unknown) => {
        throw new FirebreakError(`failed to describe the execution of run ${row.id} (${execution}): ${(err as Error).message}`, {
          hint: 'check the credentials and Region for Step Functions (states:DescribeExecution)',
          cause: err,
        });
      });
      // Waiting steps come from the journal; with the AWS store the summary names the one the run waits on.
      const waiting = root ? x.waiting : x.status === 'RUNNING' && row.waitingStep ? [row.waitingStep] : [];
      const cell: ExecutionCell = { arn: execution, status: x.status, waiting, redriveCount: x.redriveCount };
      return { ...row, execution: cell };
    }),
  );
}

/** The table's summaries, newest first; a running run whose lease lapsed shows as stopped, like a local one without its lock. */
async function storedRows(aws: AwsRunStore): Promise<Row[]> {
  const summaries = await aws.listRuns();
  return Promise.all(
    summaries.map(async (s) => {
      const f = s.fields as {
        playbook?: string;
        status?: string;
        waitingStep?: string;
        started?: string;
        actor?: string;
        execution?: string;
      };
      let status = f.status ?? 'unknown';
      if (status === 'running' && !f.execution) {
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
        execution: f.execution,
      };
    }),
  );
}

function print(rows: Array<Omit<Row, 'execution'> & { execution: ExecutionCell | null }>, empty: string, opts: { json?: boolean }) {
  if (opts.json) return printJson(rows);
  if (rows.length === 0) return out(empty);
  const executions = rows.some((r) => r.execution);
  const head = ['RUN', 'PLAYBOOK', 'STATUS', 'STARTED', 'ACTOR', ...(executions ? ['EXECUTION'] : [])];
  const table = rows.map((r) => [
    r.id,
    r.playbook ?? '?',
    r.status + (r.waitingStep ? ` (${r.waitingStep})` : ''),
    r.started ?? '',
    r.actor ?? '',
    ...(executions ? [executionText(r.execution)] : []),
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

function executionText(x: ExecutionCell | null): string {
  if (!x) return '';
  const waiting = x.waiting.length ? ` waiting for ${x.waiting.join(', ')}` : '';
  const redriven = x.redriveCount ? ` (redriven ${x.redriveCount}×)` : '';
  return `${x.status}${waiting}${redriven}`;
}
