#!/usr/bin/env node
// Thin launcher: everything lives in the bundled CLI (dist/bundle/cli.js, built by `npm run build`). Kept tiny for start-up time.
import module from 'node:module';

// V8's compiled code of the bundle and of the AWS SDK, kept between runs (Node ≥ 22.1) in
// $NODE_COMPILE_CACHE or <tmpdir>/node-compile-cache: a second run skips most compiling. Enabled
// before the bundle is imported, so the bundle itself is cached too. NODE_DISABLE_COMPILE_CACHE=1 turns it off.
module.enableCompileCache?.();

import('../dist/bundle/cli.js')
  .then((m) => m.main(process.argv))
  .catch((err) => {
    process.stderr.write(`firebreak: ${err?.stack ? err.stack : err}\n`);
    process.exit(1);
  });
