/**
 * `firebreak tabletop` as a facilitator runs it: a separate process against the simulated cloud,
 * the facilitator view on stderr, the report files in the exercise folder, and the exit code.
 * Run `npm run build` first.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, cliScripted, tempHome } from '../helpers/cli.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'fb-tabletop-cli-'));

describe('firebreak tabletop', () => {
  it('--auto plays the scenario, shows the facilitator view and writes the after-action report and the result', async () => {
    const home = tempHome();
    const out = join(tmp(), 'exercise');
    const r = await cli(['tabletop', 'crypto-mining', '--auto', '--out', out], { home });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/T\+00:03 +ALERT +GuardDuty finding: GuardDuty CryptoCurrency:EC2\/BitcoinTool\.B!DNS/);
    expect(r.stderr).toMatch(/OBJECTIVE ✔ objective isolated met/);
    expect(r.stdout).toContain('score: 100 of 100 points (100%)');
    expect(r.stdout).toContain('expected score matched (scenario)');

    const md = readFileSync(join(out, 'after-action.md'), 'utf8');
    for (const heading of [
      '# After-Action Report: A production web server mines cryptocurrency',
      '## Exercise overview',
      '## Objectives',
      '### Strengths',
      '### Areas for improvement',
      '## Timeline of injects and decisions',
      '## Appendix A: Improvement plan',
    ]) {
      expect(md).toContain(heading);
    }
    const html = readFileSync(join(out, 'after-action.html'), 'utf8');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    // Self-contained: no script, stylesheet or image fetched from anywhere.
    expect(html).not.toMatch(/<(script|link|img)\b/);
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
    expect(result.score).toEqual({ points: 100, total: 100, percent: 100 });
    expect(result.runs[0]).toMatchObject({ runId: 'crypto-mining-1', playbook: 'ec2-instance-compromise' });
    // The exercise's runs live in its own folder, with their journals.
    expect(existsSync(join(out, 'runs', 'crypto-mining-1', 'journal.jsonl'))).toBe(true);
    expect(existsSync(join(home, 'runs'))).toBe(false);
  });

  it('--decisions with --json prints the score and the expectation on stdout', async () => {
    const r = await cli(['tabletop', 'ssh-brute-force', '--decisions', 'test/fixtures/scenarios/ssh-deny-range.yaml', '--json'], {
      home: tempHome(),
    });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.score.points).toBe(100);
    expect(doc.expectation).toEqual({ source: 'decisions', ok: true, problems: [] });
    expect(existsSync(doc.files.html)).toBe(true);
  });

  it('exits 1 when the exercise does not score what its decisions file expects', async () => {
    const file = join(tmp(), 'optimistic.yaml');
    writeFileSync(file, 'scenario: ssh-brute-force\nexpect: { score: 100, met: [range-blocked] }\n');
    const r = await cli(['tabletop', 'ssh-brute-force', '--decisions', file], { home: tempHome() });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('expected a score of 100, got 20 of 100');
    expect(r.stdout).toContain('expected objective range-blocked met, it was missed');
  });

  it('rejects a malformed scenario with file:line:col before anything runs (exit 2)', async () => {
    const home = tempHome();
    const file = join(tmp(), 'bad.yaml');
    const text = readFileSync('scenarios/ssh-brute-force.yaml', 'utf8').replace('    id: login\n', '    id: login\n    atacker: {}\n');
    writeFileSync(file, text);
    const line = text.split('\n').findIndex((l) => l.includes('atacker: {}')) + 1;
    const r = await cli(['tabletop', file, '--auto'], { home });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:${line}:5: timeline[4].atacker: unknown field 'atacker' (did you mean 'attacker'?)`);
    expect(existsSync(join(home, 'exercises'))).toBe(false);
  });

  it('--interactive asks the players at every step; a skipped isolation costs its objective', async () => {
    const out = join(tmp(), 'exercise');
    const any = { expect: /Players: (apply step '[\w-]+'|is the task done)\?/, answer: 'y' };
    const r = await cliScripted(['tabletop', 'crypto-mining', '--interactive', '--out', out], {
      home: tempHome(),
      script: [
        { expect: /Players: apply step 'isolate'\?/, answer: 's' },
        { expect: /Players: apply step 'preserve'\?/, answer: 'y' },
        ...Array(12).fill(any),
      ],
    });
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
    expect(result.mode).toBe('players');
    expect(result.objectives.find((o: { id: string }) => o.id === 'isolated').status).toBe('missed');
    const skip = result.timeline.find((e: { text: string }) => e.text.startsWith('players skip step isolate'));
    expect(skip).toBeDefined();
    const journal = readFileSync(join(out, 'runs', 'crypto-mining-1', 'journal.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(journal.find((e) => e.type === 'approval.answered' && e.step === 'isolate')).toMatchObject({
      decision: 'skip',
      by: 'players',
      via: 'prompt',
    });
    expect(journal.find((e) => e.type === 'run.started')).toMatchObject({ mode: 'tabletop', backend: 'sim' });
  });

  it.each([
    ['no way to answer the players (no terminal, no --auto, no --decisions)', ['tabletop', 'ssh-brute-force'], /needs a terminal/],
    ['an unknown scenario', ['tabletop', 'no-such-scenario', '--auto'], /unknown scenario 'no-such-scenario'/],
    ['a bad seed', ['tabletop', 'ssh-brute-force', '--auto', '--seed', 'x'], /--seed must be a whole number/],
  ])('refuses %s (exit 2)', async (_name, args, message) => {
    const r = await cli(args, { home: tempHome() });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('refuses an --out folder that already holds an exercise', async () => {
    const out = join(tmp(), 'exercise');
    const home = tempHome();
    expect(
      (await cli(['tabletop', 'ssh-brute-force', '--decisions', 'test/fixtures/scenarios/ssh-deny-range.yaml', '--out', out], { home }))
        .code,
    ).toBe(0);
    const again = await cli(['tabletop', 'ssh-brute-force', '--auto', '--out', out], { home });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already holds an exercise');
  });
});
