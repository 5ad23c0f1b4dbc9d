/** The tabletop talks to the simulated cloud through its public interface (src/sim/index.ts) only. */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');
const tabletopFiles = readdirSync(join(src, 'tabletop'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));

describe('the tabletop imports the simulation through sim/index.ts only', () => {
  it.each(tabletopFiles)('%s', (file) => {
    const path = join(src, 'tabletop', file);
    const specs = [...readFileSync(path, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((m) => m[1]!);
    const intoSim = specs.map((s) => resolve(dirname(path), s)).filter((p) => p.startsWith(`${join(src, 'sim')}/`));
    expect(intoSim.filter((p) => p !== join(src, 'sim', 'index.js'))).toEqual([]);
  });
});
