/** What IAM's handlers share: required members, lookups that fail as IAM does, paging, quotas, output shapes. */
import type * as z from 'zod';
import type { SimContext } from '../../service.js';
import {
  customerPolicyArn,
  findUser,
  isProtectedRole,
  nameFromArn,
  profileArn,
  profileId,
  roleArn,
  roleId,
  userArn,
  userId,
} from './entities.js';
import { docText, encodePolicy, policyProblem } from './policy-eval.js';
import {
  AWS_MANAGED_POLICIES,
  type PolicyDocument,
  type IamAccessKey,
  type IamInstanceProfile,
  type IamRole,
  type IamUser,
  type IamWorld,
  type WithIam,
} from './schema.js';
import { tagList } from '../../kit.js';

export const iamOf = (ctx: SimContext): IamWorld => (ctx.world as WithIam).iam;
export const w = (ctx: SimContext): WithIam => ctx.world as WithIam;

export function userOrFail(ctx: SimContext, name: string): IamUser {
  const user = findUser(w(ctx), name);
  if (!user) ctx.fail('NoSuchEntityException', `The user with name ${name} cannot be found.`, 404);
  return user;
}

export function roleOrFail(ctx: SimContext, name: string): IamRole {
  const role = iamOf(ctx).roles.find((r) => r.name === name);
  if (!role) ctx.fail('NoSuchEntityException', `The role with name ${name} cannot be found.`, 404);
  return role;
}

export function modifiableRoleOrFail(ctx: SimContext, name: string): IamRole {
  const role = roleOrFail(ctx, name);
  if (isProtectedRole(role)) {
    ctx.fail(
      'UnmodifiableEntityException',
      `Cannot perform the operation on the protected role '${name}' - this role is only modifiable by AWS`,
      400,
    );
  }
  return role;
}

/** The user a call without UserName is about: the caller, when the caller is an IAM user. */
export function userNameOrCaller(ctx: SimContext, input: { UserName?: string }): string {
  if (input.UserName) return input.UserName;
  const m = /^arn:aws:iam::\d{12}:user\/(?:.*\/)?([^/]+)$/.exec(ctx.caller.arn);
  if (!m) ctx.fail('ValidationError', 'Must specify userName when calling with non-User credentials', 400);
  return m[1]!;
}

/** IAM's Marker/MaxItems paging (the marker is opaque to callers). */
export function page<T>(items: T[], input: { Marker?: string; MaxItems?: number }): { items: T[]; IsTruncated: boolean; Marker?: string } {
  const start = input.Marker ? Number(input.Marker) : 0;
  const size = input.MaxItems ?? 100;
  const slice = items.slice(start, start + size);
  const more = start + size < items.length;
  return more ? { items: slice, IsTruncated: true, Marker: String(start + size) } : { items: slice, IsTruncated: false };
}

/** IAM's quotas on inline policy text: the aggregate per user or role, whitespace not counted. */
export const INLINE_QUOTA = { user: 2048, role: 10240 } as const;

export function checkPolicyPut(
  ctx: SimContext,
  kind: 'user' | 'role',
  entityName: string,
  policies: Record<string, z.infer<typeof PolicyDocument>>,
  policyName: string,
  text: string,
): void {
  if (!/^[\w+=,.@-]{1,128}$/.test(policyName)) {
    ctx.fail(
      'ValidationError',
      `1 validation error detected: Value '${policyName}' at 'policyName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+`,
      400,
    );
  }
  const problem = policyProblem(text, 'identity');
  if (problem) ctx.fail('MalformedPolicyDocumentException', problem, 400);
  const size = (t: string) => t.replace(/\s/g, '').length;
  const total = Object.entries(policies)
    .filter(([n]) => n !== policyName)
    .reduce((sum, [, d]) => sum + size(docText(d)), size(text));
  if (total > INLINE_QUOTA[kind]) {
    ctx.fail('LimitExceededException', `Maximum policy size of ${INLINE_QUOTA[kind]} bytes exceeded for ${kind} ${entityName}`, 409);
  }
}

export function policyArnKnown(ctx: SimContext, arn: string): string | undefined {
  if (AWS_MANAGED_POLICIES[arn]) return AWS_MANAGED_POLICIES[arn]!.name;
  const own = iamOf(ctx).policies.find((p) => customerPolicyArn(ctx.accountId, p) === arn);
  return own?.name;
}

/** IAM quota: 10 managed policies attached to a user or role (by default). */
export const ATTACHED_QUOTA = 10;

export function attach(ctx: SimContext, kind: 'User' | 'Role', attached: string[], arn: string): void {
  const name = policyArnKnown(ctx, arn);
  if (!name) ctx.fail('NoSuchEntityException', `Policy ${arn} does not exist or is not attachable.`, 404);
  // Attaching an attached policy succeeds and changes nothing.
  if (attached.includes(arn)) return;
  if (attached.length >= ATTACHED_QUOTA)
    ctx.fail('LimitExceededException', `Cannot exceed quota for PoliciesPer${kind}: ${ATTACHED_QUOTA}`, 409);
  attached.push(arn);
  ctx.changed();
}

export function detach(ctx: SimContext, attached: string[], arn: string): void {
  const i = attached.indexOf(arn);
  if (i < 0) ctx.fail('NoSuchEntityException', `Policy ${arn} was not found.`, 404);
  attached.splice(i, 1);
  ctx.changed();
}

export const attachedOut = (ctx: SimContext, arns: string[]) =>
  arns.map((arn) => ({ PolicyName: policyArnKnown(ctx, arn) ?? nameFromArn(arn), PolicyArn: arn }));

export function userOut(ctx: SimContext, u: IamUser) {
  return {
    Path: u.path,
    UserName: u.name,
    UserId: userId(ctx, u),
    Arn: userArn(ctx.accountId, u),
    CreateDate: new Date(u.createDate),
    ...(Object.keys(u.tags).length ? { Tags: tagList(u.tags) } : {}),
  };
}

export function roleOut(ctx: SimContext, r: IamRole, withTags = true) {
  return {
    Path: r.path,
    RoleName: r.name,
    RoleId: roleId(ctx, r),
    Arn: roleArn(ctx.accountId, r),
    CreateDate: new Date(r.createDate),
    AssumeRolePolicyDocument: encodePolicy(r.trustPolicy),
    ...(r.description !== undefined ? { Description: r.description } : {}),
    MaxSessionDuration: r.maxSessionDuration,
    ...(withTags && Object.keys(r.tags).length ? { Tags: tagList(r.tags) } : {}),
  };
}

export function profileOut(ctx: SimContext, p: IamInstanceProfile) {
  const roles = iamOf(ctx).roles.filter((r) => p.roles.includes(r.name));
  return {
    Path: p.path,
    InstanceProfileName: p.name,
    InstanceProfileId: profileId(ctx, p),
    Arn: profileArn(ctx.accountId, p),
    CreateDate: new Date(p.createDate),
    // Roles inside instance profiles are listed without their tags, as IAM does.
    Roles: roles.map((r) => roleOut(ctx, r, false)),
  };
}

export function keyOrFail(ctx: SimContext, input: { UserName?: string; AccessKeyId: string }): { user: IamUser; key: IamAccessKey } {
  const userName = userNameOrCaller(ctx, input);
  const user = userOrFail(ctx, userName);
  const key = user.accessKeys.find((k) => k.id === input.AccessKeyId);
  if (!key) ctx.fail('NoSuchEntityException', `The Access Key with id ${input.AccessKeyId} cannot be found.`, 404);
  return { user, key };
}
