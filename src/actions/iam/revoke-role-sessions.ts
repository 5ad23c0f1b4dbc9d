import * as z from 'zod';
import { defineAction } from '../define.js';
import { nameOf, RoleRef } from '../shared/iam.js';
import {
  applyRevocation,
  checkRevocation,
  planRevocation,
  readRevocation,
  REVOKE_PERMISSIONS,
  REVOKE_POLICY_NAME,
  runStartedAt,
  type RevocationState,
} from '../shared/session-revocation.js';

const Input = z.strictObject({ roleName: RoleRef });
type Input = z.infer<typeof Input>;
export interface RevokeOutput {
  roleName: string;
  roleArn: string;
  /** Sessions issued before this instant are denied. */
  revokedBefore: string;
  /** The instant of the policy this one replaced, if any. */
  previousRevokedBefore?: string;
}

export default defineAction<Input, RevokeOutput, RevocationState & { since: string }>({
  id: 'iam.revoke-role-sessions',
  summary:
    'Revoke a role\'s active sessions: deny every action to credentials issued before now, as the IAM console\'s "Revoke active sessions" does',
  description: [
    `Adds the inline policy \`${REVOKE_POLICY_NAME}\` to the role: Deny \`*\` on \`*\` when \`aws:TokenIssueTime\` is before now`,
    '(`DateLessThan`), the document the IAM console writes. Every temporary credential of the role issued before that',
    'instant (ASIA… keys handed out by AssumeRole, and the instance-profile credentials EC2 serves through IMDS) is refused',
    'from then on; IAM needs a few seconds to a few minutes to apply it everywhere.',
    '',
    'What it does *not* do, and where responders get caught:',
    '- AssumeRole keeps working: whoever can assume the role gets fresh credentials that this policy does not deny.',
    '  Fix the trust policy (or the principal that assumes the role) too.',
    '- Sessions issued after the revoke time stay valid, including legitimate ones; revoking again moves the instant.',
    "- Every session of the role is cut, not only the attacker's: applications and instances using the role get AccessDenied",
    '  until they fetch new credentials. SDKs refresh cached credentials only as they near expiry, so a workload may stay',
    '  broken for hours unless it is restarted: tell its owners, and prefer one role per workload.',
    '- Service-linked roles (path `/aws-service-role/`) and IAM Identity Center roles cannot be changed: refused before any write.',
    '',
    `Converges: a \`${REVOKE_POLICY_NAME}\` policy whose instant is at or after the run's start means already done.`,
  ].join('\n'),
  controls: ['CC18'],
  input: Input,
  mutating: true,
  permissions: [...REVOKE_PERMISSIONS],
  targets: (i) => [{ kind: 'role', id: nameOf(i.roleName) }],

  async plan(ctx, input) {
    const { state, role } = await readRevocation(ctx.aws.iam, input.roleName);
    ctx.guard.assertNotProtected(state.roleArn, role.Tags);
    const since = runStartedAt(ctx);
    const p = planRevocation(state, since);
    return {
      changes: p.change ? [p.change] : [],
      alreadyDone: p.done,
      notes: [...p.notes, 'AssumeRole still issues new credentials until the trust policy is changed'],
      facts: { ...state, since: since.toISOString() },
    };
  },

  async apply(ctx, _input, plan) {
    const f = plan.facts;
    if (!plan.alreadyDone) {
      const at = ctx.clock.now();
      await applyRevocation(ctx.aws.iam, f.roleName, at);
      return {
        roleName: f.roleName,
        roleArn: f.roleArn,
        revokedBefore: at.toISOString(),
        ...(f.revokedBefore ? { previousRevokedBefore: f.revokedBefore } : {}),
      };
    }
    return { roleName: f.roleName, roleArn: f.roleArn, revokedBefore: f.revokedBefore! };
  },

  async verify(ctx, _input, output) {
    return [await checkRevocation(ctx.aws.iam, output.roleName, new Date(output.revokedBefore))];
  },

  undo: {
    action: 'iam.remove-session-revocation',
    input: (out) => ({
      roleName: out.roleName,
      revokedBefore: out.revokedBefore,
      ...(out.previousRevokedBefore ? { restoreRevokedBefore: out.previousRevokedBefore } : {}),
    }),
  },

  fallback: (i) => {
    const role = i.roleName ? nameOf(i.roleName) : '<role-name>';
    return [
      `aws iam get-role --role-name ${role} --query Role.Path   # /aws-service-role/… cannot be changed`,
      `aws iam put-role-policy --role-name ${role} --policy-name ${REVOKE_POLICY_NAME} --policy-document "{\\"Version\\":\\"2012-10-17\\",\\"Statement\\":{\\"Effect\\":\\"Deny\\",\\"Action\\":\\"*\\",\\"Resource\\":\\"*\\",\\"Condition\\":{\\"DateLessThan\\":{\\"aws:TokenIssueTime\\":\\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\\"}}}}"`,
      `# or: IAM console → Roles → ${role} → Revoke sessions → Revoke active sessions`,
    ];
  },
});
