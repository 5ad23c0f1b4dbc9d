/** `firebreak list [--actions]`: the playbooks (title, controls, inputs) or the actions of the registry. */
import { join } from 'node:path';
import { actions, actionIds } from '../../actions/registry.js';
import { EXIT, InputError } from '../../core/errors.js';
import { controlInfo, sortControls } from '../../docs/controls.js';
import { PLAYBOOKS_DIR } from '../../docs/generate.js';
import { findPlaybook, listPlaybooks, loadPlaybook } from '../../playbook/load.js';
import { c, out, printJson, short } from '../output.js';

export async function list(opts: { actions?: boolean; json?: boolean }): Promise<void> {
  if (opts.actions) return listActions(opts);
  const dir = join(process.cwd(), PLAYBOOKS_DIR);
  const rows = listPlaybooks([dir]).map((name) => {
    const file = findPlaybook(name, [dir]);
    const rel = `${PLAYBOOKS_DIR}/${file.slice(dir.length + 1)}`;
    try {
      const { playbook: pb } = loadPlaybook(file, { actionIds, actionInputs: (id) => actions.get(id)?.input });
      return {
        id: pb.id,
        title: pb.title,
        file: rel,
        valid: true as const,
        controls: sortControls(pb.controls).map((id) => ({ id, title: controlInfo(id).title })),
        inputs: Object.entries(pb.inputs).map(([n, d]) => ({ name: n, type: d.type ?? 'string', required: !!d.required })),
      };
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      return { id: name, title: null, file: rel, valid: false as const, error: e.line };
    }
  });
  if (rows.some((r) => !r.valid)) process.exitCode = EXIT.invalid;
  if (opts.json) {
    printJson(rows);
    return;
  }
  if (rows.length === 0) return out(`no playbooks in ${dir}`);
  const w = Math.max(8, ...rows.map((r) => r.id.length));
  for (const r of rows) {
    if (!r.valid) {
      out(`${r.id.padEnd(w)}  ${c.red('invalid')}: ${r.error}`);
      out(`${' '.repeat(w)}  ${c.dim(`fix it, then check with: firebreak validate ${r.file}`)}`);
      continue;
    }
    out(`${c.bold(r.id.padEnd(w))}  ${r.title}`);
    const required = r.inputs.filter((i) => i.required).map((i) => `${i.name}=…`);
    out(
      `${' '.repeat(w)}  ${c.dim(`${r.controls.map((x) => `${x.id} ${x.title}`).join(' · ') || 'no controls'}${required.length ? ` · needs ${required.join(' ')}` : ''}`)}`,
    );
  }
  out('');
  out(c.dim('firebreak show PLAYBOOK   (its runbook)     firebreak list --actions   (every action)'));
}

function listActions(opts: { json?: boolean }): void {
  const rows = [...actions.values()]
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((a) => ({
      id: a.id,
      summary: a.summary,
      mutating: a.mutating,
      controls: sortControls(a.controls ?? []),
      permissions: [...a.permissions],
      undo: a.undo?.action ?? null,
    }));
  if (opts.json) {
    printJson(rows);
    return;
  }
  const w = Math.max(...rows.map((r) => r.id.length));
  const width = Math.max(60, process.stdout.columns ?? 100);
  for (const r of rows) {
    const tags = [r.mutating ? '' : 'read-only', r.controls.join(','), r.undo ? `undo: ${r.undo}` : ''].filter(Boolean).join(' · ');
    out(`${c.bold(r.id.padEnd(w))}  ${short(r.summary, Math.max(20, width - w - 2))}`);
    if (tags) out(`${' '.repeat(w)}  ${c.dim(tags)}`);
  }
}
