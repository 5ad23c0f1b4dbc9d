/**
 * A tabletop exercise with a finding from a member account in another Region
 * (scenarios/member-account-crypto-mining.yaml on worlds/organization.yaml): Firebreak runs in the
 * security account 111122223333/us-east-1 and contains the instance in 222222222222/eu-west-1,
 * through the member's responder role; every other account and Region stays as it was.
 */
import { describe, expect, it } from 'vitest';
import { loadWorld, scopedWorld, type World } from '../../src/sim/index.js';
import { play } from './helpers.js';

const MEMBER = '222222222222';
const COMPROMISED = 'i-0c0ffee0000000001';

const memberOf = (w: World, id: string) => w.accounts!.find((a) => a.id === id)!;
const json = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;

describe('a member-account finding in another Region', () => {
  it('is contained there, scored, and no other account or Region changes', async () => {
    const before = await loadWorld('worlds/organization.yaml');
    const p = await play('member-account-crypto-mining', { auto: true });
    expect(p.result.score).toMatchObject({ points: 100, total: 100 });
    expect(p.status('isolated')).toBe('met');
    expect(p.status('no-collateral')).toBe('met');

    // The member's instance, where it lives: every interface in a group without rules.
    const there = scopedWorld(p.world, { account: MEMBER, region: 'eu-west-1' })!;
    const eni = there.ec2.networkInterfaces.find((n) => n.attachment?.instanceId === COMPROMISED)!;
    const groups = there.ec2.securityGroups.filter((g) => eni.groups.includes(g.id));
    expect(groups.length).toBeGreaterThan(0);
    for (const g of groups) expect([g.ingress, g.egress]).toEqual([[], []]);
    expect(there.ec2.snapshots.length).toBeGreaterThan(0);
    // Its neighbour with the security account's instance id keeps its group.
    expect(there.ec2.networkInterfaces.find((n) => n.id === 'eni-0222e0000000000b2')!.groups).toEqual(['sg-0222e0000000000b1']);

    // The security account (home, us-east-1), the member's us-east-1 and the third account: unchanged.
    expect(json(p.world.ec2)).toEqual(json(before.ec2));
    expect(json(memberOf(p.world, MEMBER).regions['us-east-1'])).toEqual(json(memberOf(before, MEMBER).regions['us-east-1']));
    expect(json(memberOf(p.world, '333333333333').regions)).toEqual(json(memberOf(before, '333333333333').regions));
  });
});
