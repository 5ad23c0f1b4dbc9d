/** `firebreak validate FILE…`: schema and rule checks; exit 2 naming file:line:col on the first bad file. */
import { actions, actionIds } from '../../actions/registry.js';
import { EXIT, InputError } from '../../core/errors.js';
import { loadPlaybook } from '../../playbook/load.js';
import { c, err, out, printJson } from '../output.js';

export async function validate(files: string[], opts: { json?: boolean }): Promise<void> {
  const results: Array<{ file: string; ok: boolean; errors: string[] }> = [];
  for (const file of files) {
    try {
      loadPlaybook(file, { actionIds, actionInputs: (id) => actions.get(id)?.input });
      results.push({ file, ok: true, errors: [] });
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      results.push({ file, ok: false, errors: [e, ...e.more].map((x) => x.line) });
    }
  }
  if (opts.json) printJson(results);
  else
    for (const r of results) {
      if (r.ok) out(`${c.green('ok')}  ${r.file}`);
      else for (const l of r.errors) err(`error: ${l}`);
    }
  process.exitCode = results.every((r) => r.ok) ? EXIT.ok : EXIT.invalid;
}
