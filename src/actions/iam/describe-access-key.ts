import * as z from 'zod';
import { ActionFailed } from '../../core/errors.js';
import { defineAction } from '../define.js';
import { getUser, listKeys, LongTermKeyId } from '../shared/iam.js';
import { IAM } from '../../cloud/sdk.js';

const Input = z.strictObject({ accessKeyId: LongTermKeyId });
type Input = z.infer<typeof Input>;
export interface AccessKeyFacts {
  accessKeyId: string;
  userName: string;
  userArn: string;
  status: string;
  createDate: string | null;
  lastUsed: { date: string | null; service: string | null; region: string | null };
}

export default defineAction<Input, AccessKeyFacts, AccessKeyFacts>({
  id: 'iam.describe-access-key',
  summary: 'Look up a long-term access key: its user, status, creation and last use (read-only)',
  description:
    'A lookup: it changes nothing, so it also runs in `--dry-run` and gives later steps the user that owns the key. GetAccessKeyLastUsed names the owner from the key id alone; the last use (date, service, Region) is the first lead for the CloudTrail review.',
  controls: ['CC18'],
  input: Input,
  mutating: false,
  permissions: ['iam:GetAccessKeyLastUsed', 'iam:GetUser', 'iam:ListAccessKeys'],

  async plan(ctx, input) {
    const iam = ctx.aws.iam;
    const last = await iam.send(new IAM.GetAccessKeyLastUsedCommand({ AccessKeyId: input.accessKeyId }));
    const userName = last.UserName;
    if (!userName)
      throw new ActionFailed(
        `failed to find the owner of access key ${input.accessKeyId}: GetAccessKeyLastUsed named no user (a root user's key, or a key of another account)`,
        'NoSuchEntityException',
      );
    const [user, keys] = await Promise.all([getUser(iam, userName), listKeys(iam, userName)]);
    const key = keys.find((k) => k.AccessKeyId === input.accessKeyId);
    if (!key)
      throw new ActionFailed(`failed to find access key ${input.accessKeyId} among the keys of user ${userName}`, 'NoSuchEntityException');
    const used = last.AccessKeyLastUsed;
    const facts: AccessKeyFacts = {
      accessKeyId: input.accessKeyId,
      userName,
      userArn: user.Arn!,
      status: key.Status!,
      createDate: key.CreateDate ? key.CreateDate.toISOString() : null,
      lastUsed: {
        date: used?.LastUsedDate ? used.LastUsedDate.toISOString() : null,
        // AWS reports N/A for a key never used.
        service: used?.ServiceName && used.ServiceName !== 'N/A' ? used.ServiceName : null,
        region: used?.Region && used.Region !== 'N/A' ? used.Region : null,
      },
    };
    return { changes: [], alreadyDone: true, notes: [`${input.accessKeyId} belongs to ${user.Arn} (${key.Status})`], facts };
  },

  async apply(_ctx, _input, plan) {
    return plan.facts;
  },

  async verify() {
    return [];
  },

  fallback: (i) => [`aws iam get-access-key-last-used --access-key-id ${i.accessKeyId ?? '<AKIA…>'}`],
});
