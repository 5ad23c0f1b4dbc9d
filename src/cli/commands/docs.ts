/**
 * `firebreak docs [--check]`: write `runbooks/<playbook>.md` for every playbook and
 * `runbooks/actions.md`; with `--check`, change nothing and exit 1 naming each stale file (CI).
 */
import { generateDocs, RUNBOOKS_DIR } from '../../docs/generate.js';
import { syncGenerated } from '../../docs/generated.js';
import { DOCS_MARKER } from '../../docs/runbook.js';
import { c, err } from '../output.js';
import { reportSync } from './schemas.js';

export async function docs(opts: { check?: boolean; json?: boolean }): Promise<void> {
  const projectDir = process.cwd();
  const files = await generateDocs(projectDir, {
    onPlaybook: (id) => {
      if (!opts.json) err(c.dim(`runbook ${id}…`));
    },
  });
  const results = syncGenerated(projectDir, files, { check: !!opts.check, owned: { dir: RUNBOOKS_DIR, marker: DOCS_MARKER } });
  reportSync(results, { ...opts, command: 'firebreak docs', commit: 'runbooks/' });
}
