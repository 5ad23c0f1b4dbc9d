#!/usr/bin/env node
// Thin launcher: everything lives in the compiled CLI. Kept tiny for start-up time.
import('../dist/src/cli/main.js').then((m) => m.main(process.argv)).catch((err) => {
  process.stderr.write(`firebreak: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
