/** iam.quarantine-user and its undo iam.release-user. */
import { describe, expect, it } from 'vitest';
import quarantineUser from '../../src/actions/iam/quarantine-user.js';
import releaseUser from '../../src/actions/iam/release-user.js';
import { isKeyUsable } from '../../src/sim/services/iam/index.js';
import { bench, LEAKED_KEY, rejection, testWorld, user } from './iam-harness.js';

const DENY_ALL = 'arn:aws:iam::aws:policy/AWSDenyAll';

describe('iam.quarantine-user', () => {
  it('attaches AWSDenyAll, which stops every key of the user; a second run changes nothing; undo detaches it', async () => {
    const b = bench();
    expect(isKeyUsable(b.world, LEAKED_KEY)).toBe(true);
    const plan = await b.plan(quarantineUser, { userName: 'deploy-bot' });
    expect(plan.changes).toEqual([
      { resource: 'arn:aws:iam::111122223333:user/deploy-bot', field: 'attached policies', before: [], after: [DENY_ALL] },
    ]);
    expect(b.writesSince(0)).toEqual([]);

    const from = b.sim.calls.length;
    const output = await b.apply(quarantineUser, { userName: 'deploy-bot' }, plan);
    expect(b.writesSince(from)).toEqual(['iam:AttachUserPolicy']);
    expect(output).toMatchObject({ method: 'managed', policy: DENY_ALL });
    expect(user(b.world, 'deploy-bot').attachedPolicies).toEqual([DENY_ALL]);
    expect(isKeyUsable(b.world, LEAKED_KEY)).toBe(false);
    expect(isKeyUsable(b.world, 'AKIAIOSFODNN7CIBOT01')).toBe(true);
    expect((await b.verify(quarantineUser, { userName: 'deploy-bot' }, output)).every((c) => c.ok)).toBe(true);

    const again = b.sim.calls.length;
    const second = await b.run(quarantineUser, { userName: 'deploy-bot' });
    expect(second.plan.alreadyDone).toBe(true);
    expect(b.writesSince(again)).toEqual([]);

    const undoInput = quarantineUser.undo!.input(output, { userName: 'deploy-bot' });
    const undo = await b.run(releaseUser, undoInput);
    expect(undo.checks.every((c) => c.ok)).toBe(true);
    expect(user(b.world, 'deploy-bot').attachedPolicies).toEqual([]);
    expect(isKeyUsable(b.world, LEAKED_KEY)).toBe(true);
    const afterUndo = b.sim.calls.length;
    expect((await b.run(releaseUser, undoInput)).plan.alreadyDone).toBe(true);
    expect(b.writesSince(afterUndo)).toEqual([]);
  });

  it('falls back to the inline deny when the user is at the managed-policy quota', async () => {
    const many = Array.from({ length: 10 }, (_, i) => ({
      name: `team-policy-${i}`,
      document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:ListBucket', Resource: '*' }] },
    }));
    const b = bench(
      testWorld((w) => {
        w.iam.policies = many;
        w.iam.users[1].attachedPolicies = many.map((p) => `arn:aws:iam::111122223333:policy/${p.name}`);
      }),
    );
    const { output, checks } = await b.run(quarantineUser, { userName: 'deploy-bot' });
    expect(output).toMatchObject({ method: 'inline', policy: 'firebreak-quarantine' });
    expect(checks.every((c) => c.ok)).toBe(true);
    expect(Object.keys(user(b.world, 'deploy-bot').inlinePolicies)).toEqual(['firebreak-quarantine']);
    expect(isKeyUsable(b.world, LEAKED_KEY)).toBe(false);
    expect(b.notes.some((n) => n.includes('managed policy quota'))).toBe(true);

    await b.run(releaseUser, { userName: 'deploy-bot' });
    expect(user(b.world, 'deploy-bot').inlinePolicies).toEqual({});
    expect(user(b.world, 'deploy-bot').attachedPolicies).toHaveLength(10);
  });

  it("refuses the caller's own user, before any write, with the way out", async () => {
    const b = bench();
    const err = await rejection(b.plan(quarantineUser, { userName: 'oncall-responder' }));
    expect(err.name).toBe('GuardrailRefusal');
    expect(err.message).toMatch(/Firebreak is running as this user/);
    expect(err.hint).toMatch(/--role-arn/);
    expect(b.writesSince(0)).toEqual([]);
    expect(user(b.world, 'oncall-responder').attachedPolicies).toEqual([]);
  });

  it('refuses a protected user and an unknown one', async () => {
    const b = bench();
    expect((await rejection(b.plan(quarantineUser, { userName: 'vault-admin' }))).name).toBe('GuardrailRefusal');
    expect((await rejection(b.plan(quarantineUser, { userName: 'nobody' }))).name).toBe('NoSuchEntityException');
    expect(b.writesSince(0)).toEqual([]);
  });
});
