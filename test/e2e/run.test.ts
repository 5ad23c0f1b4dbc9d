/**
 * The CLI as a responder uses it, as a separate process, against the simulated cloud.
 * Each test asserts the resulting world, the journal and the exit code.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, cliScripted, journal, mutatingCalls, runIds, tempHome, world } from '../helpers/cli.js';

const INSTANCE = 'i-0abc123def4567890';
const PROTECTED = 'i-0fedcba9876543210';
const run = (home: string, ...extra: string[]) =>
  cli(['run', 'ec2-instance-compromise', '--sim', '--input', `instanceId=${INSTANCE}`, ...extra], { home });

function enisOf(w: any, instanceId: string) {
  return w.ec2.networkInterfaces.filter((n: any) => n.attachment?.instanceId === instanceId);
}
function groupName(w: any, id: string) {
  return w.ec2.securityGroups.find((g: any) => g.id === id)?.name;
}

/** Answers `firebreak approve` gives, by step: steps not listed are approved (or confirmed done). */
const DENY = new Set(['scale-in']); // the demo's web-asg is at its minimum size: keep its capacity

/** Approve (or deny) each step the run waits on, resuming after each, until it waits on `stopAt`. */
async function answerUntil(home: string, id: string, stopAt: string): Promise<string[]> {
  const answered: string[] = [];
  for (let i = 0; i < 20; i++) {
    const waiting = journal(home, id)
      .filter((e) => e.type === 'run.waiting')
      .at(-1)?.step;
    if (waiting === stopAt) return answered;
    answered.push(waiting);
    expect((await cli(['approve', id, waiting, ...(DENY.has(waiting) ? ['--deny'] : [])], { home })).code).toBe(0);
    const resumed = await cli(['resume', id, '--auto'], { home });
    expect(resumed.code, resumed.stderr).toBe(3);
  }
  throw new Error(`run ${id} never waited on ${stopAt}`);
}

