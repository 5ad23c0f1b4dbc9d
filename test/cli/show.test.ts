/** `firebreak show`: the runbook as readable terminal text; colour only when allowed. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderTerminal } from '../../src/render/terminal-markdown.js';
import { cli, tempHome } from '../helpers/cli.js';

const PROJECT = join(import.meta.dirname, 'fixtures/project');
const ESC = '\u001b[';

describe('terminal rendering of Markdown', () => {
  const md = [
    '<!-- generated — do not edit -->',
    '# Title',
    '',
    'Some **bold** text with `code | pipe` and a [link](https://example.com/x).',
    '',
    '| name | value |',
    '|---|---|',
    '| `a` | `x \\| y` |',
    '| `bb` | \\<escaped\\> |',
    '',
    '```mermaid',
    'stateDiagram-v2',
    '    [*] --> one',
    '    one: One',
    '    one --> two: on error',
    '    two --> [*]',
    '```',
    '',
    '```sh',
    'aws ec2 describe-instances --instance-ids <instanceId>',
    '```',
    '',
    '- a list item',
    '> quoted',
  ].join('\n');

  it('turns headings, tables, diagrams, commands, lists and quotes into plain text', () => {
    expect(renderTerminal(md, { width: 80 })).toBe(
      [
        'Title',
        '═════',
        '',
        'Some bold text with code | pipe and a link <https://example.com/x>.',
        '',
        '  name  value',
        '  a     x | y',
        '  bb    <escaped>',
        '',
        '  flow (the runbook on GitHub draws it):',
        '    start → one',
        '    one → two  (on error)',
        '    two → end',
        '',
        '    aws ec2 describe-instances --instance-ids <instanceId>',
        '',
        '  • a list item',
        '  │ quoted',
        '',
      ].join('\n'),
    );
  });

  it('shows a table too wide for the terminal as one labelled block per row', () => {
    const wide = `| a | b |\n|---|---|\n| ${'x'.repeat(50)} | ${'y'.repeat(50)} |\n`;
    const text = renderTerminal(wide, { width: 60 });
    expect(text).toContain(`  • a: ${'x'.repeat(50)}`);
    expect(text).toContain(`    b: ${'y'.repeat(50)}`);
  });
});

describe('firebreak show', () => {
  it('prints the runbook without escape codes when NO_COLOR is set (and off a terminal)', async () => {
    const r = await cli(['show', 'contain-instance'], { home: tempHome(), cwd: PROJECT });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain(ESC);
    expect(r.stdout).not.toContain('<!--');
    expect(r.stdout).toMatch(/^Contain an instance \(test\)\n═+\n/);
    expect(r.stdout).toContain('    aws ec2 modify-instance-attribute --instance-id <instanceId> --disable-api-termination');
    expect(r.stdout).toContain('  i-0abc123def4567890  DisableApiTermination  false   true');
  }, 60_000);

  it('uses colour only when forced and NO_COLOR is empty', async () => {
    const r = await cli(['show', 'contain-instance'], { home: tempHome(), cwd: PROJECT, env: { NO_COLOR: '', FORCE_COLOR: '1' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(ESC);
  }, 60_000);

  it('names the command that lists playbooks when the name is wrong', async () => {
    const r = await cli(['show', 'contain-instanc'], { home: tempHome(), cwd: PROJECT });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: unknown playbook 'contain-instanc'.*contain-instance/m);
    expect(r.stderr).toContain('fix: firebreak list');
  }, 60_000);
});
