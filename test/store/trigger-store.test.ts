/**
 * Alerts with store: aws across processes: a repeat of an alert is journaled on its stored run
 * (under the run's lease, so the journal keeps one writer) and read back by `audit show`, `runs`
 * and `audit verify` from another folder; the same delivery again is a duplicate; and the same
 * delivery of a run whose process was killed takes the expired lease over and resumes the run.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JournalEvent } from '../../src/audit/journal.js';
import { eventOf } from '../../src/store/types.js';
import { BIN, cli, cliEnv, ROOT, tempHome } from '../helpers/cli.js';
import { fixture } from '../triggers/helpers.js';
import { startStoreServers, type StoreServers } from './harness.js';

const PLAYBOOK = `id: contain-three
title: Protect, isolate, snapshot (test)
inputs:
  instanceId: { type: string, pattern: '^i-[0-9a-f]{8,17}$', required: true }
start: preserve
steps:
  preserve:
    action: ec2.enable-termination-protection
    with: { instanceId: '{% $inputs.instanceId %}' }
    approval: auto
    next: isolate
  isolate:
    action: ec2.isolate-instance
    with: { instanceId: '{% $inputs.instanceId %}' }
    approval: auto
    next: snapshot
  snapshot:
    action: ec2.forensic-snapshots
    with: { instanceId: '{% $inputs.instanceId %}', round: 1 }
    approval: auto
    next: done
  done:
    type: end
`;

let s: StoreServers;
beforeAll(async () => {
  s = await startStoreServers({ leaseSeconds: 5 });
});
afterAll(async () => {
  await s?.close();
});

/** A project folder: the store's config, the playbook, a route to it, the demo world. */
function project(): string {
  const dir = s.folder();
  writeFileSync(join(dir, 'contain-three.yaml'), PLAYBOOK);
  writeFileSync(
    join(dir, 'routes.yaml'),
    `routes:\n  - name: any\n    match: { minSeverity: 5 }\n    playbook: ${join(dir, 'contain-three.yaml')}\n    inputs: { instanceId: '{% resources.instanceIds[0] %}' }\n`,
  );
  writeFileSync(join(dir, 'demo.yaml'), readFileSync(join(ROOT, 'worlds/demo.yaml'), 'utf8'));
  return dir;
}

/** One delivery of the finding: a document of its own (its text is the delivery id), `count` as GuardDuty re-publishes it. */
function delivery(dir: string, name: string, id: string, count: number): string {
  const f = fixture('guardduty-bitcoin-dns.eventbridge.json').detail;
  f.id = `${f.id.slice(0, 24)}${id}`;
  f.arn = f.arn.replace(/finding\/.*$/, `finding/${f.id}`);
  f.service.count = count;
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify({ Findings: [f] }));
  return file;
}

interface Outcome {
  outcome: string;
  runId: string;
  repeat?: number;
  journaled?: boolean;
  resumed?: boolean;
  status?: string;
}

function trigger(dir: string, doc: string, env: Record<string, string> = {}, home = tempHome()) {
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; outcomes: Outcome[]; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'trigger', '--event', doc, '--sim', join(dir, 'demo.yaml'), '--json'], {
      cwd: dir,
      env: cliEnv(home, { ...s.env, ...env }),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      let outcomes: Outcome[] = [];
      try {
        outcomes = stdout ? (JSON.parse(stdout) as Outcome[]) : [];
      } catch {
        reject(new Error(`trigger printed no JSON (exit ${code}): ${stderr}`));
      }
      resolve({ code, signal, outcomes, stderr });
    });
  });
}

const table = async (id: string): Promise<JournalEvent[]> => (await s.store().readEvents(id)).map(eventOf);
const fromElsewhere = (args: string[]) => {
  const dir = s.folder();
  return cli(args, { home: join(dir, '.firebreak'), cwd: dir, env: s.env });
};

