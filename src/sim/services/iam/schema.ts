/** The IAM slice of the world: users and their access keys, roles, instance profiles, managed policies, role sessions. */
import * as z from 'zod';
import { Timestamp, WORLD_EPOCH, Tags } from '../../kit.js';

export const Name = z.string().regex(/^[\w+=,.@-]{1,128}$/, 'letters, digits and _+=,.@- only');
export const Path = z
  .string()
  .regex(/^\/([\x21-\x7e]*\/)?$/, "must begin and end with '/'")
  .default('/');
/** A policy document: the JSON text as AWS stores it, or the same document written as YAML. */
export const PolicyDocument = z.union([z.string(), z.record(z.string(), z.unknown())]);

export const AccessKey = z.strictObject({
  id: z.string().regex(/^AKIA[A-Z0-9]{16}$/, 'AKIA followed by 16 letters or digits'),
  status: z.enum(['Active', 'Inactive']).default('Active'),
  createDate: Timestamp.default(WORLD_EPOCH),
  lastUsed: z.strictObject({ date: Timestamp, service: z.string(), region: z.string() }).optional(),
});

export const User = z.strictObject({
  name: Name,
  /** The unique id (AIDA…); derived from the name when omitted. */
  id: z.string().optional(),
  path: Path,
  createDate: Timestamp.default(WORLD_EPOCH),
  tags: Tags,
  /** Inline policies by name. */
  inlinePolicies: z.record(Name, PolicyDocument).default({}),
  /** ARNs of attached managed policies. */
  attachedPolicies: z.array(z.string()).default([]),
  // AWS allows two access keys per user.
  accessKeys: z.array(AccessKey).max(2).default([]),
});

export const Role = z.strictObject({
  name: Name,
  /** The unique id (AROA…); derived from the name when omitted. */
  id: z.string().optional(),
  /** `/aws-service-role/<service>/` marks a service-linked role, which only AWS may modify. */
  path: Path,
  createDate: Timestamp.default(WORLD_EPOCH),
  description: z.string().optional(),
  /** The AssumeRolePolicyDocument. */
  trustPolicy: PolicyDocument,
  maxSessionDuration: z.number().int().min(3600).max(43200).default(3600),
  tags: Tags,
  inlinePolicies: z.record(Name, PolicyDocument).default({}),
  attachedPolicies: z.array(z.string()).default([]),
});

export const InstanceProfile = z.strictObject({
  name: Name,
  /** The unique id (AIPA…); derived from the name when omitted. */
  id: z.string().optional(),
  path: Path,
  createDate: Timestamp.default(WORLD_EPOCH),
  // An instance profile holds at most one role.
  roles: z.array(Name).max(1).default([]),
});

/** A managed policy beyond the AWS-managed ones built in (see AWS_MANAGED_POLICIES). */
export const ManagedPolicy = z.strictObject({
  name: Name,
  /** Defaults to a customer-managed ARN in the world's account. */
  arn: z.string().optional(),
  path: Path,
  description: z.string().optional(),
  createDate: Timestamp.default(WORLD_EPOCH),
  document: PolicyDocument,
});

/** A role session STS issued: what "revoke active sessions" and a changed trust policy act on. */
export const RoleSession = z.strictObject({
  sessionId: z.string(),
  roleArn: z.string(),
  /** The session's temporary access key id (ASIA…). */
  accessKeyId: z.string(),
  sessionName: z.string().optional(),
  /** What AssumeRole's SourceIdentity set: it stays with the session and every session chained from it. */
  sourceIdentity: z.string().optional(),
  issuedAt: Timestamp,
  expiresAt: Timestamp.optional(),
});

export const schema = z
  .strictObject({
    users: z.array(User).default([]),
    roles: z.array(Role).default([]),
    instanceProfiles: z.array(InstanceProfile).default([]),
    policies: z.array(ManagedPolicy).default([]),
    sessions: z.array(RoleSession).default([]),
  })
  .superRefine((iam, check) => {
    const dup = (path: (string | number)[], values: string[], what: string) => {
      const seen = new Set<string>();
      values.forEach((v, i) => {
        // IAM names are unique case-insensitively.
        const k = v.toLowerCase();
        if (seen.has(k)) check.addIssue({ code: 'custom', path: [...path, i], message: `duplicate ${what} '${v}'` });
        seen.add(k);
      });
    };
    dup(
      ['users'],
      iam.users.map((u) => u.name),
      'user name',
    );
    dup(
      ['roles'],
      iam.roles.map((r) => r.name),
      'role name',
    );
    dup(
      ['instanceProfiles'],
      iam.instanceProfiles.map((p) => p.name),
      'instance profile name',
    );
    dup(
      ['users'],
      iam.users.flatMap((u) => u.accessKeys.map((k) => k.id)),
      'access key id',
    );
    for (const [i, p] of iam.instanceProfiles.entries()) {
      for (const r of p.roles) {
        if (!iam.roles.some((role) => role.name === r)) {
          check.addIssue({ code: 'custom', path: ['instanceProfiles', i, 'roles'], message: `no role named '${r}'` });
        }
      }
    }
  })
  .prefault({});

export type IamWorld = z.infer<typeof schema>;
export type IamUser = z.infer<typeof User>;
export type IamRole = z.infer<typeof Role>;
export type IamAccessKey = z.infer<typeof AccessKey>;
export type IamInstanceProfile = z.infer<typeof InstanceProfile>;
export type RoleSession = z.infer<typeof RoleSession>;
/** The part of the world the helpers below read. */
export interface WithIam {
  iam: IamWorld;
}

/**
 * AWS-managed policies every account has. AWSDenyAll is the one responders attach to contain a
 * principal; the documents here are AWS's own.
 */
export const AWS_MANAGED_POLICIES: Record<string, { name: string; document: string }> = {
  'arn:aws:iam::aws:policy/AWSDenyAll': {
    name: 'AWSDenyAll',
    document: JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'DenyAll', Effect: 'Deny', Action: ['*'], Resource: '*' }] }),
  },
  'arn:aws:iam::aws:policy/AdministratorAccess': {
    name: 'AdministratorAccess',
    document: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }),
  },
};
