/**
 * The EC2 playbooks end to end through the CLI, against the response fixture world: containment
 * with --auto (approving what waits for a person), release from the contained world, blocking
 * address ranges, and --dry-run of each (no mutating call).
 */
import { describe, expect, it } from 'vitest';
import { cli, journal, mutatingCalls, runIds, tempHome, world } from '../helpers/cli.js';
import { driveToEnd, worldAfter } from './ec2-drive.js';

const FIXTURE = 'test/fixtures/worlds/ec2-response.yaml';
const WEB1 = 'i-0b1000000000000b1';
const WEB1_ENIS = ['eni-0e1100000000000e1', 'eni-0e1200000000000e2'];
const ACL_WEB = 'acl-0e1000000000000e1';
const ACL_DEFAULT = 'acl-0d0000000000000d0';

const contain = (worldFile: string, ...inputs: string[]) => [
  'run',
  'ec2-instance-compromise',
  '--sim',
  worldFile,
  '--auto',
  '--incident',
  'IR-9',
  '--input',
  `instanceId=${WEB1}`,
  ...inputs.flatMap((i) => ['--input', i]),
];
const planned = (events: Array<{ type: string; [k: string]: any }>) => events.filter((e) => e.type === 'step.planned').map((e) => e.step);
const active = (w: any) =>
  w.elbv2.targetGroups
    .flatMap((tg: any) => tg.targets.filter((t: any) => !t.deregisteredAt).map((t: any) => `${tg.name}:${t.id}:${t.port ?? tg.port}`))
    .sort();
const denies = (w: any, acl: string) =>
  w.ec2.networkAcls
    .find((a: any) => a.id === acl)
    .entries.filter((e: any) => e.ruleAction === 'deny')
    .map((e: any) => `${e.egress ? 'eg' : 'in'} ${e.ruleNumber} ${e.cidrBlock}`)
    .sort();

