/**
 * What an outcome teaches: one sentence the facilitator reads out when the attacker's move shows
 * the consequence of a decision ("tracked connections survive a security-group change").
 */
import { interfaceOf, type Connection, type World } from '../sim/index.js';

/** Why an attacker connection is still open, in the players' terms. */
export function explainOpenConnection(world: World, conn: Connection): string | undefined {
  const eni = interfaceOf(world, conn);
  if (!eni) return undefined;
  const groups = world.ec2.securityGroups.filter((g) => eni.groups.includes(g.id));
  const noRules = groups.length > 0 && groups.every((g) => g.ingress.length === 0 && g.egress.length === 0);
  if (noRules) {
    return `the attacker's session is still open: tracked connections survive a security-group change (${eni.groups.join(', ')} has no rules, yet the flow goes on) — move the instance to an allow-all group first (two-step swap), or deny the address in the network ACL`;
  }
  return `the attacker's session is still open: ${conn.instanceId} is not isolated`;
}

/** What an AWS error on the attacker's call means for the defence. */
export function explainAwsError(code: string, accessKeyId: string | undefined): string | undefined {
  switch (code) {
    case 'InvalidClientTokenId':
    case 'AuthFailure':
      return `AWS no longer accepts ${accessKeyId ?? 'the key'}: it was deactivated or deleted`;
    case 'AccessDenied':
    case 'AccessDeniedException':
    case 'UnauthorizedOperation':
      return 'an explicit deny stops these credentials (a deny-all policy, or revoked sessions)';
    case 'ExpiredToken':
    case 'RequestExpired':
      return 'the session had expired';
    case 'LimitExceededException':
      return 'AWS allows two access keys per user';
    default:
      return undefined;
  }
}
