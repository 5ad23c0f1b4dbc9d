/** Every command's --help shows the global options and two or three examples of that command. */
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { cli, tempHome } from '../helpers/cli.js';

function leaves(cmd: Command, prefix = ''): Array<[string, Command]> {
  return cmd.commands.flatMap((sub) => {
    const name = `${prefix}${sub.name()}`;
    return sub.commands.length ? leaves(sub, `${name} `) : [[name, sub] as [string, Command]];
  });
}

/** What commander prints for --help, with the text added after it. */
function helpOf(cmd: Command): string {
  let text = '';
  cmd.configureOutput({ writeOut: (s) => (text += s) });
  cmd.outputHelp();
  return text;
}

describe('--help', () => {
  it.each(leaves(buildProgram()))('firebreak %s --help: global options and examples of itself', (name, cmd) => {
    const help = helpOf(cmd);
    expect(help).toMatch(/^Global Options:\n(.*\n)*\s+--json\s+machine-readable output on stdout$/m);
    const examples = help.split('\nExamples:\n')[1] ?? '';
    const lines = examples.split('\n').filter((l) => l.startsWith('  $ '));
    expect(lines.length, help).toBeGreaterThanOrEqual(2);
    expect(lines.length).toBeLessThanOrEqual(3);
    for (const l of lines) expect(l).toContain(`firebreak ${name}`);
  });

  it('is what the CLI prints', async () => {
    const r = await cli(['run', '--help'], { home: tempHome() });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Global Options:');
    expect(r.stdout).toContain('  $ firebreak run ec2-instance-compromise --sim -i instanceId=i-0abc123def4567890');
  });
});
