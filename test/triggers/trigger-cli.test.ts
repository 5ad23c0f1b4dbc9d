/**
 * `firebreak trigger` as a process against the simulated cloud: a finding starts its run, repeats
 * join it, unrouted alerts are ignored with the reason, bad input starts nothing (exit 2), two
 * processes given the same finding start one run, two alerts about one instance take turns, and a
 * waiting run notifies people.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, cli, cliEnv, journal, mutatingCalls, ROOT, runIds, tempHome, world } from '../helpers/cli.js';
import { FIXTURES, gdEvent, PAUSING_PLAYBOOK, routeAllTo, scratch } from './helpers.js';

/**
 * A small playbook of this test's own (the shipped playbooks grow): preserve (auto), isolate
 * (policy set by the route), a manual forensic task.
 */
const TINY_PLAYBOOK = `id: tiny-contain
title: Contain an instance (test)
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
    approval: required
    next: forensics
  forensics:
    type: manual
    title: Collect volatile evidence
    instructions: Capture memory before anyone reboots the instance.
    next: done
  done:
    type: end
`;

function tinyProject(): string {
  const dir = scratch({ 'tiny-contain.yaml': TINY_PLAYBOOK });
  writeFileSync(
    join(dir, 'routes.yaml'),
    `routes:
  - name: crypto-mining
    match: { source: [guardduty, securityhub], type: ['CryptoCurrency:EC2/*'], minSeverity: 5 }
    playbook: ${join(dir, 'tiny-contain.yaml')}
    inputs: { instanceId: '{% resources.instanceIds[0] %}' }
    approval: { isolate: auto }
  - name: instance-credentials
    match: { source: guardduty, type: 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.*' }
    playbook: ${join(dir, 'tiny-contain.yaml')}
    inputs: { instanceId: '{% resources.instanceIds[0] %}' }
  - name: ssh-brute-force-from-instance
    match: { source: guardduty, type: 'UnauthorizedAccess:EC2/SSHBruteForce', minSeverity: 5 }
    playbook: ${join(dir, 'tiny-contain.yaml')}
    inputs: { instanceId: '{% resources.instanceIds[0] %}' }
`,
  );
  return dir;
}

let project: string;
// Runs the built CLI (npm test builds first, as for the other end-to-end tests).
beforeAll(() => {
  project = tinyProject();
});

const routesOf = (extra: string[]) => (extra.includes('--routes') ? [] : ['--routes', join(project, 'routes.yaml')]);
const trigger = (home: string, event: string, ...extra: string[]) =>
  cli(['trigger', '--event', event, '--sim', ...routesOf(extra), ...extra], { home });
const triggerStdin = (home: string, event: unknown, ...extra: string[]) =>
  cli(['trigger', '--event', '-', '--sim', ...routesOf(extra), ...extra], { home, stdin: JSON.stringify(event) });