describe('ec2-instance-compromise, then release-instance', () => {
  it('contains web-1 unattended where the policy allows, waits for people where it must, and release puts everything back', async () => {
    const home = tempHome();
    const contained = await driveToEnd(home, contain(FIXTURE, 'attackerCidrs=203.0.113.0/24'));
    expect(contained.last.code, contained.last.stderr).toBe(0);
    const events = journal(home, contained.id);
    expect(events.at(-1)).toMatchObject({ type: 'run.ended', status: 'succeeded' });
    // Isolation and evidence ran unattended; the subnet-wide deny and the forensic work waited for a person.
    const waitedOn = contained.waited.map((w) => w.step);
    expect(waitedOn).toEqual(expect.arrayContaining(['block', 'forensics']));
    for (const step of ['preserve', 'detach', 'isolate', 'snapshot', 'raise-frequency']) {
      expect(waitedOn).not.toContain(step);
      expect(events.find((e) => e.type === 'approval.answered' && e.step === step)).toMatchObject({ decision: 'approve', via: 'policy' });
    }
    const undoOf = (step: string) => events.find((e) => e.type === 'step.applied' && e.step === step)?.undo?.action;
    expect(['preserve', 'detach', 'snapshot', 'raise-frequency', 'block'].map(undoOf)).toEqual([
      'ec2.restore-instance-attributes',
      'ec2.return-to-service',
      undefined,
      'ec2.lower-snapshot-frequency',
      'ec2.remove-nacl-entries',
    ]);

    const w = world(home, contained.id);
    const web1 = w.ec2.instances.find((i: any) => i.id === WEB1);
    expect(web1).toMatchObject({ disableApiTermination: true, instanceInitiatedShutdownBehavior: 'stop' });
    expect(web1.blockDevices.every((b: any) => b.deleteOnTermination === false)).toBe(true);
    const asg = w.autoscaling.groups.find((g: any) => g.name === 'web-asg');
    expect(asg.desiredCapacity).toBe(1);
    expect(asg.instances.map((i: any) => i.id)).toEqual(['i-0b2000000000000b2']);
    expect(w.ec2.instances.length).toBe(9); // no replacement launched
    expect(active(w).filter((t: string) => t.includes(WEB1))).toEqual([]);
    const isolation = w.ec2.securityGroups.find((g: any) => g.name === 'firebreak-isolation').id;
    for (const eni of WEB1_ENIS) expect(w.ec2.networkInterfaces.find((n: any) => n.id === eni).groups).toEqual([isolation]);
    expect(
      w.ec2.snapshots.filter((s: any) => s.tags['firebreak:purpose'] === 'forensic').map((s: any) => s.tags['firebreak:device']),
    ).toEqual(['/dev/xvda', '/dev/sdf', '/dev/sdg']);
    expect(w.dlm.policies.map((p: any) => p.policyDetails.TargetTags)).toEqual([[{ Key: 'firebreak:snapshot-schedule', Value: 'IR-9' }]]);
    expect(denies(w, ACL_WEB)).toEqual([
      'eg 98 203.0.113.0/24',
      'eg 99 192.0.2.0/24',
      'in 200 198.51.100.0/24',
      'in 98 203.0.113.0/24',
      'in 99 192.0.2.0/24',
    ]);
    expect(denies(w, ACL_DEFAULT)).toEqual(['eg 99 203.0.113.0/24', 'in 99 203.0.113.0/24']);

    // Release, from the instance id and the incident alone.
    const original = await cli(
      ['run', 'release-instance', '--sim', FIXTURE, '--dry-run', '--input', `instanceId=${WEB1}`, '--input', 'incident=IR-9'],
      { home },
    );
    expect(original.code, original.stderr).toBe(0);
    const fresh = world(home, runIds(home).at(-1)!);
    const released = await driveToEnd(home, [
      'run',
      'release-instance',
      '--sim',
      worldAfter(home, contained.id),
      '--auto',
      '--input',
      `instanceId=${WEB1}`,
      '--input',
      'incident=IR-9',
      '--input',
      'attackerCidrs=203.0.113.0/24',
    ]);
    expect(released.last.code, released.last.stderr).toBe(0);
    expect(released.waited.map((x) => x.step)).toEqual(expect.arrayContaining(['confirm', 'unblock', 'reconnect', 'return']));
    const r = world(home, released.id);
    const { tags: tagsAfter, ...attrsAfter } = r.ec2.instances.find((i: any) => i.id === WEB1);
    const { tags: tagsBefore, ...attrsBefore } = fresh.ec2.instances.find((i: any) => i.id === WEB1);
    expect(attrsAfter).toEqual(attrsBefore);
    // Only isolation's own incident markers stay on the instance.
    expect(
      Object.keys(tagsAfter)
        .filter((k) => !(k in tagsBefore))
        .sort(),
    ).toEqual(['firebreak:incident:IR-9', 'firebreak:isolated-at']);
    for (const eni of WEB1_ENIS)
      expect(r.ec2.networkInterfaces.find((n: any) => n.id === eni)).toEqual(fresh.ec2.networkInterfaces.find((n: any) => n.id === eni));
    const shape = (g: any) => ({ ...g, instances: [...g.instances].sort((a: any, b: any) => a.id.localeCompare(b.id)) });
    expect(shape(r.autoscaling.groups[0])).toEqual(shape(fresh.autoscaling.groups[0]));
    expect(active(r)).toEqual(active(fresh));
    expect(r.dlm.policies).toEqual([]);
    expect(r.ec2.networkAcls).toEqual(fresh.ec2.networkAcls);
    expect(r.ec2.volumes).toEqual(fresh.ec2.volumes);
    // Evidence stays.
    expect(r.ec2.snapshots.filter((s: any) => s.tags['firebreak:purpose'] === 'forensic').length).toBe(3);
    // About twenty CLI processes, one after the other.
  }, 300_000);
});

