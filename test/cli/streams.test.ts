/**
 * The process's own streams: a reader that goes away (`| head -1`) must not stop a run half-way,
 * leaving it "running" with its locks held.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT, cliEnv, tempHome } from '../helpers/cli.js';

const sh = (script: string, home: string) =>
  new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', script], { cwd: ROOT, env: cliEnv(home) });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout }));
  });

describe('closed output streams', () => {
  it('a closed stderr (2>&1 >/dev/null | head -1) does not stop the run: it finishes and releases its locks', async () => {
    const home = tempHome();
    const r = await sh(
      `"${process.execPath}" "${BIN}" run ec2-instance-compromise --sim --auto -i instanceId=i-0abc123def4567890 2>&1 >/dev/null | head -1; ` +
        // head exits at once; wait for firebreak itself (it is the pipeline's first process).
        'wait',
      home,
    );
    expect(r.stdout).toMatch(/^▶ run /);
    // The pipeline returns when head exits; give the run the time it needs to end on its own.
    const runsDir = join(home, 'runs');
    const [runId] = readdirSync(runsDir);
    const journal = join(runsDir, runId!, 'journal.jsonl');
    for (let i = 0; i < 100 && !/"type":"run\.(waiting|ended)"/.test(readFileSync(journal, 'utf8')); i++)
      await new Promise((r) => setTimeout(r, 100));
    const last = readFileSync(journal, 'utf8').trimEnd().split('\n').at(-1)!;
    expect(JSON.parse(last)).toMatchObject({ type: 'run.waiting', step: 'revoke-role-sessions' });
    for (let i = 0; i < 50 && existsSync(join(runsDir, runId!, 'run.lock')); i++) await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(join(runsDir, runId!, 'run.lock'))).toBe(false);
    expect(readdirSync(join(home, 'locks'), { recursive: true }).filter((f) => String(f).endsWith('.lock'))).toEqual([]);
  }, 30_000);
});
