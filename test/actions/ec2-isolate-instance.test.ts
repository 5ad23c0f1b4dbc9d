/**
 * ec2.isolate-instance against the demo world (an instance with two interfaces and an attacker's
 * open SSH connection): the two-step swap ends the tracked connection, and the transit group's
 * rules are checked rather than assumed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import isolate from '../../src/actions/ec2/isolate-instance.js';
import { parseWorld, type World } from '../../src/sim/index.js';
import { allOk, fixtureWorld, harness, mutating } from './ec2-harness.js';

const DEMO_FILE = join(import.meta.dirname, '../../worlds/demo.yaml');
const INSTANCE = 'i-0abc123def4567890';
const VPC = 'vpc-0a1b2c3d4e5f60718';

function demoWorld(edit?: (w: World) => void): World {
  const w = parseWorld(readFileSync(DEMO_FILE, 'utf8'), DEMO_FILE);
  edit?.(w);
  return w;
}

const attacker = (w: World) => w.ec2.connections.find((c) => c.id === 'attacker-ssh')!;
const groupsOf = (w: World) => w.ec2.networkInterfaces.filter((n) => n.attachment?.instanceId === INSTANCE).map((n) => n.groups);

describe('ec2.isolate-instance', () => {
  it('moves every interface to the isolation group through the transit group, which ends the attacker connection', async () => {
    const h = harness(demoWorld());
    const r = await h.run(isolate, { instanceId: INSTANCE });
    expect(allOk(r.checks)).toBe(true);
    expect(groupsOf(h.world)).toEqual([[r.output.isolationGroupId], [r.output.isolationGroupId]]);
    expect(attacker(h.world).state).toBe('closed');
    const transit = h.world.ec2.securityGroups.find((g) => g.name === 'firebreak-isolation-transit')!;
    expect(transit.ingress.map((x) => x.cidr ?? x.ipv6Cidr).sort()).toEqual(['0.0.0.0/0', '::/0']);
    expect(transit.egress!.map((x) => x.cidr ?? x.ipv6Cidr).sort()).toEqual(['0.0.0.0/0', '::/0']);
  });

  it('gives a transit group left without rules (a run stopped after creating it) its allow-all rules back before the swap', async () => {
    const world = demoWorld((w) => {
      w.ec2.securityGroups.push({
        id: 'sg-0f00000000000000f',
        name: 'firebreak-isolation-transit',
        description: 'left by a stopped run',
        vpcId: VPC,
        ingress: [],
        egress: [],
        tags: {},
      } as never);
    });
    const h = harness(world);
    const plan = await h.plan(isolate, { instanceId: INSTANCE });
    expect(plan.changes).toContainEqual({
      resource: 'sg-0f00000000000000f',
      field: 'rules',
      before: 'lacks ingress 0.0.0.0/0, ingress ::/0, egress 0.0.0.0/0, egress ::/0',
      after: 'allows all traffic (to untrack connections)',
    });
    const seq = h.lastSeq();
    const r = await h.run(isolate, { instanceId: INSTANCE });
    expect(allOk(r.checks)).toBe(true);
    // Without the rules the swap would leave the tracked connection open.
    expect(attacker(h.world).state).toBe('closed');
    const authorized = mutating(h.callsSince(seq)).filter((c) => c.startsWith('ec2:Authorize'));
    expect(authorized.sort()).toEqual([
      'ec2:AuthorizeSecurityGroupEgress',
      'ec2:AuthorizeSecurityGroupEgress',
      'ec2:AuthorizeSecurityGroupIngress',
      'ec2:AuthorizeSecurityGroupIngress',
    ]);
  });

  it('plans no rule change for a transit group that already allows everything', async () => {
    const h = harness(demoWorld());
    await h.run(isolate, { instanceId: INSTANCE });
    // A second instance in the same VPC would reuse the groups; here: move the interfaces back and plan again.
    for (const n of h.world.ec2.networkInterfaces.filter((x) => x.attachment?.instanceId === INSTANCE)) n.groups = ['sg-0123456789abcdef0'];
    const plan = await h.plan(isolate, { instanceId: INSTANCE });
    expect(plan.changes.filter((c) => c.field === 'rules' || c.field.startsWith('security group firebreak'))).toEqual([]);
  });

  it('two targets isolated at once in a VPC without the groups (a fleet step) share one group of each, and both are isolated', async () => {
    const h = harness(fixtureWorld());
    const web = ['i-0b1000000000000b1', 'i-0b2000000000000b2'];
    const runs = await Promise.all(web.map((id) => h.run(isolate, { instanceId: id })));
    for (const r of runs) expect(allOk(r.checks)).toBe(true);
    const groups = (name: string) => h.world.ec2.securityGroups.filter((g) => g.name === name);
    expect(groups('firebreak-isolation')).toHaveLength(1);
    expect(groups('firebreak-isolation')[0]!.ingress).toEqual([]);
    expect(groups('firebreak-isolation')[0]!.egress).toEqual([]);
    expect(groups('firebreak-isolation-transit')).toHaveLength(1);
    const iso = groups('firebreak-isolation')[0]!.id;
    expect(h.world.ec2.networkInterfaces.filter((n) => web.includes(n.attachment?.instanceId ?? '')).map((n) => n.groups)).toEqual([
      [iso],
      [iso],
      [iso],
    ]);
  });
});
