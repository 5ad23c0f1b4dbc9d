/** iam.revoke-role-sessions and its undo iam.remove-session-revocation. */
import { describe, expect, it } from 'vitest';
import revokeRoleSessions from '../../src/actions/iam/revoke-role-sessions.js';
import removeSessionRevocation from '../../src/actions/iam/remove-session-revocation.js';
import { revocationDocument, runStartedAt } from '../../src/actions/shared/session-revocation.js';
import { recordRoleSession, sessionStatus } from '../../src/sim/services/iam/index.js';
import { ACCOUNT, bench, rejection, role, testWorld } from './iam-harness.js';

const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/web-app-role`;

describe('iam.revoke-role-sessions', () => {
  it("writes the console's AWSRevokeOlderSessions policy: older sessions die, newer ones live; a rerun changes nothing", async () => {
    const b = bench();
    b.clock.advance(90_000); // the run started at 00:00:00; the step runs 90 s later
    expect(sessionStatus(b.world, 'imds-web-1', b.clock.now()).valid).toBe(true);
    const plan = await b.plan(revokeRoleSessions, { roleName: 'web-app-role' });
    expect(plan.alreadyDone).toBe(false);
    expect(plan.changes).toMatchObject([{ resource: ROLE_ARN, field: 'inline policy AWSRevokeOlderSessions', before: null }]);
    expect(b.writesSince(0)).toEqual([]);

    const from = b.sim.calls.length;
    const output = await b.apply(revokeRoleSessions, { roleName: 'web-app-role' }, plan);
    expect(b.writesSince(from)).toEqual(['iam:PutRolePolicy']);
    expect(output).toEqual({ roleName: 'web-app-role', roleArn: ROLE_ARN, revokedBefore: '2026-01-01T00:01:30.000Z' });
    expect(JSON.parse(role(b.world, 'web-app-role').inlinePolicies.AWSRevokeOlderSessions)).toEqual({
      Version: '2012-10-17',
      Statement: {
        Effect: 'Deny',
        Action: '*',
        Resource: '*',
        Condition: { DateLessThan: { 'aws:TokenIssueTime': '2026-01-01T00:01:30.000Z' } },
      },
    });
    expect(sessionStatus(b.world, 'imds-web-1', b.clock.now())).toEqual({
      valid: false,
      reason: 'denied by inline policy AWSRevokeOlderSessions of role web-app-role',
    });
    b.clock.advance(1000);
    recordRoleSession(b.world, { roleArn: ROLE_ARN, accessKeyId: 'ASIAEXAMPLEAFTERREV0', issuedAt: b.clock.now() });
    expect(sessionStatus(b.world, 'ASIAEXAMPLEAFTERREV0', b.clock.now()).valid).toBe(true);
    expect((await b.verify(revokeRoleSessions, { roleName: 'web-app-role' }, output)).every((c) => c.ok)).toBe(true);

    // Resumed or repeated: the policy's instant is after the run's start, so it is kept.
    b.clock.advance(60_000);
    const again = b.sim.calls.length;
    const second = await b.run(revokeRoleSessions, { roleName: 'web-app-role' });
    expect(second.plan.alreadyDone).toBe(true);
    expect(second.output.revokedBefore).toBe('2026-01-01T00:01:30.000Z');
    expect(b.writesSince(again)).toEqual([]);
    expect(sessionStatus(b.world, 'ASIAEXAMPLEAFTERREV0', b.clock.now()).valid).toBe(true);
  });

  it('undo deletes the policy, and the old sessions are valid again', async () => {
    const b = bench();
    const { output } = await b.run(revokeRoleSessions, { roleName: `arn:aws:iam::${ACCOUNT}:role/web-app-role` });
    const undoInput = revokeRoleSessions.undo!.input(output, { roleName: 'web-app-role' });
    expect(undoInput).toEqual({ roleName: 'web-app-role', revokedBefore: output.revokedBefore });
    const undo = await b.run(removeSessionRevocation, undoInput);
    expect(undo.plan.notes.join(' ')).toMatch(/attacker's included/);
    expect(undo.checks.every((c) => c.ok)).toBe(true);
    expect(role(b.world, 'web-app-role').inlinePolicies).toEqual({});
    expect(sessionStatus(b.world, 'imds-web-1', b.clock.now()).valid).toBe(true);
    const from = b.sim.calls.length;
    expect((await b.run(removeSessionRevocation, undoInput)).plan.alreadyDone).toBe(true);
    expect(b.writesSince(from)).toEqual([]);
  });

  it('moves an older revocation forward, and undo puts the older instant back', async () => {
    const older = new Date('2025-12-01T00:00:00.000Z');
    const b = bench(testWorld((w) => (w.iam.roles[0].inlinePolicies = { AWSRevokeOlderSessions: revocationDocument(older) })));
    expect(sessionStatus(b.world, 'imds-web-1', b.clock.now()).valid).toBe(true);
    const { plan, output } = await b.run(revokeRoleSessions, { roleName: 'web-app-role' });
    expect(plan.changes[0]!.before).toBe('deny sessions issued before 2025-12-01T00:00:00.000Z');
    expect(output.previousRevokedBefore).toBe('2025-12-01T00:00:00.000Z');
    expect(sessionStatus(b.world, 'imds-web-1', b.clock.now()).valid).toBe(false);
    const undo = await b.run(removeSessionRevocation, revokeRoleSessions.undo!.input(output, { roleName: 'web-app-role' }));
    expect(undo.checks.every((c) => c.ok)).toBe(true);
    expect(JSON.parse(role(b.world, 'web-app-role').inlinePolicies.AWSRevokeOlderSessions)).toEqual(JSON.parse(revocationDocument(older)));
    expect(sessionStatus(b.world, 'imds-web-1', b.clock.now()).valid).toBe(true);
  });

  // Three runs revoke the role's sessions in turn; their undos run in every order. A session issued
  // after a revocation still in force (its run not undone) must never become valid again.
  it.each([
    ['oldest first', [0, 1, 2]],
    ['middle first', [1, 0, 2]],
    ['middle, then newest', [1, 2, 0]],
    ['newest first', [2, 1, 0]],
  ])('undoing three revocations %s never re-validates a session a remaining revocation denies', async (_order, order) => {
    const b = bench();
    const undos: Array<{ input: unknown; instant: string }> = [];
    for (const n of [1, 2, 3]) {
      b.clock.advance(60_000);
      b.ctx.run = { ...b.ctx.run, id: `run-${n}`, startedAt: b.clock.now().toISOString() };
      const { output } = await b.run(revokeRoleSessions, { roleName: 'web-app-role' });
      undos.push({ input: revokeRoleSessions.undo!.input(output, { roleName: 'web-app-role' }), instant: output.revokedBefore });
      // A session issued just after each revocation: valid until a later one denies it.
      b.clock.advance(1000);
      recordRoleSession(b.world, { roleArn: ROLE_ARN, accessKeyId: `ASIAEXAMPLEAFTERRUN${n}`, issuedAt: b.clock.now() });
    }
    const active = new Set([0, 1, 2]);
    for (const i of order) {
      const undo = await b.run(removeSessionRevocation, undos[i]!.input);
      expect(undo.checks.every((c) => c.ok)).toBe(true);
      const newerActive = [...active].some((j) => j > i);
      if (newerActive) {
        expect(undo.plan.changes).toEqual([]);
        expect(undo.plan.notes.join(' ')).toMatch(/^kept: a later run \(or a person\) revoked sessions of web-app-role up to /);
      }
      active.delete(i);
      // Every session issued before a revocation still in force stays denied.
      for (const j of active)
        for (let s = 0; s < j; s++) expect(sessionStatus(b.world, `ASIAEXAMPLEAFTERRUN${s + 1}`, b.clock.now()).valid).toBe(false);
    }
    // Newest first takes every revocation back; another order leaves the newest instant still in force
    // (stricter than needed, never looser) and says so in the plans.
    const left = role(b.world, 'web-app-role').inlinePolicies.AWSRevokeOlderSessions;
    if (order[0] === 2 && order[1] === 1) expect(left).toBeUndefined();
  });

  it.each([
    ['by name', 'AWSServiceRoleForAutoScaling'],
    ['by ARN', `arn:aws:iam::${ACCOUNT}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`],
  ])('refuses a service-linked role %s before calling AWS', async (_how, roleName) => {
    const b = bench();
    const err = await rejection(b.plan(revokeRoleSessions, { roleName }));
    expect(err.message).toMatch(/service-linked role, which only AWS may modify/);
    expect(err.code).toBe('UnmodifiableEntityException');
    expect(b.sim.calls).toEqual([]);
  });

  it('refuses a role whose path shows it is service-linked (after reading it), with no write', async () => {
    const b = bench(testWorld((w) => (w.iam.roles[2].name = 'custom-named-linked-role')));
    const err = await rejection(b.plan(revokeRoleSessions, { roleName: 'custom-named-linked-role' }));
    expect(err.code).toBe('UnmodifiableEntityException');
    expect(b.writesSince(0)).toEqual([]);
    expect(role(b.world, 'custom-named-linked-role').inlinePolicies).toEqual({});
  });

  it('takes the run start from a Firebreak run id, else the plan time', () => {
    const clock = { now: () => new Date('2026-03-01T10:00:00Z') } as never;
    expect(runStartedAt({ run: { id: '20260301-093000-abcdef' } as never, clock }).toISOString()).toBe('2026-03-01T09:30:00.000Z');
    expect(runStartedAt({ run: { id: 'guardduty-finding-1234' } as never, clock }).toISOString()).toBe('2026-03-01T10:00:00.000Z');
  });
});
