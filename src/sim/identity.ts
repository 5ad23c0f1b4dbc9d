/**
 * Who signed a request. The SDK signs every simulated call with real SigV4, so the access key id
 * in the Authorization header says whose credentials were used: the world's own responder, an IAM
 * user's long-term key, or a role session STS issued — in whichever account of the world holds
 * the key or the session, which is the account the request acts in. Credentials AWS would refuse
 * are refused here too: an unknown or deactivated key, an expired session, a session whose role
 * has revoked older sessions, a user under a deny-all policy.
 */
import type { SimCaller, SimContext } from './service.js';
import type { World } from './world.js';
import { findAccessKey, findRoleSession, isKeyUsable, recordKeyUse, sessionStatus } from './services/iam/index.js';
import { roleFacts, userFacts } from './services/iam/facts.js';
import { accountIds, accountWorld } from './scopes.js';

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

  for (const account of accountIds(world)) {
    const home = accountWorld(world, account)!;
    // IAM's facts (unique ids, ARNs) as the owning account's IAM reports them.
    const inAccount: SimContext<World> = { ...ctx, world: home, accountId: account };
    const owned = findAccessKey(home, accessKeyId);
    if (owned) {
      const facts = await userFacts(inAccount, owned.user.name);
      const caller: SimCaller = { arn: facts.Arn, userId: facts.UserId, account };
      if (owned.key.status !== 'Active')
        return { ok: false, problem: 'unknown-key', message: 'The security token included in the request is invalid.' };
      if (!isKeyUsable(home, accessKeyId, now)) return { ok: false, problem: 'denied', caller, message: 'explicit deny' };
      return { ok: true, caller, longTermKey: accessKeyId };
    }

    const session = findRoleSession(home, accessKeyId);
    if (session) {
      const roleName = session.roleArn.split('/').pop()!;
      const status = sessionStatus(home, session, now);
      if (status.reason === 'session expired')
        return { ok: false, problem: 'expired', message: 'The security token included in the request is expired' };
      const arn = `arn:aws:sts::${account}:assumed-role/${roleName}/${session.sessionName ?? session.sessionId}`;
      if (!status.valid)
        return { ok: false, problem: 'denied', caller: { arn, userId: session.sessionId, account }, message: status.reason };
      const role = await roleFacts(inAccount, roleName);
      const userId = `${role.RoleId}:${session.sessionName ?? session.sessionId}`;
      const chained = session.sourceIdentity !== undefined ? { sourceIdentity: session.sourceIdentity } : {};
      return { ok: true, caller: { arn, userId, account, ...chained } };
    }
  }
  return { ok: false, problem: 'unknown-key', message: 'The security token included in the request is invalid.' };
}

export { recordKeyUse };
