#!/usr/bin/env node
// Thin launcher: everything lives in the bundled CLI (dist/cli, built by `npm run build`). Kept tiny for start-up time.
import('../dist/cli/main.js').then((m) => m.main(process.argv)).catch((err) => {
  process.stderr.write(`firebreak: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
