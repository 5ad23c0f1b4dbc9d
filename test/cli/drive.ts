/** Run the built CLI in a chosen folder, typing answers as prompts appear (the shared helper runs at the repository root). */
import { spawn } from 'node:child_process';
import { BIN, cliEnv, type CliResult } from '../helpers/cli.js';

export function scripted(args: string[], opts: { home: string; cwd: string; script: Array<{ expect: RegExp; answer: string }> }): Promise<CliResult & { unanswered: number }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd, env: cliEnv(opts.home) });
    let stdout = '';
    let stderr = '';
    let next = 0;
    let seen = 0;
    const check = () => {
      const step = opts.script[next];
      if (!step) return;
      const m = step.expect.exec((stdout + stderr).slice(seen));
      if (m) {
        seen += m.index + m[0].length;
        next++;
        child.stdin.write(step.answer + '\n');
        setImmediate(check);
      }
    };
    child.stdout.on('data', (d) => { stdout += d; check(); });
    child.stderr.on('data', (d) => { stderr += d; check(); });
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr, unanswered: opts.script.length - next }));
  });
}
