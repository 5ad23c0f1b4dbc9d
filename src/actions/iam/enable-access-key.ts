import * as z from 'zod';
import { ActionFailed } from '../../core/errors.js';
import { defineAction } from '../define.js';
import { listKeys, LongTermKeyId, UserName } from '../shared/iam.js';
import { IAM } from '../../cloud/sdk.js';

const Input = z.strictObject({ accessKeyId: LongTermKeyId, userName: UserName });
type Input = z.infer<typeof Input>;
type Output = { accessKeyId: string; userName: string; previousStatus: string };

export default defineAction<Input, Output, { status: string }>({
  id: 'iam.enable-access-key',
  summary: 'Reactivate an IAM user access key (status Active)',
  description:
    'The undo of `iam.disable-access-key`. Reactivating a key that leaked lets whoever holds it back in: do it only once the key is known not to be compromised, or after its secret could not have left (rotate it instead otherwise).',
  controls: ['CC18'],
  input: Input,
  mutating: true,
  permissions: ['iam:ListAccessKeys', 'iam:UpdateAccessKey'],
  targets: (i) => [{ kind: 'access-key', id: i.accessKeyId }],

  async plan(ctx, input) {
    const key = (await listKeys(ctx.aws.iam, input.userName)).find((k) => k.AccessKeyId === input.accessKeyId);
    if (!key)
      throw new ActionFailed(
        `failed to find access key ${input.accessKeyId} among the keys of user ${input.userName}`,
        'NoSuchEntityException',
      );
    const changes =
      key.Status === 'Active'
        ? []
        : [{ resource: `${input.accessKeyId} (user ${input.userName})`, field: 'status', before: key.Status, after: 'Active' }];
    return {
      changes,
      alreadyDone: changes.length === 0,
      notes: changes.length ? ['whoever holds this key can use it again'] : [],
      facts: { status: key.Status! },
    };
  },

  async apply(ctx, input, plan) {
    if (plan.facts.status !== 'Active') {
      await ctx.aws.iam.send(
        new IAM.UpdateAccessKeyCommand({ UserName: input.userName, AccessKeyId: input.accessKeyId, Status: 'Active' }),
      );
    }
    return { accessKeyId: input.accessKeyId, userName: input.userName, previousStatus: plan.facts.status };
  },

  async verify(ctx, input) {
    const status = (await listKeys(ctx.aws.iam, input.userName)).find((k) => k.AccessKeyId === input.accessKeyId)?.Status ?? 'deleted';
    return [{ name: `${input.accessKeyId} is Active`, ok: status === 'Active', detail: status }];
  },

  undo: { action: 'iam.disable-access-key', input: (out) => ({ accessKeyId: out.accessKeyId, userName: out.userName }) },

  fallback: (i) => [
    `aws iam update-access-key --user-name ${i.userName ?? '<user>'} --access-key-id ${i.accessKeyId ?? '<AKIA…>'} --status Active`,
  ],
});
