/**
 * SDK packages load on first use (src/cloud/sdk.ts): describing the actions loads none, making a
 * client loads its own package only, and the classes are the ones `import` gives.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { EC2 } from '../../src/cloud/sdk.js';

const ROOT = join(import.meta.dirname, '../..');

function inFreshProcess(body: string): any {
  const script = [
    "import { createRequire } from 'node:module';",
    "const require = createRequire(process.cwd() + '/x.js');",
    'const loaded = () => [...new Set(Object.keys(require.cache).filter((k) => /node_modules\\/@aws-sdk\\/client-/.test(k)).map((k) => k.match(/client-[a-z0-9-]+/)[0]))];',
    body,
  ].join('\n');
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' }));
}

describe('AWS SDK packages load on first use', () => {
  it('loading every action loads no SDK package; creating the EC2 client loads client-ec2 only', () => {
    const r = inFreshProcess(
      [
        "const { actions } = await import('./dist/src/actions/registry.js');",
        'const before = loaded();',
        "const { createClients } = await import('./dist/src/cloud/clients.js');",
        "createClients({ region: 'us-east-1' }).ec2;",
        'console.log(JSON.stringify({ actions: actions.size, before, after: loaded() }));',
      ].join('\n'),
    );
    expect(r.actions).toBeGreaterThan(20);
    expect(r.before).toEqual([]);
    expect(r.after).toEqual(['client-ec2']);
  });

  it('the bundled CLI (what bin/firebreak.js runs) validates every playbook without loading any SDK package', () => {
    const r = inFreshProcess(
      [
        "const { readdirSync, writeSync } = await import('node:fs');",
        "const files = readdirSync('playbooks').filter((f) => f.endsWith('.yaml')).map((f) => 'playbooks/' + f);",
        'let printed = 0;',
        // A stream that calls back as a real one does: main() waits for stdout to drain before it exits.
        "process.stdout.write = (chunk, a, b) => { if (chunk !== '') printed += 1; const cb = typeof a === 'function' ? a : b; if (typeof cb === 'function') cb(); return true; };",
        // main() ends the process itself: report from its exit.
        "process.on('exit', (code) => writeSync(1, JSON.stringify({ files: files.length, printed, code, loaded: loaded() })));",
        "const { main } = await import('./dist/bundle/cli.js');",
        "await main(['node', 'firebreak', 'validate', ...files]);",
      ].join('\n'),
    );
    expect(r.files).toBeGreaterThan(3);
    expect(r.printed).toBeGreaterThan(0);
    expect(r.code).toBe(0);
    expect(r.loaded).toEqual([]);
  });

  it('gives the same classes as import (instanceof agrees)', () => {
    expect(EC2.DescribeInstancesCommand).toBe(DescribeInstancesCommand);
    expect(new EC2.DescribeInstancesCommand({})).toBeInstanceOf(DescribeInstancesCommand);
  });
});
