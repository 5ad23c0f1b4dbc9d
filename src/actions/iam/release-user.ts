import * as z from 'zod';
import { isAwsError } from '../../core/errors.js';
import { defineAction, type Change } from '../define.js';
import { attachedUserPolicies, denyAllPolicyArn, getUser, inlineUserPolicies, QUARANTINE_INLINE_POLICY, UserName } from '../shared/iam.js';
import { IAM } from '../../cloud/sdk.js';

const Input = z.strictObject({ userName: UserName });
type Input = z.infer<typeof Input>;
interface Facts {
  denyAllArn: string;
  managed: boolean;
  inline: boolean;
}

const tolerateGone = (err: unknown) => {
  // Removed between plan and apply: the target state holds.
  if (!isAwsError(err, 'NoSuchEntityException')) throw err;
};

export default defineAction<Input, { userName: string; removed: string[] }, Facts>({
  id: 'iam.release-user',
  summary: 'Lift a quarantine: detach AWSDenyAll (and the inline firebreak-quarantine deny) from an IAM user',
  description: `The undo of \`iam.quarantine-user\`. Every credential of the user works again, including access keys that were not deactivated: deactivate or rotate the leaked ones first. Other deny policies are left alone.`,
  controls: ['CC18'],
  input: Input,
  mutating: true,
  permissions: ['iam:GetUser', 'iam:ListAttachedUserPolicies', 'iam:ListUserPolicies', 'iam:DetachUserPolicy', 'iam:DeleteUserPolicy'],
  targets: (i) => [{ kind: 'user', id: i.userName }],

  async plan(ctx, input) {
    const [user, attached, inline] = await Promise.all([
      getUser(ctx.aws.iam, input.userName),
      attachedUserPolicies(ctx.aws.iam, input.userName),
      inlineUserPolicies(ctx.aws.iam, input.userName),
    ]);
    const denyAllArn = denyAllPolicyArn(user.Arn!);
    const facts: Facts = { denyAllArn, managed: attached.includes(denyAllArn), inline: inline.includes(QUARANTINE_INLINE_POLICY) };
    const changes: Change[] = [];
    if (facts.managed)
      changes.push({ resource: user.Arn!, field: 'attached policies', before: attached, after: attached.filter((a) => a !== denyAllArn) });
    if (facts.inline)
      changes.push({ resource: user.Arn!, field: `inline policy ${QUARANTINE_INLINE_POLICY}`, before: 'present', after: null });
    return {
      changes,
      alreadyDone: changes.length === 0,
      notes: changes.length ? ['every remaining credential of the user works again'] : [],
      facts,
    };
  },

  async apply(ctx, input, plan) {
    const f = plan.facts;
    await Promise.all([
      f.managed
        ? ctx.aws.iam.send(new IAM.DetachUserPolicyCommand({ UserName: input.userName, PolicyArn: f.denyAllArn })).catch(tolerateGone)
        : undefined,
      f.inline
        ? ctx.aws.iam
            .send(new IAM.DeleteUserPolicyCommand({ UserName: input.userName, PolicyName: QUARANTINE_INLINE_POLICY }))
            .catch(tolerateGone)
        : undefined,
    ]);
    return { userName: input.userName, removed: [...(f.managed ? [f.denyAllArn] : []), ...(f.inline ? [QUARANTINE_INLINE_POLICY] : [])] };
  },

  async verify(ctx, input) {
    const [user, attached, inline] = await Promise.all([
      getUser(ctx.aws.iam, input.userName),
      attachedUserPolicies(ctx.aws.iam, input.userName),
      inlineUserPolicies(ctx.aws.iam, input.userName),
    ]);
    const denyAllArn = denyAllPolicyArn(user.Arn!);
    return [
      { name: `AWSDenyAll detached from ${input.userName}`, ok: !attached.includes(denyAllArn) },
      { name: `no inline ${QUARANTINE_INLINE_POLICY} on ${input.userName}`, ok: !inline.includes(QUARANTINE_INLINE_POLICY) },
    ];
  },

  undo: { action: 'iam.quarantine-user', input: (out) => ({ userName: out.userName }) },

  fallback: (i) => [
    `aws iam detach-user-policy --user-name ${i.userName ?? '<user>'} --policy-arn arn:aws:iam::aws:policy/AWSDenyAll`,
    `aws iam delete-user-policy --user-name ${i.userName ?? '<user>'} --policy-name ${QUARANTINE_INLINE_POLICY}   # if the inline fallback was used`,
  ],
});
