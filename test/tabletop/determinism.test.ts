/**
 * One scenario, seed and set of decisions give one exercise: the same timeline, score, JSON result
 * and after-action report, byte for byte (simulated times only, deterministic ids).
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runExercise } from '../../src/tabletop/exercise.js';
import { loadScenario, loadScenarioText } from '../../src/tabletop/load.js';
import { renderAfterAction } from '../../src/tabletop/report.js';
import { CRYPTO_FINDING, ISOLATED_OBJECTIVE, ONE_INSTANCE_WORLD, play } from './helpers.js';

async function report(scenario: string, o: { decisions?: string; auto?: boolean; seed?: number }) {
  const p = await play(scenario, o);
  const r = renderAfterAction(p.result, await loadScenario(`scenarios/${scenario}.yaml`));
  return { json: JSON.stringify(p.result), ...r, result: p.result };
}

describe('determinism', () => {
  it.each([
    ['crypto-mining', { auto: true }],
    ['instance-credential-exfiltration', { auto: true, decisions: 'instance-creds-replace-profile' }],
    ['ssh-brute-force', { decisions: 'ssh-deny-one-address', seed: 7 }],
  ] as const)('%s twice: identical result, Markdown and HTML', async (scenario, o) => {
    const a = await report(scenario, o);
    const b = await report(scenario, o);
    expect(b.json).toBe(a.json);
    expect(b.markdown).toBe(a.markdown);
    expect(b.html).toBe(a.html);
    expect(a.result.timeline.length).toBeGreaterThan(10);
  });

  it('the seed chooses the addresses the attacker rotates through, and nothing else here', async () => {
    const one = await play('ssh-brute-force', { decisions: 'ssh-deny-range', seed: 1 });
    const two = await play('ssh-brute-force', { decisions: 'ssh-deny-range', seed: 2 });
    const addresses = (p: typeof one) => p.entries('attacker', 'brute').map((e) => /from (198\.51\.100\.\d+)/.exec(e.text)?.[1]);
    expect(addresses(one)).not.toEqual(addresses(two));
    expect(addresses(one).every((a) => a !== undefined)).toBe(true);
    expect(two.result.score).toEqual(one.result.score);
  });

  it('clock.jitter varies the time decisions take, by the seed', async () => {
    const text = `id: jitter
title: Jitter
clock: { automatic: 2m, jitter: 90s }
${ONE_INSTANCE_WORLD}
timeline:
  - at: 1m
${CRYPTO_FINDING}
${ISOLATED_OBJECTIVE}
`;
    const scenario = await loadScenarioText(text, 'jitter.yaml');
    const decided = async (seed: number) => {
      const r = await runExercise({ scenario, auto: true, seed, dir: mkdtempSync(join(tmpdir(), 'fb-jitter-')) });
      return r.timeline.filter((e) => e.kind === 'decision').map((e) => e.t);
    };
    const [one, again, two] = [await decided(1), await decided(1), await decided(2)];
    expect(one.length).toBeGreaterThanOrEqual(2);
    expect(again).toEqual(one);
    expect(two).not.toEqual(one);
    // The run starts with the alert at 1m; every policy decision took 2 minutes give or take 90 seconds.
    const gaps = one.map((t, i) => t - (i === 0 ? 60_000 : one[i - 1]!));
    expect(gaps.every((g) => g >= 30_000 && g <= 210_000)).toBe(true);
  });

  it('every time in the report and the result is a simulated one, inside the exercise', async () => {
    const { markdown, html, json, result } = await report('crypto-mining', { auto: true });
    const [from, to] = [Date.parse(result.start), Date.parse(result.end)];
    for (const text of [markdown, html, json]) {
      const times = [...text.matchAll(/\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z/g)].map((m) => Date.parse(m[0]));
      expect(times.length).toBeGreaterThan(10);
      expect(times.filter((t) => t < from || t > to)).toEqual([]);
    }
  });
});
