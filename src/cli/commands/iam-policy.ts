/** `firebreak iam-policy PLAYBOOK`: the least-privilege IAM policy a playbook's steps need. */
import { actions, actionIds, getAction } from '../../actions/registry.js';
import { actionsOfPlaybook, policyForPlaybook } from '../../iam/policy.js';
import { PLAYBOOK_DIRS } from '../../core/paths.js';
import { findPlaybook, loadPlaybook } from '../../playbook/load.js';
import { c, err, printJson } from '../output.js';

export async function iamPolicy(playbook: string, opts: { withUndo?: boolean; json?: boolean }): Promise<void> {
  const file = findPlaybook(playbook, PLAYBOOK_DIRS);
  const loaded = loadPlaybook(file, { actionIds, actionInputs: (id) => actions.get(id)?.input });
  const withUndo = !!opts.withUndo;
  const policy = policyForPlaybook(loaded, getAction, { withUndo });
  const uses = actionsOfPlaybook(loaded, getAction, { withUndo });
  if (opts.json) {
    printJson({ playbook: loaded.playbook.id, file: loaded.file, withUndo, actions: uses, policy });
    return;
  }
  // The policy alone on stdout, ready for `> policy.json`; what it covers goes to stderr.
  err(
    c.dim(
      `# ${loaded.playbook.id}: ${uses.length} action steps${withUndo ? ' and their undo actions' : ' (add --with-undo to allow firebreak undo)'}`,
    ),
  );
  for (const u of uses) err(c.dim(`#   ${u.step}: ${u.action}`));
  printJson(policy);
}
