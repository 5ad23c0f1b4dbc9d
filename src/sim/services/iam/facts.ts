/**
 * Facts other services need from the IAM slice (unique ids, ARNs), read through the simulated
 * IAM service's own handlers so every service reports the same RoleId/UserId IAM itself reports.
 */
import type { SimContext } from '../../service.js';
import { service as iam } from './index.js';

async function call<T>(ctx: SimContext, operation: string, input: unknown): Promise<T> {
  const handler = iam.handlers[operation];
  if (!handler) throw new Error(`the simulated IAM has no ${operation} handler`);
  return (await handler(ctx, input)) as T;
}

export async function roleFacts(ctx: SimContext, roleName: string): Promise<{ RoleId: string; Arn: string; RoleName: string }> {
  return (await call<{ Role: { RoleId: string; Arn: string; RoleName: string } }>(ctx, 'GetRole', { RoleName: roleName })).Role;
}

export async function userFacts(ctx: SimContext, userName: string): Promise<{ UserId: string; Arn: string }> {
  return (await call<{ User: { UserId: string; Arn: string } }>(ctx, 'GetUser', { UserName: userName })).User;
}

export async function instanceProfileFacts(ctx: SimContext, name: string): Promise<{ InstanceProfileId: string; Arn: string }> {
  return (
    await call<{ InstanceProfile: { InstanceProfileId: string; Arn: string } }>(ctx, 'GetInstanceProfile', { InstanceProfileName: name })
  ).InstanceProfile;
}
