import type { IAMClient } from '@aws-sdk/client-iam';
import * as z from 'zod';
import { ActionFailed, GuardrailRefusal } from '../../core/errors.js';
import { defineAction } from '../define.js';
import { getUser, listKeys, LongTermKeyId, UserName } from '../shared/iam.js';
import { IAM } from '../../cloud/sdk.js';

const Input = z.strictObject({ accessKeyId: LongTermKeyId, userName: UserName.optional() });
type Input = z.infer<typeof Input>;

export interface LastUsed {
  date: string | null;
  service: string | null;
  region: string | null;
}
interface Facts {
  userName: string;
  userArn: string;
  status: string;
  lastUsed: LastUsed;
  /** Every other key of the user and its status: verify checks none of them changed. */
  otherKeys: Record<string, string>;
}
export interface DisableKeyOutput {
  accessKeyId: string;
  userName: string;
  userArn: string;
  previousStatus: string;
  lastUsed: LastUsed;
  otherKeys: Record<string, string>;
}

async function signingKeyId(iam: IAMClient): Promise<string | undefined> {
  const provider = iam.config.credentials as unknown;
  const creds =
    typeof provider === 'function'
      ? await (provider as () => Promise<{ accessKeyId?: string }>)()
      : (provider as { accessKeyId?: string } | undefined);
  return creds?.accessKeyId;
}

export default defineAction<Input, DisableKeyOutput, Facts>({
  id: 'iam.disable-access-key',
  summary: "Deactivate one IAM user access key (status Inactive): the key stops working, the user's other keys and the key itself are kept",
  description: [
    'Sets exactly the given access key to `Inactive` with UpdateAccessKey. The key is not deleted: deleting destroys the',
    'evidence (its id, creation date, last use) and cannot be undone, while an inactive key can be reactivated by',
    "`firebreak undo` (`iam.enable-access-key`) once the incident is understood. The user's other keys are left exactly as they",
    'were (verify checks it): a second key may be the one production still runs on.',
    '',
    'Traps: a deactivated key does not end sessions already made from it. Credentials it obtained with GetSessionToken keep',
    'working until they expire, and roles it assumed keep their sessions: quarantine the user (`iam.quarantine-user`) and',
    'revoke the sessions of roles it could assume (`iam.revoke-role-sessions`). Temporary keys (ASIA…) cannot be deactivated.',
    '',
    'When the user is not given, GetAccessKeyLastUsed names it. The last use (date, service, Region) is recorded in the',
    'output as evidence for the CloudTrail review. Firebreak refuses to deactivate the key its own credentials sign with.',
  ].join('\n'),
  controls: ['CC18'],
  input: Input,
  mutating: true,
  permissions: ['iam:GetAccessKeyLastUsed', 'iam:ListAccessKeys', 'iam:GetUser', 'iam:UpdateAccessKey'],
  targets: (i) => [{ kind: 'access-key', id: i.accessKeyId }],

  async plan(ctx, input) {
    const iam = ctx.aws.iam;
    const lastUsedP = iam.send(new IAM.GetAccessKeyLastUsedCommand({ AccessKeyId: input.accessKeyId }));
    // With the user given, every read runs at once; otherwise the key's last use names the user first.
    let userName = input.userName;
    if (!userName) {
      userName = (await lastUsedP).UserName;
      if (!userName)
        throw new ActionFailed(
          `failed to find the owner of access key ${input.accessKeyId}: GetAccessKeyLastUsed named no user (a root user's key, or a key of another account)`,
          'NoSuchEntityException',
        );
    }
    const [lastUsedOut, keys, user, signing] = await Promise.all([
      lastUsedP,
      listKeys(iam, userName),
      getUser(iam, userName),
      signingKeyId(iam),
    ]);
    if (lastUsedOut.UserName && lastUsedOut.UserName !== userName) {
      throw new ActionFailed(
        `failed to match access key ${input.accessKeyId} to user ${userName}: it belongs to ${lastUsedOut.UserName}`,
        'NoSuchEntityException',
      );
    }
    ctx.guard.assertNotProtected(user.Arn!, user.Tags);
    if (signing === input.accessKeyId) {
      throw new GuardrailRefusal(
        `refusing to deactivate access key ${input.accessKeyId}: Firebreak is signing its own requests with it, so the run would lock itself out`,
        {
          hint: 'run Firebreak with other credentials (--profile NAME or --role-arn ARN) and try again',
        },
      );
    }
    const key = keys.find((k) => k.AccessKeyId === input.accessKeyId);
    if (!key)
      throw new ActionFailed(`failed to find access key ${input.accessKeyId} among the keys of user ${userName}`, 'NoSuchEntityException');
    const used = lastUsedOut.AccessKeyLastUsed;
    const lastUsed: LastUsed = {
      date: used?.LastUsedDate ? used.LastUsedDate.toISOString() : null,
      service: used?.ServiceName && used.ServiceName !== 'N/A' ? used.ServiceName : null,
      region: used?.Region && used.Region !== 'N/A' ? used.Region : null,
    };
    const otherKeys = Object.fromEntries(keys.filter((k) => k.AccessKeyId !== input.accessKeyId).map((k) => [k.AccessKeyId!, k.Status!]));
    const changes =
      key.Status === 'Inactive'
        ? []
        : [{ resource: `${input.accessKeyId} (user ${userName})`, field: 'status', before: key.Status, after: 'Inactive' }];
    const notes = [
      lastUsed.date
        ? `last used ${lastUsed.date} (${lastUsed.service ?? '?'} in ${lastUsed.region ?? '?'})`
        : 'never used (or not since IAM began tracking)',
      ...Object.entries(otherKeys).map(([id, st]) => `other key ${id} (${st}) is left as it is`),
    ];
    return {
      changes,
      alreadyDone: changes.length === 0,
      notes,
      facts: { userName, userArn: user.Arn!, status: key.Status!, lastUsed, otherKeys },
    };
  },

  async apply(ctx, input, plan) {
    const f = plan.facts;
    if (f.status !== 'Inactive') {
      await ctx.aws.iam.send(new IAM.UpdateAccessKeyCommand({ UserName: f.userName, AccessKeyId: input.accessKeyId, Status: 'Inactive' }));
    }
    return {
      accessKeyId: input.accessKeyId,
      userName: f.userName,
      userArn: f.userArn,
      previousStatus: f.status,
      lastUsed: f.lastUsed,
      otherKeys: f.otherKeys,
    };
  },

  async verify(ctx, _input, output) {
    const keys = await listKeys(ctx.aws.iam, output.userName);
    const status = (id: string) => keys.find((k) => k.AccessKeyId === id)?.Status ?? 'deleted';
    return [
      { name: `${output.accessKeyId} is Inactive`, ok: status(output.accessKeyId) === 'Inactive', detail: status(output.accessKeyId) },
      ...Object.entries(output.otherKeys).map(([id, before]) => ({
        name: `other key ${id} still ${before}`,
        ok: status(id) === before,
        detail: status(id),
      })),
    ];
  },

  undo: { action: 'iam.enable-access-key', input: (out) => ({ accessKeyId: out.accessKeyId, userName: out.userName }) },

  fallback: (i) => [
    `aws iam get-access-key-last-used --access-key-id ${i.accessKeyId ?? '<AKIA…>'}   # names the user`,
    `aws iam list-access-keys --user-name ${i.userName ?? '<user>'}`,
    `aws iam update-access-key --user-name ${i.userName ?? '<user>'} --access-key-id ${i.accessKeyId ?? '<AKIA…>'} --status Inactive`,
  ],
});
