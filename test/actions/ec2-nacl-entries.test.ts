import { describe, expect, it } from 'vitest';
import deny from '../../src/actions/ec2/deny-nacl-entries.js';
import removeEntries from '../../src/actions/ec2/remove-nacl-entries.js';
import { ActionFailed } from '../../src/core/errors.js';
import type { World } from '../../src/sim/index.js';
import {
  ACL_DEFAULT,
  ACL_FULL,
  ACL_SPARE,
  ACL_WEB,
  allOk,
  clone,
  fixtureWorld,
  harness,
  mutating,
  SUBNET_A,
  SUBNET_CROWDED,
  VAULT,
  WEB1,
} from './ec2-harness.js';

const acl = (w: World, id: string) => w.ec2.networkAcls.find((a) => a.id === id)!;
const denies = (w: World, id: string) =>
  acl(w, id)
    .entries.filter((e) => e.ruleAction === 'deny')
    .map((e) => `${e.egress ? 'eg' : 'in'} ${e.ruleNumber} ${e.cidrBlock ?? e.ipv6CidrBlock}`)
    .sort();
const RUN_TAG = 'firebreak:deny-rules:20260301-120000-abc123';

describe('ec2.deny-nacl-entries', () => {
  it("denies each range both ways below the first allow rule, in the ACL of every interface's subnet; converges; undo restores the ACLs exactly", async () => {
    const h = harness();
    const before = clone(h.world.ec2.networkAcls);
    const cidrs = ['203.0.113.0/24', '2001:db8:bad::/48'];
    const plan = await h.plan(deny, { instanceId: WEB1, cidrs });
    expect(plan.changes.map((c) => `${c.resource.split(' ')[0]} ${c.field} → ${c.after}`)).toEqual([
      `${ACL_WEB} ingress rule 98 → deny all 203.0.113.0/24`,
      `${ACL_WEB} ingress rule 97 → deny all 2001:db8:bad::/48`,
      `${ACL_WEB} egress rule 98 → deny all 203.0.113.0/24`,
      `${ACL_WEB} egress rule 97 → deny all 2001:db8:bad::/48`,
      `${ACL_WEB} tag ${RUN_TAG} → in:98,97 eg:98,97`,
      `${ACL_DEFAULT} ingress rule 99 → deny all 203.0.113.0/24`,
      `${ACL_DEFAULT} ingress rule 98 → deny all 2001:db8:bad::/48`,
      `${ACL_DEFAULT} egress rule 99 → deny all 203.0.113.0/24`,
      `${ACL_DEFAULT} egress rule 98 → deny all 2001:db8:bad::/48`,
      `${ACL_DEFAULT} tag ${RUN_TAG} → in:99,98 eg:99,98`,
    ]);
    expect(plan.notes).toContain(
      `${ACL_DEFAULT} is the default ACL of vpc-0f1e2d3c4b5a69788: it governs every subnet without an ACL of its own (1 subnet(s)), not only subnet-0a2000000000000a2`,
    );

    const r = await h.run(deny, { instanceId: WEB1, cidrs });
    expect(allOk(r.checks)).toBe(true);
    const v6 = h.sim.calls.find((c) => c.operation === 'CreateNetworkAclEntry' && (c.input as any).Ipv6CidrBlock);
    expect(v6!.input).toMatchObject({ Ipv6CidrBlock: '2001:db8:bad::/48', Protocol: '-1', RuleAction: 'deny' });
    expect((v6!.input as any).CidrBlock).toBeUndefined();
    expect(denies(h.world, ACL_DEFAULT)).toEqual([
      'eg 98 2001:db8:bad::/48',
      'eg 99 203.0.113.0/24',
      'in 98 2001:db8:bad::/48',
      'in 99 203.0.113.0/24',
    ]);
    // Not associated with any of the subnets: left exactly as it was, as is the crowded subnet's ACL.
    expect(acl(h.world, ACL_SPARE)).toEqual(before.find((a) => a.id === ACL_SPARE));
    expect(acl(h.world, ACL_FULL)).toEqual(before.find((a) => a.id === ACL_FULL));
    expect(r.output.created.length).toBe(8);

    const again = await h.run(deny, { instanceId: WEB1, cidrs });
    expect(again.plan.alreadyDone).toBe(true);
    expect(mutating(again.calls)).toEqual([]);
    expect(again.output.created).toEqual(r.output.created);

    const undone = await h.undo(deny, r);
    expect(allOk(undone.checks)).toBe(true);
    expect(h.world.ec2.networkAcls).toEqual(before);
  });

  it("an identical deny ahead of the allow rules is already done, and undo leaves it (it is not Firebreak's)", async () => {
    const h = harness();
    const before = clone(h.world.ec2.networkAcls);
    const r = await h.run(deny, { subnetIds: [SUBNET_A], cidrs: ['192.0.2.0/24'] });
    expect(r.plan.alreadyDone).toBe(true);
    expect(r.plan.notes).toEqual([
      `${ACL_WEB} ingress rule 99 already denies 192.0.2.0/24`,
      `${ACL_WEB} egress rule 99 already denies 192.0.2.0/24`,
    ]);
    expect(mutating(r.calls)).toEqual([]);
    expect(r.output).toMatchObject({
      created: [],
      existing: [
        { ruleNumber: 99, egress: false },
        { ruleNumber: 99, egress: true },
      ],
    });
    expect(allOk(r.checks)).toBe(true);
    const undone = await h.undo(deny, r);
    expect(mutating(undone.calls)).toEqual([]);
    expect(h.world.ec2.networkAcls).toEqual(before);
  });

  it('a deny numbered after an allow does not count: a new one goes ahead of the allow, and the plan says why', async () => {
    const h = harness();
    const r = await h.run(deny, { subnetIds: [SUBNET_A], cidrs: ['198.51.100.0/24'] });
    expect(r.plan.notes).toContain(
      `${ACL_WEB} ingress rule 200 already denies 198.51.100.0/24 but comes after allow rule 100, so it never applies`,
    );
    expect(denies(h.world, ACL_WEB)).toContain('in 98 198.51.100.0/24');
  });

  it.each([
    [1, 20, 20, 'succeeds: 20 ingress and 19 egress rules'],
    [2, 20, 20, 'fails before any call: ingress would hold 21'],
    [2, 40, 40, 'succeeds under a raised quota'],
  ])('crowded ACL, %i range(s), ruleLimit %i, account quota %i: %s', async (n, ruleLimit, quota) => {
    const h = harness(
      fixtureWorld((w) => {
        w.ec2.limits.naclRulesPerDirection = quota;
      }),
    );
    const before = clone(acl(h.world, ACL_FULL));
    const cidrs = ['203.0.113.0/24', '198.51.100.0/24'].slice(0, n);
    if (19 + n <= ruleLimit) {
      const r = await h.run(deny, { subnetIds: [SUBNET_CROWDED], cidrs, ruleLimit });
      expect(allOk(r.checks)).toBe(true);
      expect(acl(h.world, ACL_FULL).entries.filter((e) => !e.egress).length).toBe(19 + n);
      return;
    }
    const err = await h.run(deny, { subnetIds: [SUBNET_CROWDED], cidrs, ruleLimit }).catch((e) => e);
    expect(err).toBeInstanceOf(ActionFailed);
    expect(err.code).toBe('NetworkAclEntryLimitExceeded');
    expect(err.message).toBe(
      `failed to plan deny entries in ${ACL_FULL}: its ingress rules would number 21, over the quota of 20 per direction (19 in place, 2 to add; the '*' rule does not count)`,
    );
    // Refused before any call that could change the ACL.
    expect(mutating(h.callsSince(0))).toEqual([]);
    expect(acl(h.world, ACL_FULL)).toEqual(before);
  });

  it('fails clearly when no rule number is free below the first allow', async () => {
    const h = harness(
      fixtureWorld((w) => {
        const a = w.ec2.networkAcls.find((x) => x.id === ACL_WEB)!;
        a.entries = [
          { ruleNumber: 1, egress: false, protocol: '-1', ruleAction: 'allow', cidrBlock: '0.0.0.0/0' },
          { ruleNumber: 100, egress: true, protocol: '-1', ruleAction: 'allow', cidrBlock: '0.0.0.0/0' },
        ];
      }),
    );
    const err = await h.run(deny, { subnetIds: [SUBNET_A], cidrs: ['203.0.113.0/24'] }).catch((e) => e);
    expect(err).toBeInstanceOf(ActionFailed);
    expect(err.code).toBe('NoFreeRuleNumber');
    expect(err.message).toMatch(/ingress\): no free rule number below the first allow rule 1/);
    expect(mutating(h.callsSince(0))).toEqual([]);
  });

  it.each([
    ['0.0.0.0/0', /denies every address/],
    ['::/0', /denies every address/],
    ['10.0.0.5/24', /host bits set; did you mean 10\.0\.0\.0\/24\?/],
    ['10.0.0.0/33', /not a CIDR block/],
    ['evil.example.com', /not a CIDR block/],
  ])('rejects %s in the input, before any call', async (cidr, message) => {
    const parsed = deny.input.safeParse({ subnetIds: [SUBNET_A], cidrs: [cidr] });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues[0]!.message).toMatch(message);
  });

  it.each([
    ['the same deny', '203.0.113.0/24', 'deny', null],
    ['something else', '10.9.0.0/16', 'allow', /another change took that number since the plan/],
  ] as const)(
    'a rule number taken between plan and apply by %s: converges, or fails naming the fix',
    async (_what, cidr, action, error) => {
      const h = harness();
      const input = deny.input.parse({ subnetIds: [SUBNET_A], cidrs: ['203.0.113.0/24'] });
      const plan = await deny.plan(h.ctx, input);
      acl(h.world, ACL_WEB).entries.push({ ruleNumber: 98, egress: false, protocol: '-1', ruleAction: action, cidrBlock: cidr });
      const applying = deny.apply(h.ctx, input, plan);
      if (error) await expect(applying).rejects.toThrow(error);
      else expect((await applying).created.map((c) => c.ruleNumber)).toEqual([98, 98]);
    },
  );

  it('refuses a subnet carrying the protected tag', async () => {
    const h = harness(
      fixtureWorld((w) => {
        w.ec2.subnets.find((s) => s.id === SUBNET_A)!.tags['firebreak:protected'] = 'true';
      }),
    );
    await expect(h.run(deny, { subnetIds: [SUBNET_A], cidrs: ['203.0.113.0/24'] })).rejects.toThrow(
      /refusing to change subnet-0a1000000000000a1/,
    );
    expect(mutating(h.callsSince(0))).toEqual([]);
  });

  it('refuses a protected instance', async () => {
    const h = harness();
    await expect(h.run(deny, { instanceId: VAULT, cidrs: ['203.0.113.0/24'] })).rejects.toThrow(/protected tag/);
    expect(mutating(h.callsSince(0))).toEqual([]);
  });
});

