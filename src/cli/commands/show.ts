/**
 * `firebreak show PLAYBOOK`: the playbook's runbook in the terminal — the same text `firebreak docs`
 * writes, generated afresh (so it matches the playbook as it is now), as readable text.
 */
import { relative } from 'node:path';
import { actions, actionIds } from '../../actions/registry.js';
import { InputError } from '../../core/errors.js';
import { PLAYBOOKS_DIR, runbookFor } from '../../docs/generate.js';
import { renderTerminal } from '../../render/terminal-markdown.js';
import { findPlaybook, loadPlaybook } from '../../playbook/load.js';
import { c, colorEnabled, out, printJson } from '../output.js';

export async function show(playbook: string, opts: { json?: boolean }): Promise<void> {
  let file: string;
  try {
    file = findPlaybook(playbook, [PLAYBOOKS_DIR]);
  } catch (e) {
    if (e instanceof InputError && !e.hint) e.hint = 'firebreak list   (the playbooks there are)';
    throw e;
  }
  const loaded = loadPlaybook(file, { actionIds, actionInputs: (id) => actions.get(id)?.input });
  const markdown = await runbookFor(loaded, process.cwd());
  if (opts.json)
    return printJson({ id: loaded.playbook.id, title: loaded.playbook.title, file: relative(process.cwd(), loaded.file), markdown });
  const style = colorEnabled() ? { bold: c.bold, dim: c.dim, cyan: c.cyan, yellow: c.yellow } : undefined;
  process.stdout.write(renderTerminal(markdown, { width: process.stdout.columns ?? 100, ...(style ? { style } : {}) }));
  out();
  out(c.dim(`run it: firebreak run ${loaded.playbook.id}   ·   plan only: firebreak run ${loaded.playbook.id} --dry-run --sim`));
}
