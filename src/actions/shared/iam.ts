/** Shared input types and reads for the IAM actions. */
import type { AccessKeyMetadata, IAMClient, User } from '@aws-sdk/client-iam';
import type { STSClient } from '@aws-sdk/client-sts';
import * as z from 'zod';
import { IAM, STS } from '../../cloud/sdk.js';

/** A long-term access key id. Temporary (ASIA…) keys cannot be deactivated: their role's sessions are revoked instead. */
export const LongTermKeyId = z
  .string()
  .regex(
    /^AKIA[A-Z0-9]{16}$/,
    "a long-term access key id such as AKIAIOSFODNN7EXAMPLE (a temporary ASIA… key cannot be deactivated: revoke its role's sessions with iam.revoke-role-sessions)",
  );

export const UserName = z.string().regex(/^[\w+=,.@-]{1,64}$/, 'an IAM user name (letters, digits and _+=,.@-, at most 64)');

/** A role name, or a role ARN (whose path tells a service-linked role before any call). */
export const RoleRef = z
  .string()
  .regex(
    /^([\w+=,.@-]{1,64}|arn:aws[a-z-]*:iam::\d{12}:role\/([\x21-\x7e]*\/)?[\w+=,.@-]{1,64})$/,
    'a role name such as web-app-role, or its ARN',
  );

/** An instance profile name, or its ARN. */
export const InstanceProfileRef = z
  .string()
  .regex(
    /^([\w+=,.@-]{1,128}|arn:aws[a-z-]*:iam::\d{12}:instance-profile\/([\x21-\x7e]*\/)?[\w+=,.@-]{1,128})$/,
    'an instance profile name such as quarantine-profile, or its ARN',
  );

/** The last path segment of an IAM ARN (the entity's name), or the string itself when it is a name. */
export function nameOf(ref: string): string {
  return ref.startsWith('arn:') ? ref.slice(ref.lastIndexOf('/') + 1) : ref;
}

export async function getUser(iam: IAMClient, userName: string): Promise<User> {
  // NoSuchEntityException for an unknown user propagates as is: nothing to act on.
  return (await iam.send(new IAM.GetUserCommand({ UserName: userName }))).User!;
}

export async function callerArn(sts: STSClient): Promise<string> {
  return (await sts.send(new STS.GetCallerIdentityCommand({}))).Arn!;
}

/**
 * IAM returns policy documents URL-encoded (RFC 3986) from GetRolePolicy and GetUserPolicy, and
 * SDK v3 does not decode them.
 */
export function parsePolicyDocument(encoded: string | undefined): unknown {
  if (!encoded) return undefined;
  return JSON.parse(decodeURIComponent(encoded));
}

/** Every access key of a user. */
export async function listKeys(iam: IAMClient, userName: string): Promise<AccessKeyMetadata[]> {
  const keys: AccessKeyMetadata[] = [];
  for await (const page of IAM.paginateListAccessKeys({ client: iam }, { UserName: userName }))
    keys.push(...(page.AccessKeyMetadata ?? []));
  return keys;
}

/** The partition of an IAM ARN (`aws`, `aws-cn`, `aws-us-gov`): AWS-managed policy ARNs differ per partition. */
export function partitionOf(arn: string): string {
  return arn.split(':')[1] || 'aws';
}

/** AWS's own deny-everything managed policy, in the partition of `principalArn`. */
export const denyAllPolicyArn = (principalArn: string) => `arn:${partitionOf(principalArn)}:iam::aws:policy/AWSDenyAll`;

/** The inline fallback when a user already has as many managed policies as IAM allows. */
export const QUARANTINE_INLINE_POLICY = 'firebreak-quarantine';
export const DENY_ALL_DOCUMENT = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Sid: 'FirebreakQuarantine', Effect: 'Deny', Action: '*', Resource: '*' }],
});

export async function attachedUserPolicies(iam: IAMClient, userName: string): Promise<string[]> {
  const arns: string[] = [];
  for await (const page of IAM.paginateListAttachedUserPolicies({ client: iam }, { UserName: userName })) {
    arns.push(...(page.AttachedPolicies ?? []).map((p) => p.PolicyArn!));
  }
  return arns;
}

export async function inlineUserPolicies(iam: IAMClient, userName: string): Promise<string[]> {
  const names: string[] = [];
  for await (const page of IAM.paginateListUserPolicies({ client: iam }, { UserName: userName })) names.push(...(page.PolicyNames ?? []));
  return names;
}
