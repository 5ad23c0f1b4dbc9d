/**
 * Scripted players making the classic mistakes lose the matching objectives — and the exercise
 * shows them why, through what the attacker can still do in the simulated cloud.
 */
import { describe, expect, it } from 'vitest';
import { isKeyUsable } from '../../src/sim/services/iam/index.js';
import { play } from './helpers.js';

describe('classic mistakes, scripted', () => {
  it.each([
    ['crypto-mining', 'crypto-one-step-swap', true, 50],
    ['crypto-mining', 'crypto-no-snapshots', true, 30],
    ['instance-credential-exfiltration', 'instance-creds-delete-key', true, 40],
    ['instance-credential-exfiltration', 'instance-creds-replace-profile', true, 100],
    ['ssh-brute-force', 'ssh-deny-one-address', false, 20],
    ['ssh-brute-force', 'ssh-isolate-bastion', false, 50],
    ['ssh-brute-force', 'ssh-deny-range', false, 100],
  ])('%s with %s scores what the decisions file expects', async (scenario, decisions, auto, points) => {
    const p = await play(scenario, { decisions, auto });
    expect(p.result.expectation, JSON.stringify(p.result.objectives, null, 1)).toEqual({ source: 'decisions', ok: true, problems: [] });
    expect(p.result.score.points).toBe(points);
  });

  it('a one-step swap to a no-rules group leaves the C2 channel open: the attacker checks it, copies the data out', async () => {
    const p = await play('crypto-mining', { decisions: 'crypto-one-step-swap', auto: true });
    const eni = p.world.ec2.networkInterfaces.find((e) => e.id === 'eni-0c0ffee0000000001')!;
    expect(eni.groups).toEqual(['sg-0a0a0a0a0a0a0a0a9']);
    expect(p.world.ec2.connections.find((c) => c.id === 'c2')!.state).toBe('open');
    expect(p.entries('player')[0]).toMatchObject({ ok: true, text: expect.stringContaining('instead of isolate, by hand') });
    const check = p.entries('attacker', 'c2-check')[0]!;
    expect(check.ok).toBe(true);
    expect(check.lesson).toContain('tracked connections survive a security-group change');
    expect(p.entries('attacker', 'exfil')[0]!.ok).toBe(true);
    expect(p.status('isolated')).toBe('missed');
    expect(p.result.objectives.find((o) => o.id === 'isolated')!.detail).toContain('still open: c2');
    expect(p.status('no-exfiltration')).toBe('missed');
    // New connections are refused by the no-rules group: only what was already open survives.
    expect(p.entries('attacker', 'lateral')[0]!.ok).toBe(false);
    expect(p.status('no-lateral-movement')).toBe('met');
  });

  it('snapshots put off: the attacker changes the volumes first, and the evidence objective is lost for good', async () => {
    const p = await play('crypto-mining', { decisions: 'crypto-no-snapshots', auto: true });
    const wipe = p.entries('attacker', 'wipe')[0]!;
    expect(wipe.ok).toBe(true);
    expect(wipe.lesson).toContain('the evidence on vol-0c0ffee0000000001, vol-0c0ffee0000000002 is gone');
    const evidence = p.result.objectives.find((o) => o.id === 'evidence')!;
    expect(evidence).toMatchObject({ status: 'missed', t: 25 * 60_000 });
    expect(evidence.detail).toContain('was changed by a crypto-mining crew');
    expect(p.world.ec2.snapshots).toEqual([]);
  });

  it('deleting the leaked key instead of deactivating it locks the attacker out but loses the key-disabled objective', async () => {
    const p = await play('instance-credential-exfiltration', { decisions: 'instance-creds-delete-key', auto: true });
    expect(p.world.iam.users.find((u) => u.name === 'deploy-bot')!.accessKeys).toEqual([]);
    const key = p.result.objectives.find((o) => o.id === 'key-disabled')!;
    expect(key.status).toBe('missed');
    expect(key.detail).toContain('was deleted, not disabled');
    const after = p.entries('attacker', 'use-deploy-key').filter((e) => e.t > 13 * 60_000);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((e) => e.ok === false && e.text.includes('AuthFailure'))).toBe(true);
  });

  it('deactivating the key (the playbook) keeps it, Inactive, and the attacker gets AWS’s own error', async () => {
    const p = await play('instance-credential-exfiltration', { auto: true });
    const key = p.world.iam.users.find((u) => u.name === 'deploy-bot')!.accessKeys[0]!;
    expect(key).toMatchObject({ id: 'AKIAIOSFODNN7DEPLOY1', status: 'Inactive' });
    expect(p.status('key-disabled')).toBe('met');
    const failed = p.entries('attacker', 'use-deploy-key').filter((e) => e.ok === false);
    expect(failed[0]!.text).toContain('AuthFailure: AWS was not able to validate the provided access credentials');
    expect(failed[0]!.lesson).toContain('deactivated or deleted');
  });

  it('forgetting the instance profile: fresh credentials work; replacing it stops them', async () => {
    const forgot = await play('instance-credential-exfiltration', { auto: true });
    const lastStolen = forgot.world.iam.sessions.at(-1)!;
    expect(forgot.world.iam.sessions.length).toBe(4);
    expect(isKeyUsable(forgot.world, lastStolen.accessKeyId, new Date(forgot.result.end))).toBe(true);
    expect(['profile-replaced', 'no-fresh-credentials', 'api-locked-out'].map(forgot.status)).toEqual(['missed', 'missed', 'missed']);

    const fixed = await play('instance-credential-exfiltration', { decisions: 'instance-creds-replace-profile', auto: true });
    expect(fixed.world.ec2.iamInstanceProfileAssociations.some((a) => a.instanceId === 'i-0feed00000000001a')).toBe(false);
    expect(fixed.entries('player', 'replace-profile')[0]!.ok).toBe(true);
    const resteals = fixed.entries('attacker', 're-steal');
    expect(resteals.map((e) => e.ok)).toEqual([false, false, false]);
    expect(resteals[0]!.text).toContain('has no instance profile');
    expect(fixed.world.iam.sessions.length).toBe(1);
    expect(['profile-replaced', 'no-fresh-credentials', 'api-locked-out'].map(fixed.status)).toEqual(['met', 'met', 'met']);
  });

  it('denying one address does not stop a range; denying the range at the network ACL does, and ends open sessions', async () => {
    const one = await play('ssh-brute-force', { decisions: 'ssh-deny-one-address' });
    const acl = one.world.ec2.networkAcls.find((a) => a.id === 'acl-0c0c0c0c0c0c0c0c1')!;
    expect(acl.entries.filter((e) => e.ruleAction === 'deny').map((e) => e.cidrBlock)).toEqual(['198.51.100.23/32', '198.51.100.23/32']);
    expect(
      one
        .entries('attacker', 'brute')
        .filter((e) => e.t > 10 * 60_000)
        .every((e) => e.ok),
    ).toBe(true);
    expect(one.status('guessing-refused')).toBe('missed');

    const range = await play('ssh-brute-force', { decisions: 'ssh-deny-range' });
    const later = range.entries('attacker', 'brute').filter((e) => e.t > 10 * 60_000);
    expect(later.every((e) => e.ok === false && /refused by network ACL acl-0c0c0c0c0c0c0c0c1 ingress/.test(e.text))).toBe(true);
    const guesses = range.world.ec2.connections.filter((c) => c.remoteIp.startsWith('198.51.100.'));
    expect(guesses.every((c) => c.state === 'closed')).toBe(true);
    expect(range.status('bastion-up')).toBe('met');
  });

  it('isolating the attacked bastion stops the attack and loses the bastion-up objective', async () => {
    const p = await play('ssh-brute-force', { decisions: 'ssh-isolate-bastion' });
    const bastion = p.result.objectives.find((o) => o.id === 'bastion-up')!;
    expect(bastion.status).toBe('missed');
    expect(bastion.detail).toContain('i-0ba571100000000b1 (bastion-1)');
    expect(p.status('range-blocked')).toBe('missed');
    expect(p.status('no-login')).toBe('met');
  });

  it('an approver who is away delays a scripted approval: the attacker goes on meanwhile', async () => {
    const p = await play('instance-credential-exfiltration', { decisions: 'instance-creds-quarantine-approved', auto: true });
    const waits = p.result.timeline.find((e) => e.kind === 'decision' && e.text.includes("waits for deploy-bot's owner"))!;
    expect(waits.text).toContain('until T+00:25');
    const applied = p.result.timeline.find((e) => e.kind === 'step' && e.text.endsWith('step quarantineUser: applied'))!;
    expect(applied.t).toBe(27 * 60_000);
    expect(p.world.iam.users.find((u) => u.name === 'deploy-bot')!.attachedPolicies).toContain('arn:aws:iam::aws:policy/AWSDenyAll');
  });
});
