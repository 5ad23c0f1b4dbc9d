/**
 * `firebreak schemas [--check]`: write the JSON Schemas of playbooks, worlds, routes and scenarios
 * to `schemas/` (editors read them through each YAML file's first line); with `--check`, change
 * nothing and exit 1 naming each stale file (CI).
 */
import { EXIT } from '../../core/errors.js';
import { describeStale, staleOf, syncGenerated, type SyncResult } from '../../docs/generated.js';
import { generateSchemas, SCHEMAS_MARKER } from '../../docs/schemas.js';
import { c, err, out, printJson } from '../output.js';

export async function schemas(opts: { check?: boolean; json?: boolean }): Promise<void> {
  const projectDir = process.cwd();
  const results = syncGenerated(projectDir, generateSchemas(), { check: !!opts.check, owned: { dir: 'schemas', marker: SCHEMAS_MARKER } });
  reportSync(results, { ...opts, command: 'firebreak schemas', commit: 'schemas/' });
}

/** Shared by `docs` and `schemas`: one line per file, or one JSON document; exit 1 when stale. */
export function reportSync(results: SyncResult[], o: { check?: boolean; json?: boolean; command: string; commit: string }): void {
  const stale = staleOf(results);
  if (o.json) {
    printJson({ ok: stale.length === 0, check: !!o.check, files: results });
  } else {
    for (const r of results) {
      if (o.check && r.status === 'unchanged') continue;
      out(`${r.status === 'unchanged' ? c.dim(r.status.padEnd(9)) : r.status.padEnd(9)} ${r.path}`);
    }
    if (o.check && stale.length === 0) out(`${c.green('ok')}: ${results.length} generated files up to date`);
  }
  if (stale.length > 0) {
    for (const r of stale) err(`error: ${describeStale(r, o.command)}`);
    err(`  fix: ${o.command}   (then commit ${o.commit})`);
    process.exitCode = EXIT.failed;
  }
}
