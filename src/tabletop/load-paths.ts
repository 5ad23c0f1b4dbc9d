/** Where scenarios, and the playbooks they name, are found. */
import { existsSync } from 'node:fs';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { InputError } from '../core/errors.js';
import { projectRoot } from '../core/paths.js';
import { PLAYBOOK_DIRS } from '../core/paths.js';
import { findPlaybook } from '../playbook/load.js';

/** The working folder's scenarios first, then the shipped ones (as for playbooks). */
export const SCENARIO_DIRS = ['scenarios', join(projectRoot(), 'scenarios')];
const EXTENSIONS = ['.yaml', '.yml'];

const isPath = (nameOrPath: string) =>
  nameOrPath.includes('/') || nameOrPath.includes(sep) || EXTENSIONS.includes(extname(nameOrPath).toLowerCase());

/** `crypto-mining` → `scenarios/crypto-mining.yaml`; a path is used as given. */
export function findScenario(nameOrPath: string, dirs: readonly string[] = SCENARIO_DIRS): string {
  if (isPath(nameOrPath)) {
    if (!existsSync(nameOrPath)) throw new InputError(`failed to find scenario ${nameOrPath}: no such file`);
    return nameOrPath;
  }
  for (const dir of dirs) for (const ext of EXTENSIONS) if (existsSync(join(dir, nameOrPath + ext))) return join(dir, nameOrPath + ext);
  throw new InputError(`unknown scenario '${nameOrPath}'; scenarios live in ${dirs.map((d) => `${d}/<name>.yaml`).join(' or ')}`);
}

/** A playbook a scenario names: a path (relative to the scenario) or a name in playbooks/. Absolute. */
export function playbookFile(nameOrPath: string, scenarioFile: string): string {
  return resolve(
    isPath(nameOrPath) ? findPlaybook(resolve(dirname(scenarioFile), nameOrPath), PLAYBOOK_DIRS) : findPlaybook(nameOrPath, PLAYBOOK_DIRS),
  );
}

/** The routing table a scenario's alerts go through by default: ./routes.yaml, else the shipped one. */
export function defaultRoutesFile(): string {
  const local = resolve('routes.yaml');
  return existsSync(local) ? local : join(projectRoot(), 'routes.yaml');
}