describe('ec2.remove-nacl-entries', () => {
  it('removes only the entries that are still what was created, and forgets the record', async () => {
    const h = harness();
    const r = await h.run(deny, { subnetIds: [SUBNET_A], cidrs: ['203.0.113.0/24'] });
    // Someone turned ingress rule 98 into something else since.
    const entry = acl(h.world, ACL_WEB).entries.find((e) => !e.egress && e.ruleNumber === 98)!;
    entry.cidrBlock = '203.0.113.128/25';
    const undone = await h.undo(deny, r);
    expect(undone.plan.notes).toEqual([
      `${ACL_WEB} ingress rule 98 is no longer the deny of 203.0.113.0/24 (now deny -1 203.0.113.128/25): left alone`,
    ]);
    expect(denies(h.world, ACL_WEB)).toEqual([
      'eg 99 192.0.2.0/24',
      'in 200 198.51.100.0/24',
      'in 98 203.0.113.128/25',
      'in 99 192.0.2.0/24',
    ]);
    expect(acl(h.world, ACL_WEB).tags[RUN_TAG]).toBeUndefined();
    expect(undone.output.left).toEqual([{ networkAclId: ACL_WEB, egress: false, ruleNumber: 98, cidr: '203.0.113.0/24' }]);
  });

  it('by range (a release without the journal): removes Firebreak-recorded denies of those ranges, never hand-made ones', async () => {
    const h = harness();
    const before = clone(h.world.ec2.networkAcls);
    await h.run(deny, { instanceId: WEB1, cidrs: ['203.0.113.0/24'] });
    const r = await h.run(removeEntries, { instanceId: WEB1, cidrs: ['203.0.113.0/24', '192.0.2.0/24'] });
    expect(allOk(r.checks)).toBe(true);
    expect(r.output.removed.length).toBe(4);
    // 192.0.2.0/24 at rule 99 was there before Firebreak: still there.
    expect(h.world.ec2.networkAcls).toEqual(before);
    const again = await h.run(removeEntries, { instanceId: WEB1, cidrs: ['203.0.113.0/24'] });
    expect(again.plan.alreadyDone).toBe(true);
    expect(mutating(again.calls)).toEqual([]);
  });
});
