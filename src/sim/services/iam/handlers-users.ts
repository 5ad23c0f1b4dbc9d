/** IAM users: access keys and user policies. */
import type { SimContext, SimService } from '../../service.js';
import { findAccessKey, newIamId } from './entities.js';
import {
  attach,
  attachedOut,
  checkPolicyPut,
  detach,
  keyOrFail,
  page,
  userNameOrCaller,
  userOrFail,
  userOut,
  w,
} from './handlers-common.js';
import { required } from '../../kit.js';
import { encodePolicy } from './policy-eval.js';
import type { IamAccessKey } from './schema.js';

export const userHandlers: SimService['handlers'] = {
  GetUser(ctx: SimContext, input: { UserName?: string }) {
    return { User: userOut(ctx, userOrFail(ctx, userNameOrCaller(ctx, input))) };
  },

  ListAccessKeys(ctx: SimContext, input: { UserName?: string; Marker?: string; MaxItems?: number }) {
    const user = userOrFail(ctx, userNameOrCaller(ctx, input));
    const p = page(user.accessKeys, input);
    return {
      AccessKeyMetadata: p.items.map((k) => ({
        UserName: user.name,
        AccessKeyId: k.id,
        Status: k.status,
        CreateDate: new Date(k.createDate),
      })),
      IsTruncated: p.IsTruncated,
      ...(p.Marker ? { Marker: p.Marker } : {}),
    };
  },

  CreateAccessKey(ctx: SimContext, input: { UserName?: string }) {
    const user = userOrFail(ctx, userNameOrCaller(ctx, input));
    if (user.accessKeys.length >= 2) ctx.fail('LimitExceededException', 'Cannot exceed quota for AccessKeysPerUser: 2', 409);
    const key: IamAccessKey = {
      id: newIamId(ctx, 'AKIA', 16),
      status: 'Active',
      createDate: ctx.clock.now().toISOString(),
    };
    user.accessKeys.push(key);
    ctx.changed();
    // The secret is returned once and never stored, as with AWS; the simulation does not check
    // signatures, so nothing needs it later.
    const secret = Buffer.from(ctx.newId('s', 60).slice(2), 'hex').toString('base64').slice(0, 40);
    return {
      AccessKey: {
        UserName: user.name,
        AccessKeyId: key.id,
        Status: key.status,
        SecretAccessKey: secret,
        CreateDate: new Date(key.createDate),
      },
    };
  },

  UpdateAccessKey(ctx: SimContext, input: { UserName?: string; AccessKeyId: string; Status: string }) {
    required(ctx, input, 'AccessKeyId');
    const status = required<string>(ctx, input, 'Status');
    if (status !== 'Active' && status !== 'Inactive') {
      ctx.fail(
        'ValidationError',
        `1 validation error detected: Value '${status}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]`,
        400,
      );
    }
    const { key } = keyOrFail(ctx, input);
    if (key.status !== status) {
      key.status = status;
      ctx.changed();
    }
    return {};
  },

  DeleteAccessKey(ctx: SimContext, input: { UserName?: string; AccessKeyId: string }) {
    required(ctx, input, 'AccessKeyId');
    const { user, key } = keyOrFail(ctx, input);
    user.accessKeys.splice(user.accessKeys.indexOf(key), 1);
    ctx.changed();
    return {};
  },

  GetAccessKeyLastUsed(ctx: SimContext, input: { AccessKeyId: string }) {
    const id = required<string>(ctx, input, 'AccessKeyId');
    const owned = findAccessKey(w(ctx), id);
    if (!owned) ctx.fail('NoSuchEntityException', `The Access Key with id ${id} cannot be found.`, 404);
    const used = owned.key.lastUsed;
    // A key never used reports N/A for service and region and no date, as AWS documents.
    return {
      UserName: owned.user.name,
      AccessKeyLastUsed: used
        ? { LastUsedDate: new Date(used.date), ServiceName: used.service, Region: used.region }
        : { ServiceName: 'N/A', Region: 'N/A' },
    };
  },

  ListUserPolicies(ctx: SimContext, input: { UserName: string; Marker?: string; MaxItems?: number }) {
    const user = userOrFail(ctx, required(ctx, input, 'UserName'));
    const p = page(Object.keys(user.inlinePolicies).sort(), input);
    return { PolicyNames: p.items, IsTruncated: p.IsTruncated, ...(p.Marker ? { Marker: p.Marker } : {}) };
  },

  GetUserPolicy(ctx: SimContext, input: { UserName: string; PolicyName: string }) {
    const user = userOrFail(ctx, required(ctx, input, 'UserName'));
    const name = required<string>(ctx, input, 'PolicyName');
    const doc = user.inlinePolicies[name];
    if (doc === undefined) ctx.fail('NoSuchEntityException', `The user policy with name ${name} cannot be found.`, 404);
    return { UserName: user.name, PolicyName: name, PolicyDocument: encodePolicy(doc) };
  },

  PutUserPolicy(ctx: SimContext, input: { UserName: string; PolicyName: string; PolicyDocument: string }) {
    const user = userOrFail(ctx, required(ctx, input, 'UserName'));
    const name = required<string>(ctx, input, 'PolicyName');
    const text = required<string>(ctx, input, 'PolicyDocument');
    checkPolicyPut(ctx, 'user', user.name, user.inlinePolicies, name, text);
    user.inlinePolicies[name] = text;
    ctx.changed();
    return {};
  },

  DeleteUserPolicy(ctx: SimContext, input: { UserName: string; PolicyName: string }) {
    const user = userOrFail(ctx, required(ctx, input, 'UserName'));
    const name = required<string>(ctx, input, 'PolicyName');
    if (user.inlinePolicies[name] === undefined)
      ctx.fail('NoSuchEntityException', `The user policy with name ${name} cannot be found.`, 404);
    delete user.inlinePolicies[name];
    ctx.changed();
    return {};
  },

  ListAttachedUserPolicies(ctx: SimContext, input: { UserName: string; Marker?: string; MaxItems?: number }) {
    const user = userOrFail(ctx, required(ctx, input, 'UserName'));
    const p = page(attachedOut(ctx, user.attachedPolicies), input);
    return { AttachedPolicies: p.items, IsTruncated: p.IsTruncated, ...(p.Marker ? { Marker: p.Marker } : {}) };
  },

  AttachUserPolicy(ctx: SimContext, input: { UserName: string; PolicyArn: string }) {
    const user = userOrFail(ctx, required(ctx, input, 'UserName'));
    attach(ctx, 'User', user.attachedPolicies, required(ctx, input, 'PolicyArn'));
    return {};
  },

  DetachUserPolicy(ctx: SimContext, input: { UserName: string; PolicyArn: string }) {
    const user = userOrFail(ctx, required(ctx, input, 'UserName'));
    detach(ctx, user.attachedPolicies, required(ctx, input, 'PolicyArn'));
    return {};
  },
};