describe('a repeated alert with store: aws', () => {
  it('is journaled on the stored run, read by audit show, runs and audit verify elsewhere; the same delivery again is a duplicate', {
    timeout: 120_000,
  }, async () => {
    const dir = project();
    const first = await trigger(dir, delivery(dir, 'first.json', '00000101', 1));
    expect(first.code, first.stderr).toBe(0);
    expect(first.outcomes).toMatchObject([{ outcome: 'started' }]);
    const id = first.outcomes[0]!.runId;

    const again = delivery(dir, 'again.json', '00000101', 7);
    const repeat = await trigger(dir, again);
    expect(repeat.code, repeat.stderr).toBe(0);
    expect(repeat.outcomes).toMatchObject([{ outcome: 'repeated', runId: id, journaled: true, repeat: 1 }]);
    const events = await table(id);
    expect(events.filter((e) => e.type === 'alert.repeated')).toMatchObject([{ repeat: 1, count: 7 }]);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));

    // The same delivery a second time is recognised from the stored journal: nothing is added.
    const dup = await trigger(dir, again);
    expect(dup.outcomes).toMatchObject([{ outcome: 'duplicate', runId: id }]);
    expect((await table(id)).length).toBe(events.length);

    const show = await fromElsewhere(['audit', 'show', id, '--json']);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain('"alert.repeated"');
    const verify = await fromElsewhere(['audit', 'verify', id]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    // The repeat was sealed with the rest: every line is under Object Lock.
    expect(verify.stdout).toMatch(new RegExp(`^ok: ${events.length} events in table`));
    expect(verify.stdout).not.toMatch(/not yet sealed|unsealed/);
    const runs = await fromElsewhere(['runs', '--json']);
    expect(runs.code, runs.stderr).toBe(0);
    expect(runs.stdout).toContain(id);
  });
});

describe('a redelivery of an alert whose run was killed, with store: aws', () => {
  it('takes the expired lease over and resumes the run: it succeeds, no step applied twice', { timeout: 120_000 }, async () => {
    const dir = project();
    const doc = delivery(dir, 'finding.json', '00000202', 1);
    // Killed once line 12 of the run's journal is in the table (the trigger log is local: its lines are few).
    const home = tempHome();
    const killed = await trigger(dir, doc, { FIREBREAK_CRASH_AFTER_LINE: '12' }, home);
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    const id = readdirSync(join(home, 'runs'))[0]!;
    const atKill = await table(id);
    expect(atKill.length).toBe(12);
    expect(atKill.some((e) => e.type === 'run.ended')).toBe(false);

    // While the dead writer's lease is live the delivery is a repeat the run is busy with; once it expired, a resume.
    // The same host receives it again (a server's spool after a restart, a retried invocation): a
    // rehearsal's world killed before its first seal is only in that host's working copy.
    let again = await trigger(dir, doc, {}, home);
    for (let i = 0; i < 20 && again.outcomes[0]?.outcome !== 'started'; i++) {
      expect(again.outcomes[0], again.stderr).toMatchObject({ runId: id });
      await new Promise((r) => setTimeout(r, 1000));
      again = await trigger(dir, doc, {}, home);
    }
    expect(again.code, again.stderr).toBe(0);
    expect(again.outcomes).toMatchObject([{ outcome: 'started', runId: id, status: 'succeeded' }]);

    const after = await table(id);
    expect(after.slice(0, atKill.length)).toEqual(atKill);
    expect(after.map((e) => e.seq)).toEqual(after.map((_, i) => i + 1));
    expect(after.filter((e) => e.type === 'run.resumed').length).toBe(1);
    expect(after.at(-1)).toMatchObject({ type: 'run.ended', status: 'succeeded' });
    const applied = after.filter((e) => e.type === 'step.applied').map((e) => String(e.step));
    expect(new Set(applied).size).toBe(applied.length);
    expect(
      after
        .filter((e) => e.type === 'step.completed')
        .map((e) => e.step)
        .sort(),
    ).toEqual(['isolate', 'preserve', 'snapshot']);
    const verify = await fromElsewhere(['audit', 'verify', id]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });
});
