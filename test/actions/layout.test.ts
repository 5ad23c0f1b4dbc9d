/**
 * Where actions live. An id leads to its file (`ec2.isolate-instance` is `src/actions/ec2/isolate-instance.ts`,
 * whose default export is the registered definition); code two actions share lives in `src/actions/shared/`,
 * which defines no action; and no action file imports another action's file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { actions } from '../../src/actions/registry.js';
import { ROOT } from '../helpers/cli.js';

const ACTIONS = join(ROOT, 'src/actions');
const SHARED = join(ACTIONS, 'shared');
const actionFolders = readdirSync(ACTIONS, { withFileTypes: true })
  .filter((d) => d.isDirectory() && d.name !== 'shared')
  .map((d) => d.name);
const actionFiles = actionFolders.flatMap((d) =>
  readdirSync(join(ACTIONS, d))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(ACTIONS, d, f)),
);
const sharedFiles = readdirSync(SHARED)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => join(SHARED, f));

/** The files a module imports from inside src/, resolved to .ts paths. */
function localImports(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  return [...source.matchAll(/\bfrom\s+'(\.[^']+)'/g)].map((m) => resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts')));
}

const fileOfId = (id: string) => `${join(ACTIONS, ...id.split('.'))}.ts`;

describe('action files', () => {
  it.each([...actions.keys()])('%s lives in the file its id names, as that file’s default export', async (id) => {
    const mod = (await import(fileOfId(id))) as { default?: unknown };
    expect(mod.default, relative(ROOT, fileOfId(id))).toBe(actions.get(id));
  });

  it('every file of an action folder is a registered action', () => {
    const registered = new Set([...actions.keys()].map(fileOfId));
    expect(actionFiles.filter((f) => !registered.has(f)).map((f) => relative(ROOT, f))).toEqual([]);
  });

  it('shared helpers define no action', () => {
    expect(sharedFiles.length).toBeGreaterThan(0);
    for (const f of sharedFiles) expect(readFileSync(f, 'utf8'), relative(ROOT, f)).not.toMatch(/\bdefineAction\s*[(<]/);
  });

  it('no action file or shared helper imports an action file', () => {
    const files = new Set(actionFiles);
    const offending = [...actionFiles, ...sharedFiles].flatMap((f) =>
      localImports(f)
        .filter((target) => files.has(target))
        .map((target) => `${relative(ROOT, f)} → ${relative(ROOT, target)}`),
    );
    expect(offending).toEqual([]);
  });

  it('the import check sees imports (it is not vacuous)', () => {
    const registry = localImports(join(ACTIONS, 'registry.ts'));
    expect(registry.filter((t) => actionFiles.includes(t))).toHaveLength(actions.size);
  });
});
