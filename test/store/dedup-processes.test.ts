/**
 * Exactly one run per alert across processes: `firebreak trigger` children, each with a home of
 * its own (as separate machines would be), deliver alerts at once through the AWS store; the
 * dedup claim in the table (a conditional put) lets one start each run and counts the others.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cliEnv, tempHome } from '../helpers/cli.js';
import { eventOf } from '../../src/store/types.js';
import { fixture } from '../triggers/helpers.js';
import { startStoreServers, type StoreServers } from './harness.js';

// A run that starts and ends: what is under test is how many runs start, not what they do.
const NOOP_PLAYBOOK = `id: note-alert
title: Note an alert (test)
inputs:
  instanceId: { type: string, pattern: '^i-[0-9a-f]{8,17}$', required: true }
start: done
steps:
  done:
    type: end
`;

let s: StoreServers;
beforeAll(async () => {
  s = await startStoreServers();
});
afterAll(async () => {
  await s?.close();
});

/** A project folder: the store's config, a routing table to the no-op playbook, and the alert document. */
function project(findings: unknown[]): { dir: string; doc: string } {
  const dir = s.folder();
  writeFileSync(join(dir, 'note-alert.yaml'), NOOP_PLAYBOOK);
  writeFileSync(
    join(dir, 'routes.yaml'),
    `routes:\n  - name: any\n    match: { minSeverity: 5 }\n    playbook: ${join(dir, 'note-alert.yaml')}\n    inputs: { instanceId: '{% resources.instanceIds[0] %}' }\n`,
  );
  const doc = join(dir, 'findings.json');
  writeFileSync(doc, JSON.stringify({ Findings: findings }));
  return { dir, doc };
}

const finding = (n: number) => {
  const f = fixture('guardduty-bitcoin-dns.eventbridge.json').detail;
  f.id = `${f.id.slice(0, 24)}${String(n).padStart(8, '0')}`;
  f.arn = f.arn.replace(/finding\/.*$/, `finding/${f.id}`);
  return f;
};

interface Outcome {
  outcome: string;
  runId: string;
  repeat?: number;
  journaled?: boolean;
}

/** `firebreak trigger --event FILE --json` in a process of its own with a home of its own. */
function trigger(dir: string, doc: string): Promise<{ code: number | null; outcomes: Outcome[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'trigger', '--event', doc, '--sim', '--json'], {
      cwd: dir,
      env: cliEnv(tempHome(), s.env),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        resolve({ code, outcomes: JSON.parse(stdout) as Outcome[], stderr });
      } catch {
        reject(new Error(`trigger printed no JSON (exit ${code}): ${stderr}`));
      }
    });
  });
}

const shuffled = <T>(xs: T[]): T[] => {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
};

describe('dedup across processes with store: aws', () => {
  it('one delivery of an alert by 20 processes at once: one run; the others counted on its claim, none journaled twice', {
    timeout: 120_000,
  }, async () => {
    const { dir, doc } = project([finding(0)]);
    const results = await Promise.all(Array.from({ length: 20 }, () => trigger(dir, doc)));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const outcomes = results.flatMap((r) => r.outcomes);
    expect(outcomes.filter((o) => o.outcome === 'started').length).toBe(1);
    // One document, so one delivery: while the run starts it is a repeat the claim counts; once the
    // run is in the table, the same delivery is recognised there as a duplicate.
    expect(outcomes.filter((o) => o.outcome === 'repeated' || o.outcome === 'duplicate').length).toBe(19);
    expect(new Set(outcomes.map((o) => o.runId)).size).toBe(1);
    const runId = outcomes[0]!.runId;
    const counted = outcomes.filter((o) => o.outcome === 'repeated').map((o) => o.repeat!);
    expect(new Set(counted).size).toBe(counted.length);
    expect(counted.every((n) => n >= 1 && n <= 19)).toBe(true);
    const events = (await s.store().readEvents(runId)).map(eventOf);
    expect(events.filter((e) => e.type === 'alert.repeated')).toEqual([]);
    const runs = await s.store().listRuns();
    expect(runs.filter((r) => r.runId === runId).map((r) => r.fields.status)).toEqual(['succeeded']);
  });

  // The full size. Every repeat is journaled on its run when no other process holds it (about
  // ten requests and a lease each): 100 alerts × 20 processes took 152 s on 2 shared cores under a load
  // average of 15 (30 alerts: 52 s); DEDUP_ALERTS=N runs a smaller one.
  const ALERTS = Number(process.env.DEDUP_ALERTS ?? 100);
  const PROCESSES = 20;
  it(`${ALERTS} alerts, each delivered by ${PROCESSES} processes in its own order: exactly ${ALERTS} runs, each alert once`, {
    timeout: 600_000,
  }, async () => {
    const findings = Array.from({ length: ALERTS }, (_, i) => finding(i + 1));
    const before = new Set((await s.store().listRuns()).map((r) => r.runId));
    const t0 = performance.now();
    const results = await Promise.all(
      Array.from({ length: PROCESSES }, () => {
        const { dir, doc } = project(shuffled(findings));
        return trigger(dir, doc);
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const outcomes = results.flatMap((r) => r.outcomes);
    const started = outcomes.filter((o) => o.outcome === 'started').map((o) => o.runId);
    expect(started.length).toBe(ALERTS);
    expect(new Set(started).size).toBe(ALERTS);
    expect(outcomes.filter((o) => o.outcome === 'repeated').length).toBe(ALERTS * (PROCESSES - 1));
    const runs = (await s.store().listRuns()).filter((r) => !before.has(r.runId));
    expect(runs.map((r) => r.runId).sort()).toEqual([...started].sort());
    expect(runs.every((r) => r.fields.status === 'succeeded')).toBe(true);
    // Each delivery had its own document, so each repeat is a new delivery: journaled on its run
    // when no other process held the run's lease, never twice, numbered 1..n on each run.
    const journaled = outcomes.filter((o) => o.outcome === 'repeated' && o.journaled);
    let lines = 0;
    for (const runId of started) {
      const repeats = (await s.store().readEvents(runId)).map(eventOf).filter((e) => e.type === 'alert.repeated');
      expect(repeats.map((e) => e.repeat)).toEqual(repeats.map((_, i) => i + 1));
      expect(new Set(repeats.map((e) => e.deliveryId)).size).toBe(repeats.length);
      lines += repeats.length;
    }
    expect(lines).toBe(journaled.length);
    console.log(
      `${PROCESSES} processes × ${ALERTS} alerts: ${ALERTS} runs, ${outcomes.length - ALERTS} repeats (${journaled.length} journaled), ${seconds.toFixed(1)} s`,
    );
  });
});
