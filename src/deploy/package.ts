/**
 * The Lambda package: one zip holding the router and worker entries bundled by esbuild (ES modules,
 * minified, shared code in chunks) and the files they read at run time (playbooks, templates, the
 * routing table), instead of the repository's 75 MB of node_modules.
 *
 * The AWS SDK ships in the zip, not taken from the Lambda runtime. The Node.js runtime carries an SDK
 * v3 release AWS chooses and updates on its own schedule; Firebreak's clients, its audit and permission
 * middleware (`@smithy/core` internals) and the simulated cloud are tested against the versions
 * package-lock.json pins, and the code that runs in AWS should be that code. The SDK stays outside the
 * bundle, as in the CLI (src/cloud/sdk.ts requires each client on first use), so the zip carries the
 * installed SDK packages and their dependencies — each package's `package.json` and CommonJS build
 * (`dist-cjs`, what Node loads), without types, ES builds or source maps.
 *
 * Deterministic: files are added in sorted order with a fixed time and mode, so the same checkout gives
 * the same zip, and its name carries its hash (a new S3 key is what makes CloudFormation update the
 * functions).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import yazl from 'yazl';
import { FirebreakError } from '../core/errors.js';

/** Entry name (the handler is `<name>.handler`) → source module. */
export const LAMBDA_ENTRIES: Readonly<Record<string, string>> = {
  router: 'src/lambda/handler.ts',
  worker: 'src/sfn/worker-lambda.ts',
};

/** Folders and files of the checkout the functions read at run time. */
export const RUNTIME_FILES = ['playbooks', 'templates', 'routes.yaml'];

// Zip times are DOS times (from 1980); any fixed one makes builds repeatable.
const FIXED_TIME = new Date('2020-01-01T00:00:00Z');

export interface PackageResult {
  file: string;
  name: string;
  bytes: number;
  sha256: string;
  entries: string[];
}

export async function buildLambdaPackage(o: { root: string; outDir: string; version: string }): Promise<PackageResult> {
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch (err) {
    throw new FirebreakError(`failed to package the Lambdas: esbuild is not installed (${(err as Error).message})`, {
      hint: 'run npm ci in a Firebreak checkout, then firebreak package',
      cause: err,
    });
  }
  const built = await esbuild.build({
    absWorkingDir: o.root,
    entryPoints: Object.fromEntries(Object.entries(LAMBDA_ENTRIES).map(([name, src]) => [name, join(o.root, src)])),
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    minify: true,
    sourcemap: 'linked',
    sourcesContent: false,
    legalComments: 'eof',
    outdir: 'out',
    outExtension: { '.js': '.mjs' },
    write: false,
    // CommonJS dependencies call `require` for Node's built-ins; an ES module has none (see scripts/bundle.mjs).
    external: ['@aws-sdk/*', '@smithy/*'],
    banner: {
      js: "import { createRequire as __firebreakCreateRequire } from 'node:module'; const require = __firebreakCreateRequire(import.meta.url);",
    },
    logLevel: 'silent',
  });
  const files = new Map<string, Buffer>();
  for (const f of built.outputFiles) files.set(relative(join(o.root, 'out'), f.path).split(sep).join('/'), Buffer.from(f.contents));
  for (const path of RUNTIME_FILES)
    for (const file of walk(join(o.root, path))) files.set(relative(o.root, file).split(sep).join('/'), readFileSync(file));
  for (const file of sdkFiles(o.root)) files.set(relative(o.root, file).split(sep).join('/'), readFileSync(file));
  // projectRoot() finds Firebreak's own files next to a package.json; "type": "module" for the chunks.
  files.set(
    'package.json',
    Buffer.from(`${JSON.stringify({ name: 'firebreak-lambda', version: o.version, private: true, type: 'module' }, null, 2)}\n`),
  );

  const zip = new yazl.ZipFile();
  const entries = [...files.keys()].sort();
  for (const name of entries) zip.addBuffer(files.get(name)!, name, { mtime: FIXED_TIME, mode: 0o100644, compress: true });
  zip.end();
  const bytes = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const name = `firebreak-lambda-${o.version}-${sha256.slice(0, 12)}.zip`;
  mkdirSync(o.outDir, { recursive: true });
  const file = join(o.outDir, name);
  writeFileSync(file, bytes);
  return { file, name, bytes: bytes.length, sha256, entries };
}

function walk(path: string): string[] {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch (err) {
    throw new FirebreakError(`failed to package ${path}: ${(err as Error).message}`);
  }
  if (!st.isDirectory()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((e) => walk(join(path, e)));
}

/** The installed files of the AWS SDK packages Firebreak depends on, and of everything they depend on. */
export function sdkFiles(root: string): string[] {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  const seen = new Map<string, string>(); // name@dir → dir
  const queue = Object.keys(pkg.dependencies)
    .filter((n) => n.startsWith('@aws-sdk/') || n.startsWith('@smithy/'))
    .map((name) => ({ name, from: root }));
  while (queue.length > 0) {
    const { name, from } = queue.shift()!;
    const dir = resolvePackageDir(name, from, root);
    if ([...seen.values()].includes(dir)) continue;
    seen.set(`${name}@${dir}`, dir);
    const meta = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    for (const dep of Object.keys(meta.dependencies ?? {})) queue.push({ name: dep, from: dir });
  }
  const files: string[] = [];
  for (const dir of [...new Set(seen.values())].sort()) {
    const cjs = join(dir, 'dist-cjs');
    const keep = existsSync(cjs)
      ? [join(dir, 'package.json'), ...walk(cjs)]
      : walk(dir).filter((f) => !/(^|[/\\])(dist-types|dist-es|node_modules)([/\\]|$)/.test(relative(dir, f)));
    files.push(...keep.filter((f) => !/\.(d\.ts|map|md)$/.test(f)));
  }
  return files.sort();
}

/** Node's lookup: the package's own node_modules, then each folder above it, up to the checkout. */
function resolvePackageDir(name: string, from: string, root: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === root || dirname(dir) === dir) break;
  }
  throw new FirebreakError(`failed to package the AWS SDK: ${name} (needed by ${relative(root, from) || 'Firebreak'}) is not installed`, {
    hint: 'run npm ci, then firebreak package',
  });
}
