/** Playbooks for Step Functions: found where the CLI finds them, loaded and checked, compiled. */
import { join } from 'node:path';
import { actionIds, actions, getAction } from '../actions/registry.js';
import { projectRoot } from '../core/paths.js';
import { findPlaybook, loadPlaybook } from '../playbook/load.js';
import type { LoadedPlaybook } from '../playbook/schema.js';
import { compileToAsl, type Asl, type CompileOptions } from './compile.js';

/** The working folder's playbooks first, then Firebreak's own. */
export const PLAYBOOK_SEARCH = ['playbooks', join(projectRoot(), 'playbooks')];

export function loadForSfn(nameOrPath: string): LoadedPlaybook {
  return loadPlaybook(findPlaybook(nameOrPath, PLAYBOOK_SEARCH), { actionIds, actionInputs: (id) => actions.get(id)?.input });
}

export function compileLoaded(loaded: LoadedPlaybook, opts: Omit<CompileOptions, 'permissionsOf'> = {}): Asl {
  return compileToAsl(loaded.playbook, { ...opts, permissionsOf: (id) => getAction(id).permissions });
}

/** JSON as Step Functions and a reader both take it: two-space indent, a final newline. */
export function aslText(asl: Asl): string {
  return `${JSON.stringify(asl, null, 2)}\n`;
}
