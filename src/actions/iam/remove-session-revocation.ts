import * as z from 'zod';
import { isAwsError } from '../../core/errors.js';
import { defineAction, type Change } from '../define.js';
import { nameOf, parsePolicyDocument, RoleRef } from '../shared/iam.js';
import { applyRevocation, REVOKE_POLICY_NAME, revokedBeforeOf } from '../shared/session-revocation.js';
import { IAM } from '../../cloud/sdk.js';

const Input = z.strictObject({
  roleName: RoleRef,
  /**
   * The instant the run being undone wrote. Only that revocation is taken back: a policy whose instant
   * differs was written since (a later run, a person) and is kept, or sessions it revoked would become valid again.
   */
  revokedBefore: z.iso.datetime({ offset: true }).optional(),
  /** Put back the revocation instant that was in place before (instead of deleting the policy). */
  restoreRevokedBefore: z.iso.datetime({ offset: true }).optional(),
});
type Input = z.infer<typeof Input>;
type Output = { roleName: string; previousRevokedBefore: string | null; revokedBefore: string | null; kept?: boolean };
type Facts = { exists: boolean; before?: string; kept?: boolean };

async function currentInstant(iam: Parameters<typeof applyRevocation>[0], roleName: string): Promise<{ exists: boolean; before?: string }> {
  try {
    const out = await iam.send(new IAM.GetRolePolicyCommand({ RoleName: roleName, PolicyName: REVOKE_POLICY_NAME }));
    const before = revokedBeforeOf(parsePolicyDocument(out.PolicyDocument));
    return { exists: true, ...(before ? { before: before.toISOString() } : {}) };
  } catch (err) {
    if (!isAwsError(err, 'NoSuchEntityException')) throw err;
    return { exists: false };
  }
}

export default defineAction<Input, Output, Facts>({
  id: 'iam.remove-session-revocation',
  summary: `Take back a session revocation: delete the role's ${REVOKE_POLICY_NAME} policy (or put back the earlier instant)`,
  description: [
    `The undo of \`iam.revoke-role-sessions\`. Deleting \`${REVOKE_POLICY_NAME}\` makes every session issued before the revoke`,
    "time valid again **including the attacker's**, for as long as those credentials have left to live (up to 12 hours for",
    'AssumeRole, 36 hours for some federation paths). A responder rarely wants this: applications recover from a revocation by',
    'fetching new credentials, so the policy can stay until the old sessions have expired and then be removed safely.',
    'When the role had an older revocation before the run, that older instant is put back instead of deleting the policy.',
    '',
    'Runs undone out of order stay safe: when the policy no longer holds the instant the undone run wrote (a later run moved it',
    'forward), it is kept as it is and the plan says so; only the run whose instant is in force puts back the one it replaced.',
  ].join('\n'),
  controls: ['CC18'],
  input: Input,
  mutating: true,
  permissions: ['iam:GetRolePolicy', 'iam:DeleteRolePolicy', 'iam:PutRolePolicy'],
  targets: (i) => [{ kind: 'role', id: nameOf(i.roleName) }],

  async plan(ctx, input) {
    const roleName = nameOf(input.roleName);
    const now = await currentInstant(ctx.aws.iam, roleName);
    const want = input.restoreRevokedBefore ? new Date(input.restoreRevokedBefore).toISOString() : undefined;
    const wrote = input.revokedBefore ? new Date(input.revokedBefore).toISOString() : undefined;
    if (wrote && now.exists && now.before !== wrote && now.before !== want) {
      const later = now.before && now.before > wrote;
      return {
        changes: [],
        alreadyDone: true,
        notes: [
          later
            ? `kept: a later run (or a person) revoked sessions of ${roleName} up to ${now.before}; this run's revocation (${wrote}) is already superseded`
            : `kept: ${REVOKE_POLICY_NAME} of ${roleName} was changed since this run (${now.before ?? 'another shape'}, this run wrote ${wrote})`,
        ],
        facts: { ...now, kept: true },
      };
    }
    const done = want ? now.before === want : !now.exists;
    const changes: Change[] = done
      ? []
      : [
          {
            resource: roleName,
            field: `inline policy ${REVOKE_POLICY_NAME}`,
            before: now.before ? `deny sessions issued before ${now.before}` : now.exists ? 'present' : null,
            after: want ? `deny sessions issued before ${want}` : null,
          },
        ];
    const notes =
      done || want ? [] : ["sessions issued before the revoke time, the attacker's included, become valid again until they expire"];
    return { changes, alreadyDone: done, notes, facts: now };
  },

  async apply(ctx, input, plan) {
    const roleName = nameOf(input.roleName);
    const want = input.restoreRevokedBefore ? new Date(input.restoreRevokedBefore) : undefined;
    if (plan.facts.kept)
      return { roleName, previousRevokedBefore: plan.facts.before ?? null, revokedBefore: plan.facts.before ?? null, kept: true };
    if (!plan.alreadyDone) {
      if (want) await applyRevocation(ctx.aws.iam, roleName, want);
      else {
        await ctx.aws.iam.send(new IAM.DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: REVOKE_POLICY_NAME })).catch((err) => {
          // Deleted between plan and apply: the target state holds.
          if (!isAwsError(err, 'NoSuchEntityException')) throw err;
        });
      }
    }
    return { roleName, previousRevokedBefore: plan.facts.before ?? null, revokedBefore: want?.toISOString() ?? null };
  },

  async verify(ctx, _input, output) {
    const now = await currentInstant(ctx.aws.iam, output.roleName);
    if (output.kept) return [{ name: `${REVOKE_POLICY_NAME} of ${output.roleName} kept`, ok: now.exists, detail: now.before ?? 'absent' }];
    return output.revokedBefore
      ? [
          {
            name: `${REVOKE_POLICY_NAME} of ${output.roleName} denies before ${output.revokedBefore}`,
            ok: now.before === output.revokedBefore,
            detail: now.before ?? 'absent',
          },
        ]
      : [{ name: `${output.roleName} has no ${REVOKE_POLICY_NAME} policy`, ok: !now.exists, detail: now.exists ? 'present' : 'absent' }];
  },

  fallback: (i) => [
    `aws iam delete-role-policy --role-name ${i.roleName ? nameOf(i.roleName) : '<role-name>'} --policy-name ${REVOKE_POLICY_NAME}`,
  ],
});
