/**
 * "Revoke active sessions" as the IAM console does it, shared by iam.revoke-role-sessions and
 * ec2.replace-instance-profile: an inline role policy named AWSRevokeOlderSessions that denies
 * every action to credentials whose aws:TokenIssueTime is before a given instant
 * (IAM User Guide, "Revoke IAM role temporary security credentials").
 */
import type { IAMClient, Role } from '@aws-sdk/client-iam';
import type { ActionContext, Change, Check } from '../define.js';
import { ActionFailed, isAwsError } from '../../core/errors.js';
import { nameOf, parsePolicyDocument } from './iam.js';
import { IAM } from '../../cloud/sdk.js';

export const REVOKE_POLICY_NAME = 'AWSRevokeOlderSessions';

export const REVOKE_PERMISSIONS = ['iam:GetRole', 'iam:GetRolePolicy', 'iam:PutRolePolicy'] as const;

/** The console's document, statement for statement; only the instant differs. */
export function revocationDocument(before: Date): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: { Effect: 'Deny', Action: '*', Resource: '*', Condition: { DateLessThan: { 'aws:TokenIssueTime': before.toISOString() } } },
  });
}

const asList = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** The instant a revocation document denies sessions before, or undefined when it is not that shape. */
export function revokedBeforeOf(doc: unknown): Date | undefined {
  const statements = asList((doc as { Statement?: unknown } | undefined)?.Statement) as Array<Record<string, unknown>>;
  for (const st of statements) {
    if (st?.Effect !== 'Deny' || !asList(st.Action).includes('*') || !asList(st.Resource).includes('*')) continue;
    const t = (st.Condition as { DateLessThan?: Record<string, unknown> } | undefined)?.DateLessThan?.['aws:TokenIssueTime'];
    const when = typeof t === 'string' ? new Date(t) : undefined;
    if (when && !Number.isNaN(when.getTime())) return when;
  }
  return undefined;
}

/**
 * Service-linked roles (path /aws-service-role/) and IAM Identity Center roles (/aws-reserved/)
 * can only be changed by AWS: IAM answers UnmodifiableEntityException. Refused here first, with
 * the way out, so a playbook never half-runs against one.
 */
export function assertModifiableRole(roleName: string, path: string | undefined): void {
  if (path?.startsWith('/aws-service-role/') || (!path && roleName.startsWith('AWSServiceRoleFor'))) {
    throw new ActionFailed(
      `failed to revoke sessions of role ${roleName}: it is a service-linked role, which only AWS may modify (IAM would answer UnmodifiableEntityException)`,
      'UnmodifiableEntityException',
      {
        hint: 'contain the principal that uses it instead: disable the AWS service feature that created the role, or revoke the sessions of the role the attacker actually assumed',
      },
    );
  }
  if (path?.startsWith('/aws-reserved/')) {
    throw new ActionFailed(
      `failed to revoke sessions of role ${roleName}: it is managed by IAM Identity Center, which only AWS may modify`,
      'UnmodifiableEntityException',
      {
        hint: 'revoke the permission-set sessions in IAM Identity Center (Users → Active sessions) instead',
      },
    );
  }
}

/** The path segment of a role ARN (`/aws-service-role/ec2.amazonaws.com/`), when the reference is an ARN. */
function pathOfArn(ref: string): string | undefined {
  if (!ref.startsWith('arn:')) return undefined;
  const afterRole = ref.slice(ref.indexOf(':role/') + ':role'.length);
  return afterRole.slice(0, afterRole.lastIndexOf('/') + 1);
}

export interface RevocationState {
  roleName: string;
  roleArn: string;
  /** ISO time of the current AWSRevokeOlderSessions policy, if the role has one of that shape. */
  revokedBefore?: string;
  /** The role has a policy by that name that is not a revocation (it would be replaced). */
  foreignPolicy: boolean;
}