const logOf = (home: string) =>
  existsSync(join(home, 'triggers.jsonl'))
    ? readFileSync(join(home, 'triggers.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
    : [];
const INSTANCE = 'i-0abc123def4567890';

describe('firebreak trigger', () => {
  it('starts the routed playbook for a GuardDuty finding with the route approvals, and says what waits on whom', async () => {
    const home = tempHome();
    const r = await trigger(home, join(FIXTURES, 'guardduty-bitcoin-dns.eventbridge.json'));
    expect(r.code, r.stderr).toBe(3);
    const [id, ...others] = runIds(home);
    expect(others).toEqual([]);
    expect(id).toMatch(/^gd-[0-9a-f]{12}$/);
    const events = journal(home, id!);
    const started = events.find((e) => e.type === 'run.started');
    expect(started).toMatchObject({
      runId: id,
      inputs: { instanceId: INSTANCE },
      approvalOverrides: { isolate: 'auto' },
      trigger: {
        via: 'cli',
        route: 'crypto-mining',
        deliveryId: 'eventbridge:5a1e3b2c-7d4f-6a8b-9c0d-1e2f3a4b5c6d',
        alert: {
          type: 'CryptoCurrency:EC2/BitcoinTool.B!DNS',
          dedupKey: 'guardduty:111122223333:us-east-1:9cb7a1e3f2d84b6a8c0e5f1d2a3b4c5d',
        },
      },
    });
    expect(started.trigger.event['detail-type']).toBe('GuardDuty Finding');
    // Contained unattended by the route's policy; the forensics task waits for a person.
    const w = world(home, id!);
    expect(w.ec2.instances.find((i: any) => i.id === INSTANCE).disableApiTermination).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'run.waiting', step: 'forensics', kind: 'manual' });
    expect(r.stdout).toContain('What happened');
    expect(r.stdout).toContain(`firebreak approve ${id} forensics --note`);
    expect(logOf(home).map((e) => e.type)).toEqual(['alert.started']);
    expect((await cli(['audit', 'verify', join(home, 'triggers.jsonl')], { home })).code).toBe(0);
  });

  it('same finding three times (count 1, 2, 3): one run, its journal shows 2 repeats, and a redelivery is a duplicate', {
    timeout: 90_000,
  }, async () => {
    const home = tempHome();
    const deliveries = [1, 2, 3].map((count) => gdEvent({ count, eventId: `delivery-${count}` }));
    const codes: Array<number | null> = [];
    for (const d of deliveries) codes.push((await triggerStdin(home, d)).code);
    expect(codes).toEqual([3, 0, 0]);
    const again = await triggerStdin(home, deliveries[2]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/already recorded/);
    const ids = runIds(home);
    expect(ids.length).toBe(1);
    const events = journal(home, ids[0]!);
    expect(events.filter((e) => e.type === 'run.started').length).toBe(1);
    const repeats = events.filter((e) => e.type === 'alert.repeated');
    expect(repeats.map((e) => [e.repeat, e.count, e.deliveryId])).toEqual([
      [1, 2, 'eventbridge:delivery-2'],
      [2, 3, 'eventbridge:delivery-3'],
    ]);
    // The repeats changed nothing in the cloud: every change belongs to the first delivery.
    const firstRepeat = events.indexOf(repeats[0]);
    expect(mutatingCalls(events.slice(firstRepeat))).toEqual([]);
    expect(logOf(home).map((e) => e.type)).toEqual(['alert.started', 'alert.repeated', 'alert.repeated', 'alert.duplicate']);
    expect((await cli(['audit', 'verify', ids[0]!], { home })).code).toBe(0);
  });

  it('ignores an alert no route matches: exit 0, the reason shown and journaled, nothing started', async () => {
    const home = tempHome();
    const r = await trigger(home, join(FIXTURES, 'guardduty-ssh-brute-force.raw.json'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/ignored UnauthorizedAccess:EC2\/SSHBruteForce .*ssh-brute-force-from-instance: severity 2 is below 5/);
    expect(runIds(home)).toEqual([]);
    const [logged, ...more] = logOf(home);
    expect(more).toEqual([]);
    expect(logged).toMatchObject({ type: 'alert.ignored', alert: { type: 'UnauthorizedAccess:EC2/SSHBruteForce' } });
    expect(logged.reasons).toContain('ssh-brute-force-from-instance: severity 2 is below 5');
  });

  it.each([
    { what: 'malformed JSON', event: 'bad/malformed.json', msg: /malformed\.json:3:26: failed to parse JSON/ },
    { what: 'an event of an unknown shape', event: 'bad/unknown-shape.json', msg: /unknown shape/ },
    {
      what: 'a finding without its instance id',
      event: 'bad/guardduty-missing-instance.json',
      msg: /instanceDetails\.instanceId: .*missing required field 'instanceId'/,
    },
    { what: 'a generic alert with a misspelt field', event: 'bad/generic-typo.json', msg: /unknown field 'resouces'/ },
  ])('refuses $what: exit 2, nothing written', async ({ event, msg }) => {
    const home = tempHome();
    const r = await trigger(home, join(FIXTURES, event));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(msg);
    expect(runIds(home)).toEqual([]);
    expect(logOf(home)).toEqual([]);
  });

  it('refuses an alert the route cannot map to the playbook inputs, and a bad routing table: exit 2, nothing written', async () => {
    const home = tempHome();
    const dir = scratch({
      'routes.yaml':
        "routes:\n  - name: any-edr\n    match: { source: 'edr-*' }\n    playbook: " +
        join(project, 'tiny-contain.yaml') +
        "\n    inputs: { instanceId: '{% resources.instanceIds[0] %}' }\n",
      'bad-routes.yaml': 'routes:\n  - name: x\n    playbook: ec2-instance-compromise\n    approval: { isolat: auto }\n',
    });
    const noInstance = {
      source: 'edr-falcon',
      id: 'det-9',
      type: 'Exfil:IP/Beacon',
      severity: 8,
      resources: { remoteIps: ['198.51.100.7'] },
    };
    const r = await triggerStdin(home, noInstance, '--routes', join(dir, 'routes.yaml'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/route 'any-edr' cannot start tiny-contain for this alert: missing required input 'instanceId'/);
    const bad = await trigger(home, join(FIXTURES, 'generic.json'), '--routes', join(dir, 'bad-routes.yaml'));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/bad-routes\.yaml:4:17: .*unknown step 'isolat'/);
    expect(runIds(home)).toEqual([]);
    expect(logOf(home)).toEqual([]);
  });

  it('two processes given the same finding at once start one run', { timeout: 60_000 }, async () => {
    const home = tempHome();
    const [a, b] = await Promise.all([
      triggerStdin(home, gdEvent({ eventId: 'copy-a' })),
      triggerStdin(home, gdEvent({ eventId: 'copy-b' })),
    ]);
    expect([a.code, b.code].sort()).toEqual([0, 3]);
    const ids = runIds(home);
    expect(ids.length).toBe(1);
    const events = journal(home, ids[0]!);
    expect(events.filter((e) => e.type === 'run.started').length).toBe(1);
    // The other copy is a repeat: on the run's journal if the run had stopped, else in the trigger log.
    const inJournal = events.filter((e) => e.type === 'alert.repeated').length;
    const inLog = logOf(home).filter((e) => e.type === 'alert.repeated' && e.journaled === false).length;
    expect(inJournal + inLog).toBe(1);
  });

  it('a second alert about the same instance waits for the first run to let go of it', { timeout: 120_000 }, async () => {
    const home = tempHome();
    // Run A stays alive at its manual task, holding the instance lock.
    const a = spawnTrigger(home, join(FIXTURES, 'guardduty-bitcoin-dns.eventbridge.json'), '--wait-for-approval', '60s');
    const idA = await waitFor(() => runIds(home).find((id) => journal(home, id).some((e) => e.type === 'manual.requested')));
    const b = spawnTrigger(home, join(FIXTURES, 'guardduty-credential-exfiltration.cli.json'));
    const idB = await waitFor(() => runIds(home).find((id) => id !== idA && journal(home, id).some((e) => e.type === 'lock.waiting')));
    expect(journal(home, idB).find((e) => e.type === 'lock.waiting')).toMatchObject({ kind: 'instance', id: INSTANCE, heldBy: idA });
    expect(journal(home, idB).some((e) => e.type === 'step.applying')).toBe(false);
    expect((await cli(['approve', idA, 'forensics', '--note', 'memory captured'], { home })).code).toBe(0);
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra.code, ra.stderr).toBe(0);
    expect(rb.code, rb.stderr).toBe(3);
    const endA = journal(home, idA).find((e) => e.type === 'run.ended');
    const acquiredB = journal(home, idB).find((e) => e.type === 'lock.acquired');
    expect(endA).toMatchObject({ status: 'succeeded' });
    expect(acquiredB).toMatchObject({ kind: 'instance', id: INSTANCE });
    expect(Date.parse(acquiredB.ts)).toBeGreaterThanOrEqual(Date.parse(endA.ts));
    expect(journal(home, idB).at(-1)).toMatchObject({ type: 'run.waiting', step: 'isolate', kind: 'approval' });
  });

  it('publishes the waiting notice to the configured SNS topic through the run clients, journaled', async () => {
    const home = tempHome();
    const dir = scratch({ 'firebreak.config.yaml': 'notifications:\n  snsTopicArn: arn:aws:sns:us-east-1:111122223333:security-alerts\n' });
    const r = await trigger(
      home,
      join(FIXTURES, 'guardduty-credential-exfiltration.cli.json'),
      '--config',
      join(dir, 'firebreak.config.yaml'),
    );
    expect(r.code, r.stderr).toBe(3);
    const [id] = runIds(home);
    const published = world(home, id!).sns.published;
    expect(published.length).toBe(1);
    expect(published[0]).toMatchObject({
      topicArn: 'arn:aws:sns:us-east-1:111122223333:security-alerts',
      subject: `Firebreak: run ${id} waits on isolate`,
    });
    const message = JSON.parse(published[0].message);
    expect(message.default).toContain(`firebreak approve ${id} isolate`);
    expect(message.default).toContain('UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS');
    expect(message.https).toContain('### Firebreak run');
    const events = journal(home, id!);
    expect(events.find((e) => e.type === 'aws.call' && e.operation === 'Publish')).toMatchObject({
      service: 'sns',
      step: 'isolate',
      status: 200,
    });
    expect(events.find((e) => e.type === 'notification.sent')).toMatchObject({ step: 'isolate', channel: 'sns' });
  });

  it('a failed publish is journaled and reported, and the run still waits', async () => {
    const home = tempHome();
    const dir = scratch({ 'firebreak.config.yaml': 'notifications:\n  snsTopicArn: arn:aws:sns:us-east-1:111122223333:no-such-topic\n' });
    const r = await trigger(
      home,
      join(FIXTURES, 'guardduty-credential-exfiltration.cli.json'),
      '--config',
      join(dir, 'firebreak.config.yaml'),
    );
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/failed to publish the waiting notice .*NotFoundException/);
    const events = journal(home, runIds(home)[0]!);
    expect(events.find((e) => e.type === 'notification.failed')).toMatchObject({ error: { code: 'NotFoundException' } });
    expect(events.at(-1)).toMatchObject({ type: 'run.waiting', step: 'isolate' });
  });
});

