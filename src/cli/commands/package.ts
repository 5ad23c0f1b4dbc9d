/** `firebreak package`: the Lambda zip the deployment template's functions run. */
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { projectRoot } from '../../core/paths.js';
import { buildLambdaPackage, LAMBDA_ENTRIES } from '../../deploy/package.js';
import { c, err, out, printJson } from '../output.js';

export async function packageLambdas(opts: { out?: string; json?: boolean }): Promise<void> {
  const res = await buildLambdaPackage({ root: projectRoot(), outDir: opts.out ?? 'dist/lambda', version: packageVersion() });
  if (opts.json) return printJson({ file: res.file, key: res.name, bytes: res.bytes, sha256: res.sha256, entries: res.entries });
  out(
    `${relative(process.cwd(), res.file) || res.file}  ${(res.bytes / 1024 / 1024).toFixed(2)} MB (${res.bytes} bytes), ${res.entries.length} files`,
  );
  err(
    c.dim(
      `handlers: ${Object.keys(LAMBDA_ENTRIES)
        .map((n) => `${n}.handler`)
        .join(', ')}`,
    ),
  );
  err(c.dim(`upload: aws s3 cp ${res.file} s3://<code bucket>/${res.name}   then deploy with CodeKey=${res.name}`));
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}