describe('firebreak run --auto against the simulated cloud', () => {
  it('isolates every interface, ends the attacker connection, asks before shrinking the group, and waits at the manual task (exit 3)', async () => {
    const home = tempHome();
    const r = await run(home, '--auto');
    expect(r.code, r.stderr).toBe(3);
    const [id] = runIds(home);
    const w = world(home, id!);
    const enis = enisOf(w, INSTANCE);
    expect(enis.length).toBe(2);
    for (const eni of enis) {
      expect(eni.groups.map((g: string) => groupName(w, g))).toEqual(['firebreak-isolation']);
    }
    const iso = w.ec2.securityGroups.find((g: any) => g.name === 'firebreak-isolation');
    expect(iso.ingress).toEqual([]);
    expect(iso.egress).toEqual([]);
    expect(w.ec2.instances.find((i: any) => i.id === INSTANCE).disableApiTermination).toBe(true);
    const attacker = w.ec2.connections.filter((c: any) => c.instanceId === INSTANCE);
    expect(attacker.length).toBeGreaterThan(0);
    expect(attacker.every((c: any) => c.state === 'closed')).toBe(true);

    let events = journal(home, id!);
    expect(events.at(-1)).toMatchObject({ type: 'run.waiting' });
    // web-asg is at its minimum size: taking the instance out changes the group's size, which a person decides.
    expect(events.find((e) => e.type === 'step.failed' && e.step === 'detach')).toMatchObject({
      error: { code: 'GroupAtMinimumSize' },
      handled: true,
    });
    // Two-step swap, one call per interface per step: 4 ModifyNetworkInterfaceAttribute, no ModifyInstanceAttribute Groups.
    const calls = events.filter((e) => e.type === 'aws.call');
    expect(calls.filter((c) => c.operation === 'ModifyNetworkInterfaceAttribute').length).toBe(4);
    expect(calls.every((c) => !(c.operation === 'ModifyInstanceAttribute' && c.input.Groups))).toBe(true);
    expect(events.find((e) => e.type === 'run.identity')).toMatchObject({ account: '111122223333' });
    const applied = events.find((e) => e.type === 'step.applied' && e.step === 'isolate');
    expect(applied.undo.action).toBe('ec2.restore-security-groups');
    expect(applied.undo.input.interfaces.length).toBe(2);

    const answered = await answerUntil(home, id!, 'forensics');
    expect(answered).toContain('scale-in');
    events = journal(home, id!);
    expect(events.filter((e) => e.type === 'run.waiting').at(-1)).toMatchObject({ step: 'forensics', kind: 'manual' });
    expect(events.find((e) => e.type === 'step.completed' && e.step === 'scale-in')).toMatchObject({ status: 'denied' });
    // One CLI process per answer, one after the other.
  }, 180_000);

  it('continues after firebreak approve and firebreak resume, without applying a completed step again', async () => {
    const home = tempHome();
    expect((await run(home, '--auto')).code).toBe(3);
    const [id] = runIds(home);
    await answerUntil(home, id!, 'forensics');
    const approved = await cli(['approve', id!, 'forensics', '--note', 'memory image taken'], { home });
    expect(approved.code, approved.stderr).toBe(0);
    const resumed = await cli(['resume', id!, '--auto'], { home });
    expect(resumed.code, resumed.stderr + resumed.stdout).toBe(0);
    const events = journal(home, id!);
    for (const step of ['preserve', 'isolate', 'snapshot', 'raise-frequency']) {
      expect(events.filter((e) => e.type === 'step.applied' && e.step === step).length).toBe(1);
      expect(events.filter((e) => e.type === 'step.completed' && e.step === step).length).toBe(1);
    }
    expect(events.find((e) => e.type === 'approval.answered' && e.step === 'forensics')).toMatchObject({
      decision: 'approve',
      note: 'memory image taken',
      via: 'approve-command',
    });
    expect(events.at(-1)).toMatchObject({ type: 'run.ended', status: 'succeeded' });
    // The last resumed process made no change to the cloud: everything before it was done.
    const resumedAt = events.map((e) => e.type).lastIndexOf('run.resumed');
    expect(mutatingCalls(events.slice(resumedAt))).toEqual([]);
    const verify = await cli(['audit', 'verify', id!], { home });
    expect(verify.code).toBe(0);
  }, 180_000);

  it('answers an approval while the waiting process is alive (--wait-for-approval)', async () => {
    const home = tempHome();
    const running = run(home, '--auto', '--wait-for-approval', '60s');
    const answered = new Set<string>();
    let id: string | undefined;
    let approved: Awaited<ReturnType<typeof cli>> | undefined;
    for (let i = 0; i < 600 && !answered.has('forensics'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      id ??= runIds(home)[0];
      if (!id || !existsSync(join(home, 'runs', id, 'journal.jsonl'))) continue;
      // Steps whose policy is auto are answered by the policy itself; a person answers the others.
      const asked = journal(home, id)
        .filter((e) => (e.type === 'approval.requested' && e.policy === 'required') || e.type === 'manual.requested')
        .map((e) => e.step);
      const next = asked.find((s) => !answered.has(s));
      if (!next) continue;
      answered.add(next);
      approved = await cli(['approve', id, next, ...(DENY.has(next) ? ['--deny'] : [])], { home });
      expect(approved.code, approved.stderr).toBe(0);
      expect(approved.stdout).toMatch(/waiting process/);
    }
    expect(answered.has('forensics')).toBe(true);
    const r = await running;
    expect(r.code, r.stderr).toBe(0);
    expect(journal(home, id!).at(-1)).toMatchObject({ type: 'run.ended', status: 'succeeded' });
  }, 120_000);

  it('--dry-run plans every step and sends no mutating AWS call', async () => {
    const home = tempHome();
    const r = await run(home, '--dry-run');
    expect(r.code, r.stderr).toBe(0);
    const [id] = runIds(home);
    const events = journal(home, id!);
    expect(mutatingCalls(events)).toEqual([]);
    const ec2Steps = ['isolate', 'preserve', 'snapshot', 'raise-frequency', 'scale-in', 'forensics'];
    expect(events.filter((e) => e.type === 'step.planned' && ec2Steps.includes(e.step)).map((e) => e.step)).toEqual(ec2Steps);
    const w = world(home, id!);
    for (const eni of enisOf(w, INSTANCE)) expect(eni.groups.map((g: string) => groupName(w, g))).not.toContain('firebreak-isolation');
    expect(w.ec2.connections.every((c: any) => c.state === 'open')).toBe(true);
  });

  it("--dry-run shows the step that reads an earlier step's output as 'would run if', planned from that step's plan", async () => {
    const home = tempHome();
    const r = await run(home, '--dry-run');
    expect(r.code, r.stderr).toBe(0);
    const [id] = runIds(home);
    const events = journal(home, id!);
    const revoke = events.filter((e) => e.step === 'revoke-role-sessions');
    const wouldRunIf = { when: expect.stringContaining('take-role'), awaits: ['take-role'], predicted: true };
    // take-role's plan names the role it would take; the revocation is planned on that role.
    expect(events.find((e) => e.type === 'step.completed' && e.step === 'take-role')).toMatchObject({
      predicted: { roleName: 'web-app-role' },
    });
    expect(revoke.find((e) => e.type === 'step.planned')).toMatchObject({
      input: { roleName: 'web-app-role' },
      plan: {
        changes: [{ resource: expect.stringContaining(':role/web-app-role'), field: expect.stringContaining('AWSRevokeOlderSessions') }],
      },
      wouldRunIf,
    });
    expect(revoke.find((e) => e.type === 'step.completed')).toMatchObject({ status: 'planned', wouldRunIf });
    expect(r.stdout + r.stderr).toMatch(/would run if \$type\(\$steps\.`take-role`\.output\.roleName\) = "string"/);
    // Nothing changed in the world.
    expect(mutatingCalls(events)).toEqual([]);
    const role = world(home, id!).iam.roles.find((x: any) => x.name === 'web-app-role');
    expect(Object.keys(role.inlinePolicies)).not.toContain('AWSRevokeOlderSessions');
  });

  it('refuses a protected instance before changing anything', async () => {
    const home = tempHome();
    const r = await cli(['run', 'ec2-instance-compromise', '--sim', '--auto', '--input', `instanceId=${PROTECTED}`], { home });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/protected tag firebreak:protected/);
    const [id] = runIds(home);
    expect(mutatingCalls(journal(home, id!))).toEqual([]);
  });

  it('fails a step with the AWS error code when the instance does not exist', async () => {
    const home = tempHome();
    const r = await cli(['run', 'ec2-instance-compromise', '--sim', '--auto', '--input', 'instanceId=i-00000000000000000'], { home });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/InvalidInstanceID\.NotFound/);
    const [id] = runIds(home);
    expect(journal(home, id!).find((e) => e.type === 'step.failed' && e.step === 'isolate')).toMatchObject({
      error: { code: 'InvalidInstanceID.NotFound' },
    });
  });
});

