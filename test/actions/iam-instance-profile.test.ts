/** ec2.replace-instance-profile (which also revokes the old role's sessions) and its undo ec2.restore-instance-profile. */
import { describe, expect, it } from 'vitest';
import replaceInstanceProfile from '../../src/actions/ec2/replace-instance-profile.js';
import restoreInstanceProfile from '../../src/actions/ec2/restore-instance-profile.js';
import { sessionStatus } from '../../src/sim/services/iam/index.js';
import { bench, INSTANCE, QUARANTINE_PROFILE_ARN, rejection, role, testWorld, WEB_PROFILE_ARN } from './iam-harness.js';

const association = (w: any) => w.ec2.iamInstanceProfileAssociations.find((a: any) => a.instanceId === INSTANCE);
const tags = (w: any) => w.ec2.instances.find((i: any) => i.id === INSTANCE).tags;

describe('ec2.replace-instance-profile', () => {
  it('swaps in the quarantine profile, then revokes the old role so IMDS credentials already fetched die; converges; undo restores', async () => {
    const b = bench();
    const input = { instanceId: INSTANCE, quarantineProfile: 'firebreak-quarantine' };
    const plan = await b.plan(replaceInstanceProfile, input);
    expect(plan.changes.map((c) => c.field)).toEqual([
      'instance profile',
      'tag firebreak:original-instance-profile',
      'inline policy AWSRevokeOlderSessions',
    ]);
    expect(plan.changes[0]).toMatchObject({ before: WEB_PROFILE_ARN, after: QUARANTINE_PROFILE_ARN });
    expect(b.writesSince(0)).toEqual([]);

    const from = b.sim.calls.length;
    const output = await b.apply(replaceInstanceProfile, input, plan);
    // Tag before the swap, revocation after it.
    expect(b.writesSince(from)).toEqual(['ec2:CreateTags', 'ec2:ReplaceIamInstanceProfileAssociation', 'iam:PutRolePolicy']);
    expect(output).toEqual({
      instanceId: INSTANCE,
      previousInstanceProfileArn: WEB_PROFILE_ARN,
      instanceProfileArn: QUARANTINE_PROFILE_ARN,
      roleName: 'web-app-role',
      revokedBefore: '2026-01-01T00:00:00.000Z',
    });
    expect(association(b.world).instanceProfileArn).toBe(QUARANTINE_PROFILE_ARN);
    expect(tags(b.world)['firebreak:original-instance-profile']).toBe(WEB_PROFILE_ARN);
    expect(sessionStatus(b.world, 'imds-web-1', b.clock.now()).valid).toBe(false);
    expect(role(b.world, 'firebreak-quarantine-role').inlinePolicies).toEqual({});
    expect((await b.verify(replaceInstanceProfile, input, output)).map((c) => c.ok)).toEqual([true, true]);

    // A second run finds the original on the tag, the swap done and the revocation in place.
    const again = b.sim.calls.length;
    const second = await b.run(replaceInstanceProfile, input);
    expect(second.plan.alreadyDone).toBe(true);
    expect(second.output.previousInstanceProfileArn).toBe(WEB_PROFILE_ARN);
    expect(b.writesSince(again)).toEqual([]);

    const undoInput = replaceInstanceProfile.undo!.input(output, input);
    expect(undoInput).toEqual({ instanceId: INSTANCE, instanceProfileArn: WEB_PROFILE_ARN });
    const undoFrom = b.sim.calls.length;
    const undo = await b.run(restoreInstanceProfile, undoInput);
    expect(b.writesSince(undoFrom)).toEqual(['ec2:ReplaceIamInstanceProfileAssociation', 'ec2:DeleteTags']);
    expect(undo.checks.every((c) => c.ok)).toBe(true);
    expect(association(b.world).instanceProfileArn).toBe(WEB_PROFILE_ARN);
    expect(tags(b.world)['firebreak:original-instance-profile']).toBeUndefined();
    // The revocation stays: only credentials issued before it are refused.
    expect(role(b.world, 'web-app-role').inlinePolicies.AWSRevokeOlderSessions).toBeDefined();
    const undoAgain = b.sim.calls.length;
    expect((await b.run(restoreInstanceProfile, undoInput)).plan.alreadyDone).toBe(true);
    expect(b.writesSince(undoAgain)).toEqual([]);
  });

  it('without a quarantine profile it disassociates; undo associates the original again', async () => {
    const b = bench();
    const { output, checks } = await b.run(replaceInstanceProfile, { instanceId: INSTANCE });
    expect(checks.every((c) => c.ok)).toBe(true);
    expect(association(b.world)).toBeUndefined();
    expect(output.instanceProfileArn).toBeNull();
    expect(b.writesSince(0)).toEqual(['ec2:CreateTags', 'ec2:DisassociateIamInstanceProfile', 'iam:PutRolePolicy']);
    const from = b.sim.calls.length;
    await b.run(restoreInstanceProfile, replaceInstanceProfile.undo!.input(output, { instanceId: INSTANCE }));
    expect(b.writesSince(from)).toEqual(['ec2:AssociateIamInstanceProfile', 'ec2:DeleteTags']);
    expect(association(b.world).instanceProfileArn).toBe(WEB_PROFILE_ARN);
  });

  it('revokeSessions: false leaves the role alone', async () => {
    const b = bench();
    await b.run(replaceInstanceProfile, { instanceId: INSTANCE, quarantineProfile: QUARANTINE_PROFILE_ARN, revokeSessions: false });
    expect(role(b.world, 'web-app-role').inlinePolicies).toEqual({});
    expect(sessionStatus(b.world, 'imds-web-1', b.clock.now()).valid).toBe(true);
  });

  it('an instance without a profile needs nothing', async () => {
    const b = bench(testWorld((w) => (w.ec2.iamInstanceProfileAssociations = [])));
    const { plan } = await b.run(replaceInstanceProfile, { instanceId: INSTANCE, quarantineProfile: 'firebreak-quarantine' });
    expect(plan.alreadyDone).toBe(true);
    expect(plan.notes.join(' ')).toMatch(/no instance profile/);
    expect(b.writesSince(0)).toEqual([]);
  });

  it.each([
    ['a protected instance', { instanceId: 'i-0fedcba9876543210' }, 'GuardrailRefusal'],
    ['an unknown quarantine profile', { instanceId: INSTANCE, quarantineProfile: 'no-such-profile' }, 'NoSuchEntityException'],
  ])('refuses %s with no write', async (_name, input, name) => {
    const b = bench();
    expect((await rejection(b.plan(replaceInstanceProfile, input))).name).toBe(name);
    expect(b.writesSince(0)).toEqual([]);
  });
});
