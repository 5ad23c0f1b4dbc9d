/**
 * Each shipped scenario played with the playbooks' automatic policy reaches the score its file
 * expects: a scenario doubles as a regression test of the playbooks and the routing table.
 */
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/tabletop/load.js';
import { play } from './helpers.js';

describe('shipped scenarios in --auto', () => {
  it.each(['crypto-mining', 'instance-credential-exfiltration', 'ssh-brute-force'])(
    '%s reaches the score its file expects',
    async (name) => {
      const expected = (await loadScenario(`scenarios/${name}.yaml`)).scenario.expect?.auto;
      expect(expected?.score).toBeTypeOf('number');
      const p = await play(name, { auto: true });
      expect(p.result.expectation, JSON.stringify(p.result.objectives, null, 1)).toEqual({ source: 'scenario', ok: true, problems: [] });
      expect(p.result.score.points).toBe(expected!.score);
      for (const id of expected!.met ?? []) expect(p.status(id), id).toBe('met');
      for (const id of expected!.missed ?? []) expect(p.status(id), id).toBe('missed');
    },
  );

  it('crypto-mining: the routed playbook isolates web-1 in two steps, which ends the C2 channel the attacker then finds closed', async () => {
    const p = await play('crypto-mining', { auto: true });
    const eni = p.world.ec2.networkInterfaces.find((e) => e.id === 'eni-0c0ffee0000000001')!;
    const group = p.world.ec2.securityGroups.find((g) => g.id === eni.groups[0])!;
    expect(group.name).toBe('firebreak-isolation');
    const c2 = p.world.ec2.connections.find((c) => c.id === 'c2')!;
    expect(c2.state).toBe('closed');
    expect(c2.closedBy).toContain('untracked flow no longer allowed');
    // The implant's later calls home are refused by the isolation group.
    const later = p.world.ec2.connections.filter((c) => c.remoteIp === '203.0.113.66' && c.id !== 'c2');
    expect(later.length).toBeGreaterThan(0);
    expect(later.every((c) => c.state === 'closed' && /refused by security groups/.test(c.closedBy ?? ''))).toBe(true);
    expect(p.entries('alert')[0]!.text).toContain('route crypto-mining');
    const check = p.entries('attacker', 'c2-check')[0]!;
    expect(check.ok).toBe(false);
    expect(check.text).toContain('closed');
    // The throttling inject made the SDK retry the swap; the run still isolated the instance.
    expect(
      p.result.timeline.some((e) => e.kind === 'step' && /ModifyNetworkInterfaceAttribute succeeded after 2 attempts/.test(e.text)),
    ).toBe(true);
    // Forensic snapshots of both volumes, then Data Lifecycle Manager snapshots on the simulated clock.
    const snaps = p.world.ec2.snapshots.filter((s) => s.volumeId.startsWith('vol-0c0ffee00000000'));
    expect(new Set(snaps.map((s) => s.volumeId))).toEqual(new Set(['vol-0c0ffee0000000001', 'vol-0c0ffee0000000002']));
    expect(snaps.some((s) => s.tags['dlm:managed'] === 'true')).toBe(true);
    expect(p.entries('snapshot').length).toBeGreaterThan(0);
  });

  it('instance-credential-exfiltration: revoking the sessions works until the attacker reads the metadata service again', async () => {
    const p = await play('instance-credential-exfiltration', { auto: true });
    const uses = p.entries('attacker', 'use-stolen').map((e) => e.ok);
    // Works before the revocation, fails after it, works again once fresh credentials are stolen.
    expect(uses.slice(0, 4)).toEqual([true, false, false, false]);
    expect(uses.at(-1)).toBe(true);
    expect(p.entries('attacker', 'use-stolen')[1]!.text).toMatch(/UnauthorizedOperation: .*explicit deny/);
    const resteal = p.entries('attacker', 're-steal')[0]!;
    expect(resteal.ok).toBe(true);
    expect(resteal.lesson).toContain('replace or remove the instance profile');
    expect(p.world.ec2.iamInstanceProfileAssociations.some((a) => a.instanceId === 'i-0feed00000000001a')).toBe(true);
    expect(p.world.iam.roles.find((r) => r.name === 'web-app-role')!.inlinePolicies.AWSRevokeOlderSessions).toBeDefined();
    expect(p.world.support.cases.length).toBe(1);
    // Two alerts, two runs, one after the other; both wait for a person in --auto.
    expect(p.result.runs.map((r) => [r.alert, r.status])).toEqual([
      ['finding', 'waiting'],
      ['key-finding', 'waiting'],
    ]);
  });

  it('ssh-brute-force: the routing table ignores a Low target finding, so nothing blocks the range', async () => {
    const p = await play('ssh-brute-force', { auto: true });
    const alert = p.entries('alert')[0]!;
    expect(alert.ok).toBe(false);
    expect(alert.detail).toContain('ssh-brute-force-from-instance: severity 2 is below 5');
    expect(p.result.runs).toEqual([]);
    expect(p.entries('attacker', 'login')[0]!.ok).toBe(true);
  });
});
