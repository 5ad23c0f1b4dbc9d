/**
 * The iam-credential-compromise playbook through the CLI, as a responder runs it, against a
 * simulated account with a leaked deploy key, an instance role with a live session, and no
 * Business support plan.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { cli, journal, mutatingCalls, runIds, tempHome, world } from '../helpers/cli.js';
import { LEAKED_KEY, OTHER_KEY, WORLD_YAML } from '../actions/iam-harness.js';

function setup(edit?: (w: any) => void) {
  const home = tempHome('fb-iam-pb-');
  const w = parse(WORLD_YAML);
  w.support.plan = 'basic';
  edit?.(w);
  const file = join(home, 'world.yaml');
  writeFileSync(file, stringify(w));
  return { home, file };
}
const run = (s: { home: string; file: string }, ...args: string[]) =>
  cli(['run', 'iam-credential-compromise', '--sim', s.file, ...args], { home: s.home });
/** The run's last state event (who-is-acting and AWS call records may follow it). */
const lastState = (events: Array<{ type: string; [k: string]: any }>) =>
  [...events].reverse().find((e) => e.type !== 'aws.call' && e.type !== 'run.identity')!;
const keyOf = (w: any, user: string, id: string) => w.iam.users.find((u: any) => u.name === user).accessKeys.find((k: any) => k.id === id);