/** An environment variable the child must not have (spawn leaves out undefined values). */
const UNSET = undefined as unknown as string;

describe('bad input changes nothing (exit 2, no run, no AWS call)', () => {
  it.each([
    [['--input', 'instanceId=web-1'], /instanceId/],
    [['--input', 'instanceid=i-0abc123def4567890'], /instanceid/],
    [[], /instanceId/],
  ])('run with %j', async (inputArgs, message) => {
    const home = tempHome();
    const r = await cli(['run', 'ec2-instance-compromise', '--sim', '--auto', ...inputArgs], { home });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')[0]).toMatch(/^error: /);
    expect(runIds(home)).toEqual([]);
  });

  it('a malformed playbook names file:line:col and creates no run', async () => {
    const home = tempHome();
    const file = join(home, 'broken.yaml');
    writeFileSync(file, 'id: broken\ntitle: Broken\nstart: a\nsteps:\n  a:\n    action: ec2.isolate-instance\n    nxet: b\n');
    const r = await cli(['run', file, '--sim', '--auto'], { home });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:7:5`);
    expect(runIds(home)).toEqual([]);
  });

  it('a run on AWS with no region: exit 2 naming --region, AWS_REGION and the profile, no run folder (and AWS_DEFAULT_REGION is not read)', async () => {
    const home = tempHome();
    writeFileSync(join(home, 'aws-config'), '[default]\noutput = json\n');
    const env = { AWS_REGION: UNSET, AWS_CONFIG_FILE: join(home, 'aws-config'), AWS_DEFAULT_REGION: 'eu-west-1' };
    const r = await cli(['run', 'ec2-instance-compromise', '--auto', '--input', `instanceId=${INSTANCE}`], { home, env });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/no AWS region/);
    expect(r.stderr).toMatch(/--region/);
    expect(r.stderr).toMatch(/AWS_REGION/);
    expect(r.stderr).toMatch(/region in the profile/);
    expect(r.stderr).toMatch(/AWS_DEFAULT_REGION is set \(eu-west-1\) but the AWS SDK for JavaScript v3 does not read it/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(runIds(home)).toEqual([]);
  });

  it("a profile's region counts, as it does for the SDK: the run records it", async () => {
    const home = tempHome();
    writeFileSync(join(home, 'aws-config'), '[profile ir]\nregion = eu-west-3\n');
    const env = { AWS_REGION: UNSET, AWS_CONFIG_FILE: join(home, 'aws-config'), AWS_PROFILE: 'ir' };
    // No credentials and an unroutable endpoint: the run starts, then fails at its first call.
    await cli(['run', 'ec2-instance-compromise', '--auto', '--input', `instanceId=${INSTANCE}`], { home, env });
    const [id] = runIds(home);
    expect(journal(home, id!)[0]).toMatchObject({ type: 'run.started', backend: 'aws', region: 'eu-west-3' });
  }, 60_000);

  it.each([['resume'], ['audit', 'show'], ['audit', 'verify']])('%s with an unknown run id', async (...cmd) => {
    const home = tempHome();
    const r = await cli([...cmd, 'no-such-run'], { home });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no run 'no-such-run'/);
  });
});

describe('interactive run (answers typed at the prompt)', () => {
  it('applies approved steps, skips a skipped one, and records who answered', async () => {
    const home = tempHome();
    const r = await cliScripted(['run', 'ec2-instance-compromise', '--sim', '--interactive', '--input', `instanceId=${INSTANCE}`], {
      home,
      script: [
        { expect: /step 'isolate'/, answer: 's' },
        { expect: /Apply 4 changes of step 'preserve'/, answer: 'y' },
        { expect: /step 'snapshot'/, answer: 'y' },
        { expect: /step 'raise-frequency'/, answer: 'y' },
        // The credential and support steps are skipped here; their own tests drive them.
        { expect: /step 'take-role'/, answer: 's' },
        { expect: /step 'open-case'/, answer: 's' },
        { expect: /step 'scale-in'/, answer: 's' },
        { expect: /Is this task done\?/, answer: 'y' },
      ],
    });
    expect(r.unanswered).toBe(0);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const [id] = runIds(home);
    const w = world(home, id!);
    expect(w.ec2.instances.find((i: any) => i.id === INSTANCE).disableApiTermination).toBe(true);
    for (const eni of enisOf(w, INSTANCE)) expect(eni.groups.map((g: string) => groupName(w, g))).not.toContain('firebreak-isolation');
    const events = journal(home, id!);
    expect(events.find((e) => e.type === 'step.completed' && e.step === 'isolate').status).toBe('skipped');
    const ec2Steps = ['isolate', 'preserve', 'snapshot', 'raise-frequency', 'scale-in', 'forensics'];
    expect(
      events.filter((e) => e.type === 'approval.answered' && ec2Steps.includes(e.step)).map((e) => [e.step, e.decision, e.via]),
    ).toEqual([
      ['isolate', 'skip', 'prompt'],
      ['preserve', 'approve', 'prompt'],
      ['snapshot', 'approve', 'prompt'],
      ['raise-frequency', 'approve', 'prompt'],
      ['scale-in', 'skip', 'prompt'],
      ['forensics', 'approve', 'prompt'],
    ]);
  });

  it('abort at a prompt stops the run (exit 1) with nothing applied after it', async () => {
    const home = tempHome();
    const r = await cliScripted(['run', 'ec2-instance-compromise', '--sim', '--interactive', '--input', `instanceId=${INSTANCE}`], {
      home,
      script: [{ expect: /step 'isolate'/, answer: 'q' }],
    });
    expect(r.code).toBe(1);
    const [id] = runIds(home);
    const events = journal(home, id!);
    expect(mutatingCalls(events)).toEqual([]);
    expect(events.at(-1)).toMatchObject({ type: 'run.ended', status: 'aborted' });
  });
});

describe('firebreak audit verify', () => {
  it.each([
    [
      'an edited field',
      (lines: string[]) => {
        lines[2] = lines[2]!.replace(/"ts":"[^"]+"/, '"ts":"2020-01-01T00:00:00.000Z"');
        return lines;
      },
      3,
    ],
    [
      'a deleted line',
      (lines: string[]) => {
        lines.splice(3, 1);
        return lines;
      },
      4,
    ],
    [
      'two lines swapped',
      (lines: string[]) => {
        [lines[3], lines[4]] = [lines[4]!, lines[3]!];
        return lines;
      },
      4,
    ],
  ])('detects %s', async (_what, tamper, badLine) => {
    const home = tempHome();
    await run(home, '--auto');
    const [id] = runIds(home);
    const file = join(home, 'runs', id!, 'journal.jsonl');
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    writeFileSync(file, `${tamper(lines).join('\n')}\n`);
    const r = await cli(['audit', 'verify', id!], { home });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`line ${badLine}\\b`));
  });
});
