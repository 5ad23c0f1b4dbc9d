import * as z from 'zod';
import { defineAction, type Change } from '../define.js';
import { describeInstance, InstanceId, tagValue } from '../shared/ec2.js';
import { currentAssociation, ORIGINAL_PROFILE_TAG } from '../shared/instance-profile.js';
import { EC2 } from '../../cloud/sdk.js';

const ProfileArn = z
  .string()
  .regex(/^arn:aws[a-z-]*:iam::\d{12}:instance-profile\/([\x21-\x7e]*\/)?[\w+=,.@-]{1,128}$/, 'an instance profile ARN');
const Input = z.strictObject({
  instanceId: InstanceId,
  /** The profile to put back; null: the instance had none. */
  instanceProfileArn: ProfileArn.nullable(),
});
type Input = z.infer<typeof Input>;
type Output = { instanceId: string; instanceProfileArn: string | null; previousInstanceProfileArn: string | null };
interface Facts {
  associationId?: string;
  current: string | null;
  tagged: boolean;
}

export default defineAction<Input, Output, Facts>({
  id: 'ec2.restore-instance-profile',
  summary: 'Give an instance its instance profile back (the undo of ec2.replace-instance-profile)',
  description: [
    'Associates the original instance profile again (replacing the quarantine profile, or associating it when the instance has',
    `none) and removes the \`${ORIGINAL_PROFILE_TAG}\` tag. The session revocation on the role is left in place: it only denies`,
    'credentials issued before it, so the instance works again with the fresh credentials IMDS hands out. Needs `iam:PassRole`',
    'on the role of the restored profile.',
  ].join('\n'),
  controls: ['CC8'],
  input: Input,
  mutating: true,
  permissions: [
    'ec2:DescribeInstances',
    'ec2:DescribeIamInstanceProfileAssociations',
    'ec2:AssociateIamInstanceProfile',
    'ec2:ReplaceIamInstanceProfileAssociation',
    'ec2:DisassociateIamInstanceProfile',
    'ec2:DeleteTags',
    'iam:PassRole',
  ],
  targets: (i) => [{ kind: 'instance', id: i.instanceId }],

  async plan(ctx, input) {
    const [inst, assoc] = await Promise.all([
      describeInstance(ctx.aws.ec2, input.instanceId),
      currentAssociation(ctx.aws.ec2, input.instanceId),
    ]);
    const current = assoc?.IamInstanceProfile?.Arn ?? null;
    const tagged = tagValue(inst.Tags, ORIGINAL_PROFILE_TAG) !== undefined;
    const changes: Change[] = [];
    if (current !== input.instanceProfileArn)
      changes.push({ resource: input.instanceId, field: 'instance profile', before: current, after: input.instanceProfileArn });
    if (tagged) changes.push({ resource: input.instanceId, field: `tag ${ORIGINAL_PROFILE_TAG}`, before: 'present', after: null });
    return {
      changes,
      alreadyDone: changes.length === 0,
      notes: [],
      facts: { ...(assoc?.AssociationId ? { associationId: assoc.AssociationId } : {}), current, tagged },
    };
  },

  async apply(ctx, input, plan) {
    const ec2 = ctx.aws.ec2;
    const f = plan.facts;
    const want = input.instanceProfileArn;
    if (f.current !== want) {
      if (want === null) await ec2.send(new EC2.DisassociateIamInstanceProfileCommand({ AssociationId: f.associationId! }));
      else if (f.current === null)
        await ec2.send(new EC2.AssociateIamInstanceProfileCommand({ InstanceId: input.instanceId, IamInstanceProfile: { Arn: want } }));
      else
        await ec2.send(
          new EC2.ReplaceIamInstanceProfileAssociationCommand({ AssociationId: f.associationId!, IamInstanceProfile: { Arn: want } }),
        );
    }
    // Once restored, the tag would make a later replace treat this profile as already recorded.
    if (f.tagged) await ec2.send(new EC2.DeleteTagsCommand({ Resources: [input.instanceId], Tags: [{ Key: ORIGINAL_PROFILE_TAG }] }));
    return { instanceId: input.instanceId, instanceProfileArn: want, previousInstanceProfileArn: f.current };
  },

  async verify(ctx, input) {
    const now = (await currentAssociation(ctx.aws.ec2, input.instanceId))?.IamInstanceProfile?.Arn ?? null;
    return [
      {
        name: `${input.instanceId} instance profile is ${input.instanceProfileArn ?? 'none'}`,
        ok: now === input.instanceProfileArn,
        detail: now ?? 'none',
      },
    ];
  },

  fallback: (i) => [
    `aws ec2 describe-iam-instance-profile-associations --filters Name=instance-id,Values=${i.instanceId ?? '<instance-id>'}`,
    `aws ec2 replace-iam-instance-profile-association --association-id <iip-assoc-id> --iam-instance-profile Arn=${i.instanceProfileArn ?? '<profile-arn>'}`,
    `aws ec2 delete-tags --resources ${i.instanceId ?? '<instance-id>'} --tags Key=${ORIGINAL_PROFILE_TAG}`,
  ],
});
