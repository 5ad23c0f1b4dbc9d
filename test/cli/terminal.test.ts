/**
 * What a responder reads at the terminal, line by line: parallel branches labelled, a planned
 * onError path said as such, a manual task printed once, a resumed wait with its time left, and
 * no escape codes in a redirected stderr.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, cli, cliEnv, ROOT, runIds, tempHome } from '../helpers/cli.js';

const HOLD = join(ROOT, 'test/cli/fixtures/wait/hold.yaml');
const count = (text: string, s: string) => text.split(s).length - 1;

describe('the demo, as printed', () => {
  const home = tempHome();
  let stderr = '';
  let runId = '';
  beforeAll(async () => {
    const r = await cli(['demo'], { home });
    expect(r.code, r.stderr).toBe(0);
    stderr = r.stderr;
    runId = runIds(home).at(-1)!;
  }, 120_000);

  it('labels every line of the parallel preserve and detach branches with its step', () => {
    const lines = stderr.split('\n');
    const from = lines.indexOf('● detach · ec2.remove-from-service');
    const to = lines.indexOf('● snapshot · ec2.forensic-snapshots');
    expect(from).toBeGreaterThan(0);
    const block = lines.slice(from + 1, to);
    expect(block).toContain('  [preserve] plan:');
    expect(block).toContain('    [preserve] ✔ termination protection on');
    expect(block).toContain('  [preserve] ✔ applied and verified');
    // Every line between the branches' start and their end names its step.
    for (const l of block) expect(l).toMatch(/^\s+(\[preserve\] |✖ detach failed: )/);
  });

  it('says the planned onError path is taken, naming the step that failed', () => {
    expect(stderr).toMatch(
      /^ {2}✖ detach failed: GroupAtMinimumSize: failed to take i-0abc123def4567890 out of web-asg: .* → taking the planned onError path$/m,
    );
    expect(stderr).not.toMatch(/^\s+✖ failed/m);
  });

  it('prints each manual task once', () => {
    expect(count(stderr, 'manual task: Open an AWS Support case in the console')).toBe(1);
    expect(count(stderr, 'Paste the text below')).toBe(1);
    expect(count(stderr, 'manual task: Collect volatile evidence')).toBe(1);
    expect(count(stderr, 'Before anyone reboots or stops the instance')).toBe(1);
  });

  it('says who approved once, without repeating the channel', () => {
    expect(stderr).toContain('  approved automatically (approval: auto)');
    expect(stderr).toContain('  approved by demo (simulated responder)\n');
    expect(stderr).not.toMatch(/\(policy\)|via policy|\(demo\)|\(success\)/);
  });

  it('audit show labels the parallel branches the same way', async () => {
    const r = await cli(['audit', 'show', runId], { home });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Z {3}\[preserve\] plan:$/m);
    expect(r.stdout).toMatch(/^ {25}\[preserve\] note: 2 EBS volumes/m);
    expect(r.stdout).toMatch(/Z {3}✖ detach failed: GroupAtMinimumSize: .* → taking the planned onError path$/m);
    expect(r.stdout).toMatch(/Z {3}\[preserve\] ✔ applied and verified$/m);
  });
});

/** Start the CLI, send SIGINT once `until` shows on stderr, resolve with its output. */
function interruptWhen(args: string[], home: string, until: RegExp): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: cliEnv(home) });
    let stderr = '';
    let sent = false;
    child.stderr.on('data', (d) => {
      stderr += d;
      if (!sent && until.test(stderr)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
    child.stdin.end();
  });
}

describe('resuming into a wait', () => {
  it('shows the step it waits in, until when, and the time left', async () => {
    const home = tempHome();
    const first = await interruptWhen(['run', HOLD, '--sim', '--auto'], home, /waiting in hold-off/);
    expect(first.code, first.stderr).toBe(130);
    const runId = runIds(home).at(-1)!;
    const again = await interruptWhen(['resume', runId, '--auto'], home, /left\)/);
    expect(again.code, again.stderr).toBe(130);
    const lines = again.stderr.split('\n');
    const at = lines.findIndex((l) => l.startsWith('▶ resumed by '));
    expect(at, again.stderr).toBeGreaterThanOrEqual(0);
    expect(lines[at + 1]).toMatch(/^… waiting in hold-off until \d\d:\d\d:\d\d \(1[45]m \d+s left\)$/);
    expect(count(again.stderr, 'resumed by')).toBe(1);
  }, 60_000);
});

describe('colour, decided per stream', () => {
  const hasScript = (() => {
    try {
      execFileSync('script', ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();

  // `script` gives the command a real terminal; stderr is redirected to a file inside it.
  const atTerminal = (shell: string, home: string): string => {
    const env: NodeJS.ProcessEnv = { ...cliEnv(home), TERM: 'xterm-256color' };
    delete env.NO_COLOR;
    delete env.FORCE_COLOR;
    return execFileSync('script', ['-qec', shell, '/dev/null'], { cwd: ROOT, env, encoding: 'utf8' });
  };

  it.skipIf(!hasScript)('writes no escape codes to a redirected stderr while stdout is a terminal (and colours the terminal)', () => {
    const home = tempHome();
    const dir = mkdtempSync(join(tmpdir(), 'fb-err-'));
    const cmd = `'${process.execPath}' '${BIN}' run '${HOLD}' --sim --dry-run`;
    const shown = atTerminal(`${cmd} 2>'${dir}/err.txt'`, home);
    const file = readFileSync(join(dir, 'err.txt'), 'utf8');
    expect(file).toContain('▶ run ');
    expect(file).toContain('… waiting in hold-off until ');
    expect(file).not.toContain('\x1b');
    expect(shown).toMatch(/run \d{8}-\d{6}-[0-9a-f]+: planned/);
    // The same progress at the terminal is coloured: the check above can fail.
    const both = atTerminal(`${cmd} 2>&1`, tempHome());
    expect(both).toContain('\x1b[');
    expect(both).toContain('waiting in ');
  });
});