/** Read the role and its revocation policy in one round trip. Refuses unmodifiable roles before any call when the reference shows it. */
export async function readRevocation(iam: IAMClient, roleRef: string): Promise<{ state: RevocationState; role: Role }> {
  const roleName = nameOf(roleRef);
  const arnPath = pathOfArn(roleRef);
  if (arnPath !== undefined || roleName.startsWith('AWSServiceRoleFor')) assertModifiableRole(roleName, arnPath);
  const [roleOut, policy] = await Promise.all([
    iam.send(new IAM.GetRoleCommand({ RoleName: roleName })),
    iam.send(new IAM.GetRolePolicyCommand({ RoleName: roleName, PolicyName: REVOKE_POLICY_NAME })).catch((err) => {
      // No revocation yet (or no such role: GetRole reports that one).
      if (isAwsError(err, 'NoSuchEntityException')) return undefined;
      throw err;
    }),
  ]);
  const role = roleOut.Role!;
  assertModifiableRole(roleName, role.Path);
  const before = policy ? revokedBeforeOf(parsePolicyDocument(policy.PolicyDocument)) : undefined;
  return {
    role,
    state: {
      roleName,
      roleArn: role.Arn!,
      ...(before ? { revokedBefore: before.toISOString() } : {}),
      foreignPolicy: policy !== undefined && before === undefined,
    },
  };
}

/**
 * When the run started (from the journal's run.started, else the run id): a revocation at or after it was made by this run (or a later one) and
 * is kept as is, so a resumed or repeated step does not move the instant. Run ids Firebreak
 * makes begin with their start time (YYYYMMDD-HHMMSS-…); other ids (an alert's dedup key) fall
 * back to the time of this plan.
 */
export function runStartedAt(ctx: Pick<ActionContext, 'run' | 'clock'>): Date {
  if (ctx.run.startedAt) return new Date(ctx.run.startedAt);
  const m = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})-/.exec(ctx.run.id);
  if (m) {
    const t = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
    if (!Number.isNaN(t.getTime()) && t.getTime() <= ctx.clock.now().getTime()) return t;
  }
  return ctx.clock.now();
}

/** Whether the role still needs revoking (relative to `since`), and the change to show. */
export function planRevocation(state: RevocationState, since: Date): { done: boolean; change?: Change; notes: string[] } {
  const notes: string[] = [];
  if (state.revokedBefore && new Date(state.revokedBefore).getTime() >= since.getTime()) {
    notes.push(`sessions of ${state.roleName} issued before ${state.revokedBefore} are already revoked (${REVOKE_POLICY_NAME})`);
    return { done: true, notes };
  }
  if (state.foreignPolicy)
    notes.push(`${state.roleName} has an inline policy named ${REVOKE_POLICY_NAME} that is not a session revocation: it is replaced`);
  return {
    done: false,
    notes,
    change: {
      resource: state.roleArn,
      field: `inline policy ${REVOKE_POLICY_NAME}`,
      before: state.revokedBefore ? `deny sessions issued before ${state.revokedBefore}` : null,
      after: 'deny every action to sessions issued before now (the time of apply)',
    },
  };
}

export async function applyRevocation(iam: IAMClient, roleName: string, before: Date): Promise<void> {
  await iam.send(
    new IAM.PutRolePolicyCommand({ RoleName: roleName, PolicyName: REVOKE_POLICY_NAME, PolicyDocument: revocationDocument(before) }),
  );
}

export async function checkRevocation(iam: IAMClient, roleName: string, atLeast: Date): Promise<Check> {
  const name = `sessions of ${roleName} issued before ${atLeast.toISOString()} are denied`;
  try {
    const out = await iam.send(new IAM.GetRolePolicyCommand({ RoleName: roleName, PolicyName: REVOKE_POLICY_NAME }));
    const before = revokedBeforeOf(parsePolicyDocument(out.PolicyDocument));
    return {
      name,
      ok: before !== undefined && before.getTime() >= atLeast.getTime(),
      detail: before ? `${REVOKE_POLICY_NAME} denies before ${before.toISOString()}` : `${REVOKE_POLICY_NAME} has another shape`,
    };
  } catch (err) {
    if (!isAwsError(err, 'NoSuchEntityException')) throw err;
    return { name, ok: false, detail: `no ${REVOKE_POLICY_NAME} policy` };
  }
}
