/**
 * `firebreak report RUN [--format md|html] [--out FILE]`: the incident timeline of a run from its
 * journal. The journal's hash chain is verified first: a report of a journal that is not intact
 * fails as `audit verify` does (exit 1) unless `--allow-broken` asks for it, and then says so.
 */
import { writeFileDurablySync } from '../../core/durable-write.js';
import { resolve } from 'node:path';
import { FirebreakError, InputError } from '../../core/errors.js';
import { loadReport, renderReport, type ReportFormat } from '../../report/report.js';
import { c, err, printJson } from '../output.js';
import { configuredAwsStore, materializeRun } from './run-store.js';

export async function report(
  runId: string,
  opts: { format?: string; out?: string; runsDir?: string; json?: boolean; allowBroken?: boolean; config?: string },
): Promise<void> {
  const format = (opts.format ?? 'md').toLowerCase();
  if (format !== 'md' && format !== 'html')
    throw new InputError(`unknown report format '${opts.format}': use md or html`, {
      field: '--format',
      hint: `firebreak report ${runId} --format html`,
    });
  const aws = opts.runsDir ? undefined : configuredAwsStore(opts.config);
  const runsDir = aws ? await materializeRun(aws, runId) : opts.runsDir;
  const model = loadReport(runId, runsDir ? { runsDir } : {});
  if (!model.chain.ok && !opts.allowBroken)
    throw new FirebreakError(`failed to report run ${runId}: its journal is not intact: ${model.chain.reason}`, {
      hint: `firebreak audit verify ${runId}   (to see why), or firebreak report ${runId} --allow-broken   (a report marked NOT intact)`,
    });
  if (!model.chain.ok)
    err(c.red(`warning: the journal of run ${runId} is not intact: ${model.chain.reason} (firebreak audit verify ${runId})`));
  if (opts.json && !opts.out) return printJson(model);
  const text = renderReport(model, format as ReportFormat);
  if (!opts.out) {
    process.stdout.write(text);
    return;
  }
  const file = resolve(opts.out);
  try {
    writeFileDurablySync(file, text);
  } catch (e) {
    throw new InputError(`failed to write report ${opts.out}: ${(e as Error).message}`, { field: '--out' });
  }
  if (opts.json) printJson({ runId: model.run.id, format, file, chain: model.chain, bytes: Buffer.byteLength(text) });
  else err(`wrote ${opts.out} (${format}, journal ${model.chain.ok ? 'intact' : 'NOT intact'})`);
}
