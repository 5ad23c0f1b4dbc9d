/**
 * `firebreak package`: the zip holds the bundled entries, the files they read and the pinned AWS SDK,
 * nothing else, and runs on its own (extracted where no node_modules is above it).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import yauzl from 'yauzl';
import { buildLambdaPackage, type PackageResult } from '../../src/deploy/package.js';
import { listPlaybooks } from '../../src/playbook/load.js';

const ROOT = resolve(import.meta.dirname, '../..');

function readZip(file: string): Promise<Map<string, Buffer>> {
  return new Promise((resolvePromise, reject) => {
    const files = new Map<string, Buffer>();
    yauzl.open(file, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err);
      zip.on('entry', (entry: yauzl.Entry) =>
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(e);
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            files.set(entry.fileName, Buffer.concat(chunks));
            zip.readEntry();
          });
        }),
      );
      zip.on('end', () => resolvePromise(files));
      zip.readEntry();
    });
  });
}

let pkg: PackageResult;
let files: Map<string, Buffer>;
let extracted: string;

beforeAll(async () => {
  pkg = await buildLambdaPackage({ root: ROOT, outDir: mkdtempSync(join(tmpdir(), 'fb-pkg-')), version: '0.0.0-test' });
  files = await readZip(pkg.file);
  extracted = mkdtempSync(join(tmpdir(), 'fb-lambda-'));
  for (const [name, bytes] of files) {
    mkdirSync(dirname(join(extracted, name)), { recursive: true });
    writeFileSync(join(extracted, name), bytes);
  }
}, 120_000);

/** Run a snippet as the Lambda runtime would load the handler: an ES module import from the task root. */
const inLambda = (code: string, env: Record<string, string> = {}) =>
  execFileSync(process.execPath, ['--input-type=module', '-e', code], {
    cwd: extracted,
    env: {
      PATH: process.env.PATH,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      FIREBREAK_HOME: join(extracted, 'home'),
      ...env,
    },
    encoding: 'utf8',
  });

describe('firebreak package', () => {
  it('holds the two entries, every shipped playbook, the templates, the routes and a package.json of type module', () => {
    const names = [...files.keys()];
    expect(names).toContain('router.mjs');
    expect(names).toContain('worker.mjs');
    for (const p of listPlaybooks([join(ROOT, 'playbooks')])) expect(names).toContain(`playbooks/${p}.yaml`);
    expect(names).toContain('templates/support-case.md.eta');
    expect(names).toContain('routes.yaml');
    expect(JSON.parse(files.get('package.json')!.toString())).toMatchObject({ type: 'module', version: '0.0.0-test' });
  });

  it('carries the AWS SDK packages at the versions installed here, as CommonJS builds only, and no development tool', () => {
    const deps = Object.keys(
      (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies,
    ).filter((d) => d.startsWith('@aws-sdk/') || d.startsWith('@smithy/'));
    for (const d of deps) {
      const installed = JSON.parse(readFileSync(join(ROOT, 'node_modules', d, 'package.json'), 'utf8')).version;
      expect(JSON.parse(files.get(`node_modules/${d}/package.json`)!.toString()).version, d).toBe(installed);
    }
    const names = [...files.keys()];
    expect(names.filter((n) => /\/(dist-es|dist-types)\/|\.d\.ts$|\.ts$/.test(n))).toEqual([]);
    expect(names.filter((n) => /node_modules\/(esbuild|vitest|typescript|vite|zod|xstate|jsonata|yaml|commander)\//.test(n))).toEqual([]);
  });

  it('is small: the bundle and the SDK, not the repository’s node_modules', () => {
    expect(pkg.bytes).toBeLessThan(5 * 1024 * 1024);
    expect(pkg.bytes).toBe(readFileSync(pkg.file).length);
  });

  it('the router runs from the extracted zip alone: a malformed event is rejected, not thrown', () => {
    const out = inLambda("const { handler } = await import('./router.mjs'); console.log(JSON.stringify(await handler({ hello: 1 })));");
    expect(JSON.parse(out.trim().split('\n').at(-1)!)).toEqual({ rejected: expect.stringContaining('failed to read alert'), outcomes: [] });
  });

  it('the worker runs from the extracted zip alone and checks the task contract', () => {
    const out = inLambda(
      "const { handler } = await import('./worker.mjs'); try { await handler({ phase: 'run' }); } catch (e) { console.log(e.name); }",
      {
        FIREBREAK_STORE_TABLE: 'firebreak-runs',
        FIREBREAK_STORE_BUCKET: 'firebreak-evidence',
        FIREBREAK_STORE_KMS_KEY: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      },
    );
    expect(out.trim()).toBe('Firebreak.InvalidTask');
  });

  it('the worker refuses to start without the AWS store: its initialization fails, naming the store', () => {
    const out = inLambda("try { await import('./worker.mjs'); console.log('started'); } catch (e) { console.log(e.field, e.message); }");
    expect(out.trim()).toMatch(
      /^store failed to start the worker: its run store would be the local folder .*does not outlive a Lambda execution environment/,
    );
  });

  it('the same checkout gives the same zip', async () => {
    const again = await buildLambdaPackage({ root: ROOT, outDir: mkdtempSync(join(tmpdir(), 'fb-pkg-')), version: '0.0.0-test' });
    expect(again.sha256).toBe(pkg.sha256);
    expect(again.name).toBe(pkg.name);
  }, 120_000);
});
