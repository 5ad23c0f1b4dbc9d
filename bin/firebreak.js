#!/usr/bin/env node
// Thin launcher: everything lives in the bundled CLI (dist/bundle/cli.js, built by `npm run build`). Kept tiny for start-up time.
import('../dist/bundle/cli.js')
  .then((m) => m.main(process.argv))
  .catch((err) => {
    process.stderr.write(`firebreak: ${err?.stack ? err.stack : err}\n`);
    process.exit(1);
  });
