/**
 * Who signed a request. The SDK signs every simulated call with real SigV4, so the access key id
 * in the Authorization header says whose credentials were used: the world's own responder, an IAM
 * user's long-term key, or a role session STS issued. Credentials AWS would refuse are refused
 * here too: an unknown or deactivated key, an expired session, a session whose role has revoked
 * older sessions, a user under a deny-all policy.
 */
import type { SimCaller, SimContext } from './service.js';
import type { World } from './world.js';
import { findAccessKey, findRoleSession, isKeyUsable, recordKeyUse, sessionStatus } from './services/iam/index.js';
import { roleFacts, userFacts } from './services/iam/facts.js';

export type Identity =
  | { ok: true; caller: SimCaller; longTermKey?: string }
  | { ok: false; problem: 'unknown-key' | 'expired' | 'denied'; caller?: SimCaller; message: string };

export async function identify(
  world: World,
  accessKeyId: string | undefined,
  responderKeyId: string,
  ctx: SimContext<World>,
  now: Date,
): Promise<Identity> {
  const responder: SimCaller = { arn: world.caller.arn, userId: world.caller.userId, account: world.account.id };
  if (accessKeyId === undefined || accessKeyId === responderKeyId) return { ok: true, caller: responder };

  const owned = findAccessKey(world, accessKeyId);
  if (owned) {
    const facts = await userFacts(ctx, owned.user.name);
    const caller: SimCaller = { arn: facts.Arn, userId: facts.UserId, account: world.account.id };
    if (owned.key.status !== 'Active')
      return { ok: false, problem: 'unknown-key', message: 'The security token included in the request is invalid.' };
    if (!isKeyUsable(world, accessKeyId, now)) return { ok: false, problem: 'denied', caller, message: 'explicit deny' };
    return { ok: true, caller, longTermKey: accessKeyId };
  }

  const session = findRoleSession(world, accessKeyId);
  if (session) {
    const roleName = session.roleArn.split('/').pop()!;
    const status = sessionStatus(world, session, now);
    if (status.reason === 'session expired')
      return { ok: false, problem: 'expired', message: 'The security token included in the request is expired' };
    const arn = `arn:aws:sts::${world.account.id}:assumed-role/${roleName}/${session.sessionName ?? session.sessionId}`;
    if (!status.valid)
      return {
        ok: false,
        problem: 'denied',
        caller: { arn, userId: session.sessionId, account: world.account.id },
        message: status.reason,
      };
    const role = await roleFacts(ctx, roleName);
    return { ok: true, caller: { arn, userId: `${role.RoleId}:${session.sessionName ?? session.sessionId}`, account: world.account.id } };
  }
  return { ok: false, problem: 'unknown-key', message: 'The security token included in the request is invalid.' };
}

export { recordKeyUse };
