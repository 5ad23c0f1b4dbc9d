/**
 * `firebreak docs`: one runbook per playbook in `playbooks/` and `runbooks/actions.md`, read from
 * the playbooks and the action registry at run time, so a new action or playbook is documented
 * the next time the command runs.
 */
import { join, relative } from 'node:path';
import type { ActionDef } from '../actions/define.js';
import { actions as registry } from '../actions/registry.js';
import { InputError } from '../core/errors.js';
import { allSteps } from '../playbook/compile.js';
import { findPlaybook, listPlaybooks, loadPlaybook } from '../playbook/load.js';
import type { LoadedPlaybook } from '../playbook/schema.js';
import { actionsModel, renderActions } from './actions-doc.js';
import { examplePlan, type ExamplePlan } from './example-plan.js';
import type { GeneratedFile } from './generated.js';
import { renderRunbook, runbookModel } from './runbook.js';

export const PLAYBOOKS_DIR = 'playbooks';
export const RUNBOOKS_DIR = 'runbooks';

export interface DocsOptions {
  /** The registry to document (tests pass their own). */
  actions?: ReadonlyMap<string, ActionDef>;
  /** How to get a playbook's example plan (default: a dry run against the demo world). */
  example?: (loaded: LoadedPlaybook) => Promise<ExamplePlan>;
  /** Told about each playbook as its runbook is made (progress). */
  onPlaybook?: (id: string) => void;
}

export function loadProjectPlaybooks(projectDir: string, actions: ReadonlyMap<string, ActionDef> = registry): LoadedPlaybook[] {
  const dir = join(projectDir, PLAYBOOKS_DIR);
  return listPlaybooks([dir]).map((name) => {
    const file = findPlaybook(name, [dir]);
    try {
      return loadPlaybook(file, { actionIds: new Set(actions.keys()), actionInputs: (id) => actions.get(id)?.input });
    } catch (e) {
      // A runbook of a playbook that does not load would document something that cannot run.
      if (e instanceof InputError && !e.hint)
        e.hint = `firebreak validate ${relative(projectDir, file)}   (every problem, with file:line:col)`;
      throw e;
    }
  });
}

/** One runbook, as `firebreak show` prints it. */
export async function runbookFor(loaded: LoadedPlaybook, projectDir: string, opts: DocsOptions = {}): Promise<string> {
  const actions = opts.actions ?? registry;
  const example = await (opts.example ?? examplePlan)(loaded);
  return renderRunbook(runbookModel(loaded, (id) => actions.get(id), example, projectDir));
}

export async function generateDocs(projectDir: string, opts: DocsOptions = {}): Promise<GeneratedFile[]> {
  const actions = opts.actions ?? registry;
  const playbooks = loadProjectPlaybooks(projectDir, actions);
  const files: GeneratedFile[] = [];
  const seen = new Map<string, string>();
  for (const loaded of playbooks) {
    const id = loaded.playbook.id;
    const clash = id === 'actions' ? 'runbooks/actions.md' : seen.get(id);
    if (clash)
      throw new InputError(`failed to generate the runbook of ${loaded.file}: playbook id '${id}' is also used by ${clash}`, {
        field: 'id',
        hint: 'give each playbook its own id',
      });
    seen.set(id, loaded.file);
    opts.onPlaybook?.(id);
    files.push({ path: `${RUNBOOKS_DIR}/${id}.md`, content: await runbookFor(loaded, projectDir, opts) });
  }
  const usedBy = (actionId: string) =>
    playbooks
      .filter((p) => allSteps(p.playbook).some((s) => (s.step as { action?: string }).action === actionId))
      .map((p) => p.playbook.id);
  files.push({ path: `${RUNBOOKS_DIR}/actions.md`, content: renderActions(actionsModel(actions.values(), usedBy)) });
  return files;
}
