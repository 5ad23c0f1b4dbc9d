// Bundles the compiled entry points (written by tsc to dist/src/) into dist/bundle/: `cli.js` (what
// bin/firebreak.js runs: one ES module per command plus shared chunks, so a command starts from a
// handful of files instead of ~400) and `lambda.js` (the Lambda handler, `dist/bundle/lambda.handler`).
//
// Why: start-up. `firebreak validate playbooks/*.yaml` spent most of its time resolving, reading and
// compiling modules — zod alone is 95 files, 66 of them error-message locales Firebreak never uses;
// bundled with `import * as z from 'zod'`, esbuild keeps only what is referenced. A Lambda cold
// start pays the same. The figures are in the README's "Performance" section.
//
// Same code path: the bundle is the tsc output, linked; nothing is stubbed or swapped. The AWS SDK
// stays outside the bundle: it is required on first use from node_modules (src/cloud/sdk.ts), which
// is what keeps commands that call no AWS from loading it, and bundling it measured slower (its cost is
// compiling and running its own 2 MB of code, not finding files).
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'bundle');
rmSync(outdir, { recursive: true, force: true });

await build({
  entryPoints: { cli: join(root, 'dist', 'src', 'cli', 'main.js'), lambda: join(root, 'dist', 'src', 'lambda', 'handler.js') },
  outdir,
  bundle: true,
  splitting: true, // each lazily imported command stays a chunk of its own, loaded only when run
  format: 'esm',
  platform: 'node',
  target: 'node22',
  packages: 'bundle',
  // esbuild itself (firebreak package) is a native binary loaded from node_modules when that command runs.
  external: ['@aws-sdk/*', '@smithy/*', 'esbuild'],
  sourcemap: 'linked', // chains tsc's maps: `node --enable-source-maps` points stacks at src/*.ts
  // CommonJS dependencies (commander, jsonata) call `require` for Node's built-ins; an ES module has
  // no `require`, so each chunk gets one made by `createRequire` (esbuild otherwise throws
  // "Dynamic require of \"node:events\" is not supported").
  banner: {
    js: "import { createRequire as __firebreakCreateRequire } from 'node:module'; const require = __firebreakCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
  metafile: false,
});
