/**
 * The CLI in separate processes against the AWS store's doubles: dynalite and the simulated S3,
 * each served on loopback and reached through the SDK's standard endpoint variables. Every
 * command after the first runs in a working folder of its own, with no run folder there.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { BIN, cli, cliEnv } from '../helpers/cli.js';
import { startStoreServers, type StoreServers } from './harness.js';
import { eventOf } from '../../src/store/types.js';

const INSTANCE = 'i-0abc123def4567890';
const STORE_ERROR = /failed to (append|seal|read|answer|list|record|put|claim|acquire|renew|release)/;
let s: StoreServers;
beforeAll(async () => {
  s = await startStoreServers();
});
afterAll(async () => {
  await s?.close();
});

const at = (folder: string) => ({ home: join(folder, '.firebreak'), cwd: folder, env: s.env });

describe('the CLI with store: aws, across processes and working folders', () => {
  it('a run waits; approve from a second folder, resume from a third; runs, audit verify and report from a fourth', async () => {
    const first = s.folder();
    const started = await cli(
      ['run', 'ec2-instance-compromise', '--sim', '--auto', '--input', `instanceId=${INSTANCE}`, '--json'],
      at(first),
    );
    expect(started.stderr).not.toMatch(STORE_ERROR);
    expect(started.code).toBe(3);
    const waiting = JSON.parse(started.stdout) as { runId: string; status: string; waitingStep?: string };
    const runId = waiting.runId;
    expect(waiting.status).toBe('waiting');

    const aws = s.store();
    let step = String(waiting.waitingStep);
    expect((await aws.readApproval(runId, step))?.status).toBe('pending');

    const approver = s.folder();
    for (let round = 0; round < 5; round++) {
      const a = await cli(['approve', runId, step, '--note', `round ${round}`], at(approver));
      expect(a.stderr).toBe('');
      expect(a.code).toBe(0);
      expect(a.stdout).toContain(`approved step ${step} of run ${runId}`);
      expect(existsSync(join(approver, '.firebreak', 'runs'))).toBe(false);
      // A second answer does not replace the first.
      const again = await cli(['approve', runId, step, '--deny'], at(approver));
      expect(again.code).toBe(2);
      expect(again.stderr).toMatch(/already answered: approve by/);

      // The simulated cloud of a --sim run lives in the first machine's run folder (world.json): the
      // resume uses that home for the cloud, from a third working folder, with the journal's working
      // copy deleted — the journal comes back from the table.
      const runDir = join(first, '.firebreak', 'runs', runId);
      for (const f of readdirSync(runDir)) if (f.startsWith('journal')) rmSync(join(runDir, f));
      const resumer = s.folder();
      const r = await cli(['resume', runId, '--auto', '--json'], { ...at(resumer), home: join(first, '.firebreak') });
      expect(r.stderr).not.toMatch(STORE_ERROR);
      const res = JSON.parse(r.stdout) as { status: string; waitingStep?: string };
      if (res.status === 'succeeded') {
        expect(r.code).toBe(0);
        break;
      }
      expect(r.code).toBe(3);
      step = String(res.waitingStep);
    }
    const events = (await aws.readEvents(runId)).map(eventOf);
    expect(events.at(-1)).toMatchObject({ type: 'run.ended', status: 'succeeded' });
    const answered = events.filter((e) => e.type === 'approval.answered' && e.via === 'approve-command');
    expect(answered.length).toBeGreaterThan(0);
    for (const e of answered) expect(e.by).toMatch(/\S/);
    expect(answered.map((e) => e.note)).toContain('round 0');

    const auditor = s.folder();
    const runs = await cli(['runs', '--json'], at(auditor));
    expect(runs.code).toBe(0);
    expect(JSON.parse(runs.stdout)).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: runId, status: 'succeeded', playbook: 'ec2-instance-compromise' })]),
    );
    const verify = await cli(['audit', 'verify', runId], at(auditor));
    expect(verify.stderr).toBe('');
    expect(verify.code).toBe(0);
    const n = events.length;
    expect(verify.stdout).toMatch(
      new RegExp(`^ok: ${n} events in table ${s.config.table}, events 1–${n} sealed in \\d+ digests under Object Lock`),
    );
    // The seals are objects in the simulated bucket, served to the auditor over HTTP.
    const sealed = Object.keys(s.cloud.world.s3.buckets[0]!.objects).filter((k) => k.startsWith(`runs/${runId}/digests/`));
    expect(sealed.length).toBeGreaterThanOrEqual(2);
    const report = await cli(['report', runId], at(auditor));
    expect(report.code).toBe(0);
    expect(report.stdout).toContain(runId);
    expect(report.stdout).toContain('ec2-instance-compromise');
    expect(existsSync(join(auditor, '.firebreak', 'runs'))).toBe(false);
  });

  it('a process waiting with --wait-for-approval continues when someone approves from another folder', { timeout: 120_000 }, async () => {
    const first = s.folder();
    const child = spawn(
      process.execPath,
      [
        BIN,
        'run',
        'ec2-instance-compromise',
        '--sim',
        '--auto',
        '--wait-for-approval',
        '90s',
        '--input',
        `instanceId=${INSTANCE}`,
        '--json',
      ],
      { cwd: first, env: cliEnv(join(first, '.firebreak'), s.env) },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    let code: number | null | undefined;
    const closed = new Promise<void>((r) =>
      child.on('close', (c) => {
        code = c;
        r();
      }),
    );
    const aws = s.store();
    const approver = s.folder();
    const approved: string[] = [];
    while (code === undefined) {
      const runId = /▶ run (\S+)/.exec(stderr)?.[1];
      const pending = runId ? (await aws.listApprovals(runId)).filter((a) => a.status === 'pending') : [];
      for (const a of pending) {
        const r = await cli(['approve', runId!, a.key], at(approver));
        expect(r.code, r.stderr).toBe(0);
        approved.push(a.key);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    await closed;
    expect(code, stderr).toBe(0);
    const { runId, status } = JSON.parse(stdout) as { runId: string; status: string };
    expect(status).toBe('succeeded');
    expect(approved.length).toBeGreaterThan(0);
    const events = (await aws.readEvents(runId)).map(eventOf);
    const byCommand = events.filter((e) => e.type === 'approval.answered' && e.via === 'approve-command').map((e) => String(e.step));
    expect(byCommand.sort()).toEqual(approved.sort());
    // The same process went on: it never stopped and resumed.
    expect(events.filter((e) => e.type === 'run.waiting' || e.type === 'run.resumed')).toEqual([]);
  });
});
