/** IAM names, unique ids and ARNs, and lookups of users, roles, keys and sessions in the world. */
import type * as z from 'zod';
import type { SimContext } from '../../service.js';
import { awsStyleId } from '../../ids.js';
import type { ManagedPolicy, IamAccessKey, IamInstanceProfile, IamRole, IamUser, RoleSession, WithIam } from './schema.js';

/** A new IAM unique id (AIDA…, AROA…, AKIA…) from the context's deterministic id source. */
export function newIamId(ctx: SimContext, prefix: string, length: number): string {
  return prefix + ctx.newId('x', length).slice(2).toUpperCase();
}

export const userArn = (account: string, u: IamUser) => `arn:aws:iam::${account}:user${u.path}${u.name}`;
export const roleArn = (account: string, r: IamRole) => `arn:aws:iam::${account}:role${r.path}${r.name}`;
export const profileArn = (account: string, p: IamInstanceProfile) => `arn:aws:iam::${account}:instance-profile${p.path}${p.name}`;
export const customerPolicyArn = (account: string, p: z.infer<typeof ManagedPolicy>) =>
  p.arn ?? `arn:aws:iam::${account}:policy${p.path}${p.name}`;

// Unique ids of entities a world declares without one are derived from their ARN, as STS derives
// the role id it reports in AssumedRoleId, so every service names an entity by the same id.
export function userId(ctx: SimContext, u: IamUser): string {
  if (u.id) return u.id;
  const arn = userArn(ctx.accountId, u);
  return ctx.caller.arn === arn ? ctx.caller.userId : awsStyleId('AIDA', arn);
}
export const roleId = (ctx: SimContext, r: IamRole) => r.id ?? awsStyleId('AROA', roleArn(ctx.accountId, r));
export const profileId = (ctx: SimContext, p: IamInstanceProfile) => p.id ?? awsStyleId('AIPA', profileArn(ctx.accountId, p));

/** The last path segment of an IAM ARN: the entity's name, whatever its path. */
export function nameFromArn(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}

/** Service-linked roles and IAM Identity Center roles: IAM refuses to let customers change them. */
export function isProtectedRole(role: Pick<IamRole, 'path'>): boolean {
  return role.path.startsWith('/aws-service-role/') || role.path.startsWith('/aws-reserved/');
}

export function findUser(world: WithIam, userName: string): IamUser | undefined {
  return world.iam.users.find((u) => u.name === userName);
}

export function findRole(world: WithIam, roleNameOrArn: string): IamRole | undefined {
  const name = roleNameOrArn.startsWith('arn:') ? nameFromArn(roleNameOrArn) : roleNameOrArn;
  return world.iam.roles.find((r) => r.name === name);
}

/** The user owning a long-term access key, with the key. */
export function findAccessKey(world: WithIam, accessKeyId: string): { user: IamUser; key: IamAccessKey } | undefined {
  for (const user of world.iam.users) {
    const key = user.accessKeys.find((k) => k.id === accessKeyId);
    if (key) return { user, key };
  }
  return undefined;
}

export function findRoleSession(world: WithIam, accessKeyId: string): RoleSession | undefined {
  return world.iam.sessions.find((s) => s.accessKeyId === accessKeyId || s.sessionId === accessKeyId);
}
