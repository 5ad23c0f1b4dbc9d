import * as z from 'zod';
import { GuardrailRefusal, isAwsError } from '../../core/errors.js';
import { defineAction } from '../define.js';
import {
  attachedUserPolicies,
  callerArn,
  DENY_ALL_DOCUMENT,
  denyAllPolicyArn,
  getUser,
  inlineUserPolicies,
  QUARANTINE_INLINE_POLICY,
  UserName,
} from '../shared/iam.js';
import { IAM } from '../../cloud/sdk.js';

const Input = z.strictObject({ userName: UserName });
type Input = z.infer<typeof Input>;
interface Facts {
  userArn: string;
  denyAllArn: string;
  attached: string[];
  hasInline: boolean;
}
export interface QuarantineOutput {
  userName: string;
  userArn: string;
  /** How the deny is in place: AWS's managed AWSDenyAll, or the inline fallback. */
  method: 'managed' | 'inline';
  policy: string;
}

const isQuarantined = (f: Pick<Facts, 'attached' | 'denyAllArn' | 'hasInline'>) => f.attached.includes(f.denyAllArn) || f.hasInline;

export default defineAction<Input, QuarantineOutput, Facts>({
  id: 'iam.quarantine-user',
  summary: "Quarantine an IAM user: attach AWS's AWSDenyAll policy so every request the user's credentials make is denied",
  description: [
    "Attaches the AWS-managed policy `AWSDenyAll` (Deny `*` on `*`). An explicit deny beats every allow, so all of the user's",
    'credentials stop working at once: every access key, console password and MFA session, and the temporary credentials',
    'the user made with GetSessionToken. Nothing of the user is deleted, so the evidence and its permissions stay as they were;',
    '`firebreak undo` (`iam.release-user`) detaches the policy again.',
    '',
    'Why the managed policy rather than an inline one: AWS maintains its document, it is visible by ARN in every listing and in',
    "CloudTrail (AttachUserPolicy), and it does not count against the user's 2,048-character inline policy quota, which a",
    'busy user may already use up. When the user already has as many managed policies as the account allows',
    `(LimitExceededException), the same deny is added inline as \`${QUARANTINE_INLINE_POLICY}\` instead.`,
    '',
    "Traps: sessions of roles the user already assumed are not the user's credentials: they keep working until they expire, so",
    'revoke the sessions of every role the user could assume (`iam.revoke-role-sessions`). Firebreak refuses to quarantine the',
    'user whose credentials it runs with: the run would lock itself out half-way.',
  ].join('\n'),
  controls: ['CC18'],
  input: Input,
  mutating: true,
  permissions: [
    'sts:GetCallerIdentity',
    'iam:GetUser',
    'iam:ListAttachedUserPolicies',
    'iam:ListUserPolicies',
    'iam:AttachUserPolicy',
    'iam:PutUserPolicy',
  ],
  targets: (i) => [{ kind: 'user', id: i.userName }],

  async plan(ctx, input) {
    const iam = ctx.aws.iam;
    const [caller, user, attached, inline] = await Promise.all([
      callerArn(ctx.aws.sts),
      getUser(iam, input.userName),
      attachedUserPolicies(iam, input.userName),
      inlineUserPolicies(iam, input.userName),
    ]);
    if (caller === user.Arn) {
      throw new GuardrailRefusal(
        `refusing to quarantine user ${input.userName}: Firebreak is running as this user (${caller}), so the deny would lock the run out before it finishes`,
        {
          hint: 'run Firebreak as another principal (--profile NAME or --role-arn ARN) and try again',
        },
      );
    }
    ctx.guard.assertNotProtected(user.Arn!, user.Tags);
    const facts: Facts = {
      userArn: user.Arn!,
      denyAllArn: denyAllPolicyArn(user.Arn!),
      attached,
      hasInline: inline.includes(QUARANTINE_INLINE_POLICY),
    };
    const done = isQuarantined(facts);
    return {
      changes: done ? [] : [{ resource: user.Arn!, field: 'attached policies', before: attached, after: [...attached, facts.denyAllArn] }],
      alreadyDone: done,
      notes: [
        'every access key, console session and GetSessionToken credential of the user is denied',
        'sessions of roles the user already assumed keep working: revoke them separately',
      ],
      facts,
    };
  },

  async apply(ctx, input, plan) {
    const f = plan.facts;
    if (f.hasInline) return { userName: input.userName, userArn: f.userArn, method: 'inline', policy: QUARANTINE_INLINE_POLICY };
    if (f.attached.includes(f.denyAllArn)) return { userName: input.userName, userArn: f.userArn, method: 'managed', policy: f.denyAllArn };
    try {
      await ctx.aws.iam.send(new IAM.AttachUserPolicyCommand({ UserName: input.userName, PolicyArn: f.denyAllArn }));
      return { userName: input.userName, userArn: f.userArn, method: 'managed', policy: f.denyAllArn };
    } catch (err) {
      // The user is at the managed-policy quota: the same deny, inline.
      if (!isAwsError(err, 'LimitExceededException')) throw err;
      ctx.log(`user ${input.userName} is at the managed policy quota; adding the deny inline as ${QUARANTINE_INLINE_POLICY}`);
      await ctx.aws.iam.send(
        new IAM.PutUserPolicyCommand({ UserName: input.userName, PolicyName: QUARANTINE_INLINE_POLICY, PolicyDocument: DENY_ALL_DOCUMENT }),
      );
      return { userName: input.userName, userArn: f.userArn, method: 'inline', policy: QUARANTINE_INLINE_POLICY };
    }
  },

  async verify(ctx, input, output) {
    const [attached, inline] = await Promise.all([
      attachedUserPolicies(ctx.aws.iam, input.userName),
      inlineUserPolicies(ctx.aws.iam, input.userName),
    ]);
    const ok = output.method === 'managed' ? attached.includes(output.policy) : inline.includes(output.policy);
    return [
      {
        name: `${output.policy} on user ${input.userName}`,
        ok,
        detail: output.method === 'managed' ? attached.join(',') : inline.join(','),
      },
    ];
  },

  undo: { action: 'iam.release-user', input: (out) => ({ userName: out.userName }) },

  fallback: (i) => [`aws iam attach-user-policy --user-name ${i.userName ?? '<user>'} --policy-arn arn:aws:iam::aws:policy/AWSDenyAll`],
});
