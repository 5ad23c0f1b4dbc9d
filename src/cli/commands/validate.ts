/**
 * `firebreak validate FILE…`: check each file by its kind — playbook, routes, scenario, world,
 * config or decisions, told by its schema line or its shape — with the same loader a run uses;
 * exit 2 naming file:line:col when a file is bad or of no known kind. Loaders are imported per
 * kind, so validating playbooks never loads the AWS SDK.
 */
import { EXIT, InputError } from '../../core/errors.js';
import { readInputFile, SIZE_LIMITS } from '../../core/read-input.js';
import { parseYamlSource, validateWith } from '../../core/yaml-source.js';
import { FILE_KINDS, kindOf, type FileKind } from '../../docs/file-kind.js';
import { type ProblemJson, problemJson } from '../json-error.js';
import { c, err, out, printJson } from '../output.js';

/** `file:line:col: field: message`, as InputError.line prints it. */
function problemLine(p: ProblemJson): string {
  const where = p.file ? `${p.file}${p.line ? `:${p.line}:${p.column ?? 1}` : ''}: ` : '';
  return `${where}${p.field ? `${p.field}: ` : ''}${p.message}`;
}

interface Result {
  file: string;
  kind: FileKind | null;
  ok: boolean;
  errors: ProblemJson[];
  hint?: string;
}

export async function validate(files: string[], opts: { json?: boolean }): Promise<void> {
  const results: Result[] = [];
  for (const file of files) {
    let kind: FileKind | null = null;
    try {
      const text = readText(file);
      const found = kindOf(text);
      if (!found) {
        // A file that does not parse has no shape: its YAML error is the one to report.
        parseYamlSource(text, file);
        throw new InputError(`failed to validate ${file}: not a Firebreak file of a known kind (${FILE_KINDS.join(', ')})`, {
          hint: `add a first line naming its schema, e.g. '# yaml-language-server: $schema=schemas/playbook.schema.json'`,
        });
      }
      kind = found.kind;
      checkSize(kind, file, text);
      await check(kind, file, text);
      results.push({ file, kind, ok: true, errors: [] });
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      results.push({
        file,
        kind,
        ok: false,
        errors: [e, ...e.more].map(problemJson),
        ...(e.hint && kind === null ? { hint: e.hint } : {}),
      });
    }
  }
  if (opts.json) printJson(results);
  else {
    for (const r of results) {
      if (r.ok) out(`${c.green('ok')}  ${r.file} ${c.dim(`(${r.kind})`)}`);
      for (const p of r.errors) err(`error: ${problemLine(p)}`);
      if (r.hint) err(`  fix: ${r.hint}`);
    }
  }
  process.exitCode = results.every((r) => r.ok) ? EXIT.ok : EXIT.invalid;
}

/**
 * The kind is known only once the file is read: read up to the largest kind's limit (a world),
 * then hold the file to its own kind's limit before parsing it as that kind.
 */
function readText(file: string): string {
  return readInputFile(file, 'world');
}

function checkSize(kind: FileKind, file: string, text: string): void {
  const limit = SIZE_LIMITS[kind];
  const size = Buffer.byteLength(text);
  if (size > limit)
    throw new InputError(`failed to read ${kind} ${file}: it is ${size} bytes; the limit for a ${kind} file is ${limit} bytes`);
}

async function check(kind: FileKind, file: string, text: string): Promise<void> {
  switch (kind) {
    case 'playbook': {
      const [{ actions, actionIds }, { loadPlaybook }] = await Promise.all([
        import('../../actions/registry.js'),
        import('../../playbook/load.js'),
      ]);
      loadPlaybook(file, { actionIds, actionInputs: (id) => actions.get(id)?.input });
      return;
    }
    case 'routes':
      (await import('../../triggers/routes.js')).parseRoutes(text, file);
      return;
    case 'scenario':
      await (await import('../../tabletop/load.js')).loadScenarioText(text, file);
      return;
    case 'world':
      (await import('../../sim/world.js')).parseWorld(text, file);
      return;
    case 'config':
      validateWith((await import('../../config/config.js')).ConfigSchema, parseYamlSource(text, file), file);
      return;
    case 'decisions': {
      // Without its scenario a decisions file is checked against its schema; `tabletop --decisions`
      // also checks its step keys against the scenario's playbooks.
      const { decisionsSchema } = await import('../../tabletop/decisions.js');
      validateWith(decisionsSchema, parseYamlSource(text, file), file);
      return;
    }
  }
}