describe('--dry-run: every step planned, no mutating call', () => {
  it.each([
    [
      'ec2-instance-compromise with attacker ranges',
      contain(FIXTURE, 'attackerCidrs=203.0.113.0/24').filter((a) => a !== '--auto'),
      ['preserve', 'detach', 'isolate', 'snapshot', 'raise-frequency', 'block', 'forensics'],
    ],
    [
      'ec2-instance-compromise every 15 minutes',
      contain(FIXTURE, 'snapshotEveryMinutes=15', 'snapshotCount=4').filter((a) => a !== '--auto'),
      ['preserve', 'detach', 'isolate', 'snapshot', 'forensics', 'resnapshot'],
    ],
    [
      'block-attack-source',
      [
        'run',
        'block-attack-source',
        '--sim',
        FIXTURE,
        '--input',
        'cidrs=203.0.113.0/24,2001:db8:bad::/48',
        '--input',
        'subnetIds=subnet-0a1000000000000a1,subnet-0a2000000000000a2',
      ],
      ['block'],
    ],
    [
      'release-instance',
      ['run', 'release-instance', '--sim', FIXTURE, '--input', `instanceId=${WEB1}`, '--input', 'incident=IR-9'],
      ['record', 'confirm'],
    ],
  ])('%s', async (_name, args, steps) => {
    const home = tempHome();
    const r = await cli([...args, '--dry-run'], { home });
    expect(r.code, r.stderr).toBe(0);
    const [id] = runIds(home);
    const events = journal(home, id!);
    expect(mutatingCalls(events)).toEqual([]);
    for (const step of steps) expect(planned(events)).toContain(step);
    expect(events.at(-1)).toMatchObject({ type: 'run.ended', status: 'planned' });
  });

  it.each([
    [60, 1],
    [120, 2],
    [1440, 24],
  ])('snapshotEveryMinutes=%i schedules DLM every %i h instead of looping', async (minutes, hours) => {
    const home = tempHome();
    const r = await cli([...contain(FIXTURE, `snapshotEveryMinutes=${minutes}`).filter((a) => a !== '--auto'), '--dry-run'], { home });
    expect(r.code, r.stderr).toBe(0);
    const events = journal(home, runIds(home)[0]!);
    expect(events.find((e) => e.type === 'step.planned' && e.step === 'raise-frequency')?.input).toMatchObject({
      intervalHours: hours,
      retainCount: 24,
    });
    expect(planned(events)).not.toContain('resnapshot');
  });
});

describe('block-attack-source', () => {
  it("waits for a person, then denies the ranges in each subnet's ACL", async () => {
    const home = tempHome();
    const d = await driveToEnd(home, [
      'run',
      'block-attack-source',
      '--sim',
      FIXTURE,
      '--auto',
      '--input',
      'cidrs=203.0.113.0/24',
      '--input',
      'subnetIds=subnet-0a1000000000000a1,subnet-0a2000000000000a2',
    ]);
    expect(d.last.code, d.last.stderr).toBe(0);
    expect(d.waited).toEqual([{ step: 'block', kind: 'approval', answer: 'approve' }]);
    const w = world(home, d.id);
    expect(denies(w, ACL_WEB)).toContain('in 98 203.0.113.0/24');
    expect(denies(w, ACL_DEFAULT)).toEqual(['eg 99 203.0.113.0/24', 'in 99 203.0.113.0/24']);
    expect(journal(home, d.id).find((e) => e.type === 'step.applied' && e.step === 'block').undo.action).toBe('ec2.remove-nacl-entries');
  });

  it('fails at plan time on the rule quota, naming the ACL and direction, with no change', async () => {
    const home = tempHome();
    const r = await cli(
      [
        'run',
        'block-attack-source',
        '--sim',
        FIXTURE,
        '--auto',
        '--input',
        'cidrs=203.0.113.0/24,198.51.100.0/24',
        '--input',
        'subnetIds=subnet-0a3000000000000a3',
      ],
      { home },
    );
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/acl-0e3000000000000e3: its ingress rules would number 21, over the quota of 20/);
    const events = journal(home, runIds(home)[0]!);
    expect(events.find((e) => e.type === 'step.failed')).toMatchObject({ step: 'block', error: { code: 'NetworkAclEntryLimitExceeded' } });
    expect(mutatingCalls(events)).toEqual([]);
  });

  it.each([['cidrs=0.0.0.0/0'], ['cidrs=10.0.0.0/8,::/0'], ['cidrs=evil.example.com']])(
    'rejects %s before any run (exit 2)',
    async (arg) => {
      const home = tempHome();
      const r = await cli(
        ['run', 'block-attack-source', '--sim', FIXTURE, '--auto', '--input', arg, '--input', 'subnetIds=subnet-0a1000000000000a1'],
        { home },
      );
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/invalid input 'cidrs'/);
      expect(runIds(home)).toEqual([]);
    },
  );
});
