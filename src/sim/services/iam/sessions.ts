/**
 * Whether credentials still work: access keys, role sessions (and AWS's "revoke active sessions"),
 * trust policies. Pure helpers STS, authentication and the tabletop use.
 */
import { findAccessKey, findRole, findRoleSession, nameFromArn } from './entities.js';
import {
  asList,
  conditionsHold,
  coversAction,
  deniesEverything,
  identityDocs,
  managedPolicyDoc,
  parseDoc,
  statementsOf,
  type RequestContext,
} from './policy-eval.js';
import type { RoleSession, WithIam } from './schema.js';

/**
 * True when a call signed with this access key would still be authorised to do something: a
 * long-term key must be Active and its user not under a deny-all policy (AWSDenyAll attached, or
 * an inline `Deny * on *`); a session key (ASIA…) must belong to a session `isSessionValid`
 * accepts. `now` is needed to judge session expiry; without it expiry is not checked.
 * Note: a "revoke older sessions" policy never stops a long-term key — it carries no token.
 */
export function isKeyUsable(world: WithIam, accessKeyId: string, now?: Date): boolean {
  const owned = findAccessKey(world, accessKeyId);
  if (owned) {
    if (owned.key.status !== 'Active') return false;
    const rc: RequestContext = now ? { now } : {};
    return !identityDocs(world, owned.user).some((doc) => deniesEverything(doc, rc));
  }
  const session = findRoleSession(world, accessKeyId);
  return session ? sessionStatus(world, session, now).valid : false;
}

/**
 * Record a role session STS issued (AssumeRole). Returns the stored record. Dates may be Date
 * objects or ISO strings. The session id defaults to the temporary access key id.
 */
export function recordRoleSession(
  world: WithIam,
  session: {
    roleArn: string;
    accessKeyId: string;
    issuedAt: Date | string;
    expiresAt?: Date | string;
    sessionName?: string;
    sessionId?: string;
    sourceIdentity?: string;
  },
): RoleSession {
  const iso = (d: Date | string) => new Date(d).toISOString();
  const record: RoleSession = {
    sessionId: session.sessionId ?? session.accessKeyId,
    roleArn: session.roleArn,
    accessKeyId: session.accessKeyId,
    issuedAt: iso(session.issuedAt),
    ...(session.expiresAt !== undefined ? { expiresAt: iso(session.expiresAt) } : {}),
    ...(session.sessionName !== undefined ? { sessionName: session.sessionName } : {}),
    ...(session.sourceIdentity !== undefined ? { sourceIdentity: session.sourceIdentity } : {}),
  };
  world.iam.sessions.push(record);
  return record;
}

/**
 * Whether a role session still works at `now`, and why not. A session dies when it expires,
 * when its role is deleted, or when a policy on the role denies every action for it — which is
 * what the console's "Revoke active sessions" does: it adds the inline policy
 * AWSRevokeOlderSessions, `Deny * on *` with `DateLessThan {aws:TokenIssueTime: <now>}`, so sessions
 * issued before that instant are refused and sessions issued after it keep working (and
 * AssumeRole keeps issuing new ones until the trust policy changes: see `trustPolicyAllows`).
 */
export function sessionStatus(world: WithIam, session: RoleSession | string, now?: Date): { valid: boolean; reason: string } {
  const s = typeof session === 'string' ? findRoleSession(world, session) : session;
  if (!s) return { valid: false, reason: 'no such session' };
  if (now && s.expiresAt && now.getTime() >= Date.parse(s.expiresAt)) return { valid: false, reason: 'session expired' };
  const role = findRole(world, s.roleArn);
  if (!role) return { valid: false, reason: `role ${nameFromArn(s.roleArn)} no longer exists` };
  const rc: RequestContext = { tokenIssueTime: new Date(s.issuedAt), ...(now ? { now } : {}) };
  for (const [name, doc] of Object.entries(role.inlinePolicies)) {
    if (deniesEverything(parseDoc(doc), rc)) return { valid: false, reason: `denied by inline policy ${name} of role ${role.name}` };
  }
  for (const arn of role.attachedPolicies) {
    if (deniesEverything(managedPolicyDoc(world, arn), rc)) return { valid: false, reason: `denied by managed policy ${arn}` };
  }
  return { valid: true, reason: 'active' };
}

export function isSessionValid(world: WithIam, session: RoleSession | string, now: Date): boolean {
  return sessionStatus(world, session, now).valid;
}

export function principalMatches(principal: unknown, caller: string): boolean {
  if (principal === '*') return true;
  if (!principal || typeof principal !== 'object') return false;
  const p = principal as Record<string, unknown>;
  for (const svc of asList(p.Service)) if (svc === caller) return true;
  // An assumed-role session acts as its role: arn:aws:sts::ACCT:assumed-role/NAME/SESSION.
  const assumed = /^arn:aws:sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(caller);
  const callerAccount = assumed?.[1] ?? /^arn:aws:iam::(\d{12}):/.exec(caller)?.[1];
  for (const v of asList(p.AWS)) {
    if (typeof v !== 'string') continue;
    if (v === '*' || v === caller) return true;
    if (callerAccount && (v === callerAccount || v === `arn:aws:iam::${callerAccount}:root`)) return true;
    if (assumed && v.startsWith(`arn:aws:iam::${assumed[1]}:role/`) && nameFromArn(v) === assumed[2]) return true;
  }
  return false;
}

/**
 * Whether the role's trust policy lets `principal` (an IAM/STS ARN, or a service principal such
 * as `ec2.amazonaws.com`) call `action` (sts:AssumeRole; sts:SetSourceIdentity when the session
 * is to carry a source identity): an explicit Deny wins, else an Allow must match.
 */
export function trustPolicyAllows(
  world: WithIam,
  roleNameOrArn: string,
  principal: string,
  rc: RequestContext = {},
  action = 'sts:AssumeRole',
): boolean {
  const role = findRole(world, roleNameOrArn);
  if (!role) return false;
  const matching = statementsOf(parseDoc(role.trustPolicy)).filter(
    (st) => coversAction(st, action) && principalMatches(st.Principal, principal) && conditionsHold(st.Condition, rc),
  );
  if (matching.some((st) => st.Effect === 'Deny')) return false;
  return matching.some((st) => st.Effect === 'Allow');
}

/** Record that a long-term access key signed a request (IAM's GetAccessKeyLastUsed reports it). */
export function recordKeyUse(world: WithIam, accessKeyId: string, use: { at: Date; service: string; region: string }): void {
  const owned = findAccessKey(world, accessKeyId);
  if (owned) owned.key.lastUsed = { date: use.at.toISOString(), service: use.service, region: use.region };
}
