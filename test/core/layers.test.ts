/**
 * The flow of src/ as an import graph built from the import lines themselves: no cycle between
 * top-level folders, and the engine reaches neither the simulator nor the CLI, not even through
 * another module.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VERSION } from '../../src/core/version.js';

const IMPORT =
  /^\s*(?:import|export)\b[^'"]*?from\s+['"](\.[^'"]+)['"]|^\s*import\s+['"](\.[^'"]+)['"]|\bimport\(\s*['"](\.[^'"]+)['"]\s*\)/gm;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sourceFiles(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
  );
}

/** file → the src files it imports (`./x.js` resolves to `./x.ts`). */
function fileGraph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const f of sourceFiles('src')) {
    const text = readFileSync(f, 'utf8');
    const targets = [...text.matchAll(IMPORT)].map((m) => normalize(join(dirname(f), (m[1] ?? m[2] ?? m[3])!)).replace(/\.js$/, '.ts'));
    g.set(
      f,
      targets.filter((t) => t.startsWith(`src/`) || t.startsWith('src\\')),
    );
  }
  return g;
}

const folderOf = (file: string) => relative('src', file).split(/[\\/]/)[0]!;

/**
 * Two folders importing each other today, removed by the split of the Markdown helpers out of
 * src/docs (issue 11, item 4). Nothing may be added here.
 */
const KNOWN_CYCLES: Array<[string, string]> = [];

describe('layers', () => {
  const files = fileGraph();

  it('no cycle between top-level folders of src/', () => {
    const edges = new Map<string, Set<string>>();
    for (const [f, ts] of files)
      for (const t of ts) {
        const [a, b] = [folderOf(f), folderOf(t)];
        if (a !== b && !KNOWN_CYCLES.some(([x, y]) => (a === x && b === y) || (a === y && b === x))) {
          if (!edges.has(a)) edges.set(a, new Set());
          edges.get(a)!.add(b);
        }
      }
    // Depth-first search; a back edge closes a cycle, reported as the folders on it.
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (n: string, path: string[]) => {
      state.set(n, 'open');
      for (const m of edges.get(n) ?? []) {
        if (state.get(m) === 'open') cycles.push([...path.slice(path.indexOf(m)), n, m].join(' → '));
        else if (!state.has(m)) visit(m, [...path, n]);
      }
      state.set(n, 'done');
    };
    for (const n of edges.keys()) if (!state.has(n)) visit(n, []);
    expect(edges.size).toBeGreaterThan(5);
    expect(cycles).toEqual([]);
  });

  it.each(['sim', 'cli', 'backend', 'triggers', 'tabletop'])(
    'the engine does not reach src/%s, directly or through other modules',
    (folder) => {
      const seen = new Set<string>();
      const stack = [...files.keys()].filter((f) => folderOf(f) === 'engine');
      expect(stack.length).toBeGreaterThan(5);
      while (stack.length) {
        const f = stack.pop()!;
        if (seen.has(f)) continue;
        seen.add(f);
        stack.push(...(files.get(f) ?? []));
      }
      expect([...seen].filter((f) => folderOf(f) === folder)).toEqual([]);
    },
  );

  it('VERSION is the version in package.json', () => {
    expect(VERSION).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
  });
});
