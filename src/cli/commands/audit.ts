/** `firebreak audit show` and `firebreak audit verify`. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Journal } from '../../audit/journal.js';
import { verifyJournal } from '../../audit/verify.js';
import { EXIT } from '../../core/errors.js';
import { existingRunDir } from '../../engine/home.js';
import { timeline } from '../display.js';
import { c, out, printJson } from '../output.js';
import type { AwsRunStore } from '../../store/aws.js';
import { verifyStore } from '../../store/verify.js';
import { configuredAwsStore, materializeRun } from './run-store.js';

interface Where {
  runsDir?: string;
  config?: string;
}

/** A journal file named on the command line, or the run's journal (from the AWS store when the config names one). */
async function journalFile(runOrPath: string, opts: Where): Promise<{ file: string; aws?: AwsRunStore }> {
  if (runOrPath.endsWith('.jsonl') && existsSync(runOrPath)) return { file: runOrPath };
  const aws = opts.runsDir ? undefined : configuredAwsStore(opts.config);
  if (aws) return { file: join(await materializeRun(aws, runOrPath), runOrPath, 'journal.jsonl'), aws };
  return { file: join(existingRunDir(runOrPath, opts), 'journal.jsonl') };
}

export async function show(runId: string, opts: Where & { json?: boolean; verbose?: boolean }): Promise<void> {
  const events = Journal.read((await journalFile(runId, opts)).file);
  if (opts.json) return printJson(events);
  const shown = timeline({ verbose: !!opts.verbose });
  for (const e of events) {
    const lines = shown.lines(e);
    if (lines.length === 0) continue;
    out(
      `${c.dim(
        String(e.ts)
          .replace('T', ' ')
          .replace(/\.\d+Z$/, 'Z'),
      )} ${lines[0]}`,
    );
    for (const l of lines.slice(1)) out(`${' '.repeat(21)}${l}`);
  }
}

export async function verify(runId: string, opts: Where & { json?: boolean }): Promise<void> {
  const { file, aws } = await journalFile(runId, opts);
  if (aws) return verifyStored(aws, runId, opts);
  const r = verifyJournal(file);
  if (opts.json) printJson({ file, ...r });
  else if (r.ok)
    out(
      `${c.green('ok')}: ${r.events} events, hash chain intact (head ${r.head.slice(0, 16)}…)${r.note ? `; ${r.note} after a crash` : ''}`,
    );
  else out(`${c.red('TAMPERED')}: ${file}: line ${r.line}: ${r.reason}`);
  process.exitCode = r.ok ? EXIT.ok : EXIT.failed;
}

/**
 * The AWS store: the sealed digests in S3 vouch for the table's lines (verifyStore); lines after
 * the last seal are checked for their chain only, and said to be not sealed yet.
 */
async function verifyStored(aws: AwsRunStore, runId: string, opts: { json?: boolean }): Promise<void> {
  const v = await verifyStore(aws, aws.s3, aws.config.bucket, runId);
  const { lines: _sealedLines, ...report } = v;
  if (opts.json) printJson({ store: { table: aws.config.table, bucket: aws.config.bucket }, ...report });
  else {
    for (const p of v.problems)
      out(`${c.red('TAMPERED')}: ${p.key ? `${p.key}: ` : ''}${p.seq !== undefined ? `event ${p.seq}: ` : ''}${p.message}`);
    if (v.ok) {
      const sealed = v.sealedThrough
        ? `events 1–${v.sealedThrough} sealed in ${v.digests} digest${v.digests === 1 ? '' : 's'} under Object Lock`
        : 'nothing sealed yet';
      const unsealed = v.unsealed ? `; events ${v.unsealed.from}–${v.unsealed.to} not sealed yet (chain intact)` : '';
      out(`${c.green('ok')}: ${v.storeThrough} events in table ${aws.config.table}, ${sealed} (bucket ${aws.config.bucket})${unsealed}`);
    }
  }
  process.exitCode = v.ok ? EXIT.ok : EXIT.failed;
}
