/**
 * `firebreak serve` under hostile alerts: it keeps answering /healthz while they are refused, a
 * corrupt spool entry left by an earlier server does not keep it from starting, and SIGTERM stops
 * it (the child is killed after 5 s, which fails the test).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT, cliEnv, tempHome } from '../helpers/cli.js';
import { webhookHeaders } from '../triggers/helpers.js';

const SECRET = 'hostile-serve-secret-0123456789';
const F = join(import.meta.dirname, 'files');

function startServe(home: string): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--sim', '--routes', join(F, 'routes-loop.yaml')], {
    cwd: ROOT,
    env: cliEnv(home, { FIREBREAK_WEBHOOK_SECRET: SECRET }),
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', () => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve({ child, url: m[1]!, output: () => out });
    });
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
  });
}

const generic = readFileSync(join(F, 'alert-generic.json'), 'utf8');
const HOSTILE: Array<[string, string]> = [
  [
    'nested 3,000 levels',
    `{"source":"edr","id":"d-1","type":"T","severity":"HIGH","time":"2026-01-01T04:00:00Z","resources":{"instanceIds":["i-0abc123def4567890"]},"details":${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}}`,
  ],
  ['not JSON', 'root:x:0:0:root:/root:/bin/bash'],
  ['a route input mapping that recurses without end', generic],
  ['a route input mapping that recurses, again', generic.replace('det-hostile-1', 'det-hostile-2')],
];

describe('serve under hostile alerts', () => {
  it('refuses each with a 4xx, keeps answering /healthz, starts despite a corrupt spool entry, and stops on SIGTERM', async () => {
    const home = tempHome();
    mkdirSync(join(home, 'spool'), { recursive: true });
    writeFileSync(join(home, 'spool', '00000000000001-1-000001-torn.json'), '{"via":"webhook","rec');
    const { child, url, output } = await startServe(home);
    try {
      let healthy = 0;
      let polling = true;
      const poll = (async () => {
        while (polling) {
          const h = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(3000) });
          expect(h.status).toBe(200);
          healthy++;
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      const statuses: number[] = [];
      for (const [, body] of HOSTILE) {
        const r = await fetch(`${url}/alerts`, {
          method: 'POST',
          body,
          headers: webhookHeaders(SECRET, body),
          signal: AbortSignal.timeout(4000),
        });
        statuses.push(r.status);
        const h = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(3000) });
        expect(h.status).toBe(200);
      }
      polling = false;
      await poll;
      expect(
        statuses.every((s) => s >= 400 && s < 500),
        JSON.stringify(statuses),
      ).toBe(true);
      expect(healthy).toBeGreaterThan(0);
      expect(readdirSync(join(home, 'spool', 'quarantine'))).toEqual(['00000000000001-1-000001-torn.json']);
      expect(output()).toMatch(/spool entry .*torn\.json cannot be read/);
    } finally {
      const code = await new Promise<number | null>((resolve) => {
        const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.on('exit', (c, signal) => {
          clearTimeout(killer);
          resolve(signal === 'SIGKILL' ? -1 : c);
        });
        child.kill('SIGTERM');
      });
      expect(code, 'serve did not stop within 5 s of SIGTERM').not.toBe(-1);
    }
  }, 30_000);
});
