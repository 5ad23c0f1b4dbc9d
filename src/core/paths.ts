/** Where Firebreak's own files are (playbooks, worlds, templates), whether run from src/ or dist/. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

export function projectRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  root = dir;
  return root;
}

/** The working directory's playbooks first (a team's own), then the ones shipped with Firebreak. */
export const PLAYBOOK_DIRS = ['playbooks', join(projectRoot(), 'playbooks')];

/** The simulated world `--sim` uses when no world file is named. */
export const DEMO_WORLD = join(projectRoot(), 'worlds/demo.yaml');