describe('iam-credential-compromise', () => {
  it('--auto with an AKIA key: deactivates it, waits for a person before the quarantine, then runs to the end as tasks are confirmed', async () => {
    const s = setup();
    const first = await run(s, '--auto', '--input', `accessKeyId=${LEAKED_KEY}`);
    expect(first.code, first.stderr).toBe(3);
    const [runId] = runIds(s.home);
    let w = world(s.home, runId!);
    expect(keyOf(w, 'deploy-bot', LEAKED_KEY).status).toBe('Inactive');
    expect(keyOf(w, 'deploy-bot', OTHER_KEY).status).toBe('Inactive'); // it was already; untouched
    expect(w.iam.users.find((u: any) => u.name === 'deploy-bot').attachedPolicies).toEqual([]);
    let events = journal(s.home, runId!);
    expect(lastState(events)).toMatchObject({ type: 'run.waiting', step: 'quarantineUser', kind: 'approval' });
    expect(mutatingCalls(events)).toEqual(['iam:UpdateAccessKey']);
    expect(events.find((e) => e.type === 'step.applied' && e.step === 'disableKey')).toMatchObject({
      output: { userName: 'deploy-bot', lastUsed: { date: '2025-12-31T23:41:00.000Z', service: 'ec2', region: 'us-east-1' } },
      undo: { action: 'iam.enable-access-key', input: { accessKeyId: LEAKED_KEY, userName: 'deploy-bot' } },
    });

    // A person approves each waiting step; the run resumes until it ends.
    const waited: string[] = [];
    for (let i = 0; i < 6; i++) {
      const last = lastState(journal(s.home, runId!));
      if (last.type !== 'run.waiting') break;
      waited.push(`${last.step}:${last.kind}`);
      expect((await cli(['approve', runId!, last.step, '--note', 'done'], { home: s.home })).code).toBe(0);
      await cli(['resume', runId!, '--auto'], { home: s.home });
    }
    expect(waited).toEqual(['quarantineUser:approval', 'openCase:manual', 'reviewCloudTrail:manual', 'rotateSecrets:manual']);
    events = journal(s.home, runId!);
    expect(lastState(events)).toMatchObject({ type: 'run.ended', status: 'succeeded' });
    w = world(s.home, runId!);
    expect(w.iam.users.find((u: any) => u.name === 'deploy-bot').attachedPolicies).toEqual(['arn:aws:iam::aws:policy/AWSDenyAll']);
    // No Business support: no CreateCase, the case text went to a person instead.
    expect(w.support.cases).toEqual([]);
    const manual = events.find((e) => e.type === 'step.manual' && e.step === 'openCase');
    expect(manual.task.instructions).toContain('https://support.console.aws.amazon.com/support/home#/case/create');
    expect(manual.task.instructions).toContain(`Subject: Security incident ${runId}: leaked access key ${LEAKED_KEY}`);
    const review = events.find((e) => e.type === 'manual.requested' && e.step === 'reviewCloudTrail');
    expect(review.instructions).toContain(
      `aws cloudtrail lookup-events --region "$region" --lookup-attributes AttributeKey=AccessKeyId,AttributeValue=${LEAKED_KEY}`,
    );
    const rotate = events.find((e) => e.type === 'manual.requested' && e.step === 'rotateSecrets');
    expect(rotate.instructions).toContain(
      'aws iam simulate-principal-policy --policy-source-arn arn:aws:iam::111122223333:user/deploy-bot',
    );
    expect(mutatingCalls(events)).toEqual(['iam:UpdateAccessKey', 'iam:AttachUserPolicy']);
    expect((await cli(['audit', 'verify', runId!], { home: s.home })).code).toBe(0);
  }, 180_000); // ten CLI processes in a row

  it('--dry-run plans every step and changes nothing', async () => {
    const s = setup();
    const r = await run(s, '--dry-run', '--input', `accessKeyId=${LEAKED_KEY}`);
    expect(r.code, r.stderr).toBe(0);
    const [runId] = runIds(s.home);
    const events = journal(s.home, runId!);
    expect(mutatingCalls(events)).toEqual([]);
    expect(lastState(events)).toMatchObject({ type: 'run.ended', status: 'planned' });
    const planned = events.filter((e) => e.type === 'step.planned').map((e) => e.step);
    expect(planned).toEqual(['lookupKey', 'disableKey', 'quarantineUser', 'openCase', 'reviewCloudTrail', 'rotateSecrets']);
    expect(events.find((e) => e.type === 'step.planned' && e.step === 'quarantineUser').plan.changes[0]).toMatchObject({
      after: ['arn:aws:iam::aws:policy/AWSDenyAll'],
    });
    const w = world(s.home, runId!);
    expect(keyOf(w, 'deploy-bot', LEAKED_KEY).status).toBe('Active');
  });

  it('--auto with a role: revokes its sessions (the instance credentials die), then waits at the manual tasks', async () => {
    const s = setup();
    const r = await run(s, '--auto', '--input', 'roleName=web-app-role', '--input', 'accessKeyId=ASIAEXAMPLEWEB1IMDS0');
    expect(r.code, r.stderr).toBe(3);
    const [runId] = runIds(s.home);
    const events = journal(s.home, runId!);
    expect(events.find((e) => e.type === 'choice.taken' && e.step === 'classify')).toMatchObject({ next: 'revokeSessions' });
    expect(mutatingCalls(events)).toEqual(['iam:PutRolePolicy']);
    const w = world(s.home, runId!);
    const doc = JSON.parse(w.iam.roles.find((x: any) => x.name === 'web-app-role').inlinePolicies.AWSRevokeOlderSessions);
    expect(doc.Statement).toMatchObject({ Effect: 'Deny', Action: '*', Resource: '*' });
    expect(lastState(events)).toMatchObject({ type: 'run.waiting', step: 'openCase', kind: 'manual' });
  });

  it('an ASIA key alone asks a person to find its role in CloudTrail', async () => {
    const s = setup();
    const r = await run(s, '--auto', '--input', 'accessKeyId=ASIAEXAMPLEWEB1IMDS0');
    expect(r.code, r.stderr).toBe(3);
    const [runId] = runIds(s.home);
    const events = journal(s.home, runId!);
    expect(lastState(events)).toMatchObject({ type: 'run.waiting', step: 'findRole', kind: 'manual' });
    expect(mutatingCalls(events)).toEqual([]);
  });

  it.each([
    ['no credential at all', [], 1, /run .*: failed/],
    ['a malformed key', ['--input', 'accessKeyId=AKIA-not-a-key'], 2, /accessKeyId/],
  ])('%s: rejected, nothing changes', async (_name, args, code, message) => {
    const s = setup();
    const r = await run(s, '--auto', ...args);
    expect(r.code).toBe(code);
    expect(r.stdout + r.stderr).toMatch(message);
    for (const id of runIds(s.home)) expect(mutatingCalls(journal(s.home, id))).toEqual([]);
  });
});
