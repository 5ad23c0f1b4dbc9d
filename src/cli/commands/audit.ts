/** `firebreak audit show` and `firebreak audit verify`. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Journal } from '../../audit/journal.js';
import { verifyJournal } from '../../audit/verify.js';
import { EXIT } from '../../core/errors.js';
import { existingRunDir } from '../../engine/home.js';
import { timeline } from '../display.js';
import { c, out, printJson } from '../output.js';

function journalFile(runOrPath: string, opts: { runsDir?: string }): string {
  if (runOrPath.endsWith('.jsonl') && existsSync(runOrPath)) return runOrPath;
  return join(existingRunDir(runOrPath, opts), 'journal.jsonl');
}

export async function show(runId: string, opts: { runsDir?: string; json?: boolean; verbose?: boolean }): Promise<void> {
  const events = Journal.read(journalFile(runId, opts));
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

export async function verify(runId: string, opts: { runsDir?: string; json?: boolean }): Promise<void> {
  const file = journalFile(runId, opts);
  const r = verifyJournal(file);
  if (opts.json) printJson({ file, ...r });
  else if (r.ok)
    out(
      `${c.green('ok')}: ${r.events} events, hash chain intact (head ${r.head.slice(0, 16)}…)${r.note ? `; ${r.note} after a crash` : ''}`,
    );
  else out(`${c.red('TAMPERED')}: ${file}: line ${r.line}: ${r.reason}`);
  process.exitCode = r.ok ? EXIT.ok : EXIT.failed;
}