function spawnTrigger(home: string, event: string, ...extra: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'trigger', '--event', event, '--sim', '--routes', join(project, 'routes.yaml'), ...extra], {
      cwd: ROOT,
      env: cliEnv(home),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Poll a condition (bounded by count, not by a timing assertion). */
async function waitFor<T>(f: () => T | undefined, tries = 300): Promise<T> {
  for (let i = 0; i < tries; i++) {
    let v: T | undefined;
    try {
      v = f();
    } catch {
      v = undefined; // a journal being created between listing and reading
    }
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('condition not reached');
}

describe('firebreak trigger: the same event again after the run was interrupted', () => {
  it('continues the run where it stopped; no completed step is done again', { timeout: 120_000 }, async () => {
    const home = tempHome();
    const dir = scratch({
      'pausing.yaml': PAUSING_PLAYBOOK,
      'event.json': JSON.stringify({
        source: 'test',
        id: 'interrupted-cli-1',
        type: 'Test:EC2/Pause',
        severity: 7,
        resources: { instanceIds: ['i-0abc123def4567890'] },
      }),
    });
    writeFileSync(join(dir, 'routes.yaml'), routeAllTo(join(dir, 'pausing.yaml')));
    const args = ['trigger', '--event', join(dir, 'event.json'), '--sim', '--routes', join(dir, 'routes.yaml'), '--json'];

    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: cliEnv(home) });
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    let id: string | undefined;
    // SIGTERM while the run waits (bounded polling, no timing assertion).
    const waiting = () =>
      !!id && existsSync(join(home, 'runs', id, 'journal.jsonl')) && journal(home, id).some((e) => e.type === 'wait.started');
    for (let i = 0; i < 600 && !waiting(); i++) {
      await new Promise((r) => setTimeout(r, 50));
      id ??= runIds(home)[0];
    }
    child.kill('SIGTERM');
    expect(await exited).toBe(130);
    expect(journal(home, id!).at(-1)).toMatchObject({ type: 'run.interrupted' });

    const again = await cli(args, { home });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)[0]).toMatchObject({ outcome: 'started', runId: id, status: 'succeeded' });
    const events = journal(home, id!);
    expect(events.filter((e) => e.type === 'run.started')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'run.resumed')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'step.completed').map((e) => e.step)).toEqual(['preserve', 'pause', 'again']);
    expect(events.filter((e) => e.type === 'aws.call' && e.operation === 'ModifyInstanceAttribute')).toHaveLength(1);
  });
});
