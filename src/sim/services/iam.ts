/**
 * Simulated IAM: users and their access keys, roles (service-linked ones included), instance
 * profiles, inline and managed policies, and the role sessions STS hands out.
 *
 * Error names given to `ctx.fail` are what the SDK surfaces as `err.name` against real IAM: the
 * wire code `NoSuchEntity` arrives as `NoSuchEntityException`, `UnmodifiableEntity` as
 * `UnmodifiableEntityException`, and so on; IAM's unmodelled `ValidationError` keeps its code.
 *
 * Besides the handlers, this module exports the pure helpers the tabletop and STS need: whether
 * an access key still works, and whether a role session survived AWS's "revoke active sessions".
 */
import * as z from 'zod';
import type { SimContext, SimService } from '../service.js';
import { awsStyleId } from '../ids.js';
import { IAM } from '../../cloud/sdk.js';

// ---------------------------------------------------------------------------------------------
// Slice schema
// ---------------------------------------------------------------------------------------------

const Timestamp = z.iso.datetime({ offset: true });
/** createDate of entities a world file declares without one. */
const WORLD_EPOCH = '2025-01-01T00:00:00Z';
const Name = z.string().regex(/^[\w+=,.@-]{1,128}$/, 'letters, digits and _+=,.@- only');
const Path = z
  .string()
  .regex(/^\/([\x21-\x7e]*\/)?$/, "must begin and end with '/'")
  .default('/');
const Tags = z.record(z.string().min(1).max(128), z.string().max(256)).default({}).describe('tag key → value');
/** A policy document: the JSON text as AWS stores it, or the same document written as YAML. */
const PolicyDocument = z.union([z.string(), z.record(z.string(), z.unknown())]);

const AccessKey = z.strictObject({
  id: z.string().regex(/^AKIA[A-Z0-9]{16}$/, 'AKIA followed by 16 letters or digits'),
  status: z.enum(['Active', 'Inactive']).default('Active'),
  createDate: Timestamp.default(WORLD_EPOCH),
  lastUsed: z.strictObject({ date: Timestamp, service: z.string(), region: z.string() }).optional(),
});

const User = z.strictObject({
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

const Role = z.strictObject({
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

const InstanceProfile = z.strictObject({
  name: Name,
  /** The unique id (AIPA…); derived from the name when omitted. */
  id: z.string().optional(),
  path: Path,
  createDate: Timestamp.default(WORLD_EPOCH),
  // An instance profile holds at most one role.
  roles: z.array(Name).max(1).default([]),
});

/** A managed policy beyond the AWS-managed ones built in (see AWS_MANAGED_POLICIES). */
const ManagedPolicy = z.strictObject({
  name: Name,
  /** Defaults to a customer-managed ARN in the world's account. */
  arn: z.string().optional(),
  path: Path,
  description: z.string().optional(),
  createDate: Timestamp.default(WORLD_EPOCH),
  document: PolicyDocument,
});

/** A role session STS issued: what "revoke active sessions" and a changed trust policy act on. */
const RoleSession = z.strictObject({
  sessionId: z.string(),
  roleArn: z.string(),
  /** The session's temporary access key id (ASIA…). */
  accessKeyId: z.string(),
  sessionName: z.string().optional(),
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

// ---------------------------------------------------------------------------------------------
// Names, ids and ARNs
// ---------------------------------------------------------------------------------------------

/** A new IAM unique id (AIDA…, AROA…, AKIA…) from the context's deterministic id source. */
function newIamId(ctx: SimContext, prefix: string, length: number): string {
  return prefix + ctx.newId('x', length).slice(2).toUpperCase();
}

const userArn = (account: string, u: IamUser) => `arn:aws:iam::${account}:user${u.path}${u.name}`;
const roleArn = (account: string, r: IamRole) => `arn:aws:iam::${account}:role${r.path}${r.name}`;
const profileArn = (account: string, p: IamInstanceProfile) => `arn:aws:iam::${account}:instance-profile${p.path}${p.name}`;
const customerPolicyArn = (account: string, p: z.infer<typeof ManagedPolicy>) =>
  p.arn ?? `arn:aws:iam::${account}:policy${p.path}${p.name}`;

// Unique ids of entities a world declares without one are derived from their ARN, as STS derives
// the role id it reports in AssumedRoleId, so every service names an entity by the same id.
function userId(ctx: SimContext, u: IamUser): string {
  if (u.id) return u.id;
  const arn = userArn(ctx.accountId, u);
  return ctx.caller.arn === arn ? ctx.caller.userId : awsStyleId('AIDA', arn);
}
const roleId = (ctx: SimContext, r: IamRole) => r.id ?? awsStyleId('AROA', roleArn(ctx.accountId, r));
const profileId = (ctx: SimContext, p: IamInstanceProfile) => p.id ?? awsStyleId('AIPA', profileArn(ctx.accountId, p));

/** The last path segment of an IAM ARN: the entity's name, whatever its path. */
function nameFromArn(arn: string): string {
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

// ---------------------------------------------------------------------------------------------
// Policy documents
// ---------------------------------------------------------------------------------------------

const docText = (doc: z.infer<typeof PolicyDocument>): string => (typeof doc === 'string' ? doc : JSON.stringify(doc));

/**
 * IAM returns policy documents URL-encoded (RFC 3986) from GetUserPolicy, GetRolePolicy, GetRole
 * and the instance-profile calls, and the JavaScript SDK v3 hands that text over undecoded: a
 * caller must `decodeURIComponent(PolicyDocument)` before `JSON.parse`, exactly as against AWS.
 */
function encodePolicy(doc: z.infer<typeof PolicyDocument>): string {
  return encodeURIComponent(docText(doc)).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

interface Statement {
  Effect?: unknown;
  Action?: unknown;
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
  Principal?: unknown;
  NotPrincipal?: unknown;
  Condition?: unknown;
}

function statementsOf(doc: unknown): Statement[] {
  const s = (doc as { Statement?: unknown } | null)?.Statement;
  if (Array.isArray(s)) return s as Statement[];
  return s && typeof s === 'object' ? [s as Statement] : [];
}

function parseDoc(doc: z.infer<typeof PolicyDocument>): unknown {
  if (typeof doc !== 'string') return doc;
  try {
    return JSON.parse(doc);
  } catch {
    return undefined;
  }
}

/**
 * The checks IAM makes on a policy before storing it. Returns AWS's message for the first
 * problem, or undefined for a document IAM accepts. `kind` is 'trust' for a role's
 * AssumeRolePolicyDocument, whose grammar differs (Principal required, Resource forbidden).
 */
function policyProblem(text: string, kind: 'identity' | 'trust'): string | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return 'Syntax errors in policy.';
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return 'Syntax errors in policy.';
  const version = (doc as { Version?: unknown }).Version;
  if (version !== undefined && version !== '2012-10-17' && version !== '2008-10-17') return 'The policy failed legacy parsing';
  const raw = (doc as { Statement?: unknown }).Statement;
  if (raw === undefined || (Array.isArray(raw) && raw.length === 0)) return 'Syntax errors in policy.';
  for (const st of statementsOf(doc)) {
    if (!st || typeof st !== 'object') return 'Syntax errors in policy.';
    if (st.Effect !== 'Allow' && st.Effect !== 'Deny') return 'Syntax errors in policy.';
    if (st.Action === undefined && st.NotAction === undefined) return 'Syntax errors in policy.';
    if (kind === 'identity' && (st.Principal !== undefined || st.NotPrincipal !== undefined)) {
      return 'Policy document should not specify a principal.';
    }
    if (kind === 'trust' && st.Principal === undefined && st.NotPrincipal === undefined) return 'Missing required field Principal';
    if (kind === 'trust' && (st.Resource !== undefined || st.NotResource !== undefined)) return 'Has prohibited field Resource';
  }
  return undefined;
}

const asList = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** What a request carries that conditions may test. Keys absent here are absent from the request. */
export interface RequestContext {
  /** When the session's credentials were issued; long-term access keys carry no token, so none. */
  tokenIssueTime?: Date;
  now?: Date;
  externalId?: string;
}

function contextValue(key: string, rc: RequestContext): string | Date | undefined {
  switch (key.toLowerCase()) {
    case 'aws:tokenissuetime':
      return rc.tokenIssueTime;
    case 'aws:currenttime':
    case 'aws:epochtime':
      return rc.now;
    case 'sts:externalid':
      return rc.externalId;
    default:
      return undefined;
  }
}

function toTime(v: unknown): number | undefined {
  if (typeof v === 'number') return v * 1000; // epoch seconds, as IAM accepts
  if (typeof v !== 'string') return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

const DATE_OPS: Record<string, (a: number, b: number) => boolean> = {
  DateEquals: (a, b) => a === b,
  DateNotEquals: (a, b) => a !== b,
  DateLessThan: (a, b) => a < b,
  DateLessThanEquals: (a, b) => a <= b,
  DateGreaterThan: (a, b) => a > b,
  DateGreaterThanEquals: (a, b) => a >= b,
};
const STRING_OPS: Record<string, (a: string, b: string) => boolean> = {
  StringEquals: (a, b) => a === b,
  StringNotEquals: (a, b) => a !== b,
};

/**
 * IAM's condition semantics: every operator and every key must hold; any listed value may match.
 * A key missing from the request makes its condition false (unless the operator ends in
 * IfExists) — which is why a "revoke older sessions" deny never touches long-term access keys.
 * Operators this simulation does not know are treated as not holding.
 */
function conditionsHold(condition: unknown, rc: RequestContext): boolean {
  if (condition === undefined) return true;
  if (!condition || typeof condition !== 'object') return false;
  for (const [opName, block] of Object.entries(condition as Record<string, unknown>)) {
    const ifExists = opName.endsWith('IfExists');
    const op = ifExists ? opName.slice(0, -'IfExists'.length) : opName;
    if (!block || typeof block !== 'object') return false;
    for (const [key, expected] of Object.entries(block as Record<string, unknown>)) {
      const actual = contextValue(key, rc);
      if (actual === undefined) {
        if (ifExists) continue;
        return false;
      }
      const values = asList(expected);
      let holds: boolean;
      if (DATE_OPS[op]) {
        const a = actual instanceof Date ? actual.getTime() : toTime(actual);
        holds =
          a !== undefined &&
          values.some((v) => {
            const b = toTime(v);
            return b !== undefined && DATE_OPS[op]!(a, b);
          });
      } else if (STRING_OPS[op]) {
        const a = actual instanceof Date ? actual.toISOString() : actual;
        holds = values.some((v) => typeof v === 'string' && STRING_OPS[op]!(a, v));
      } else {
        holds = false;
      }
      if (!holds) return false;
    }
  }
  return true;
}

/** True when `doc` holds a Deny of every action on every resource that applies to this request. */
function deniesEverything(doc: unknown, rc: RequestContext): boolean {
  return statementsOf(doc).some(
    (st) =>
      st.Effect === 'Deny' &&
      st.NotAction === undefined &&
      st.NotResource === undefined &&
      asList(st.Action).includes('*') &&
      asList(st.Resource).includes('*') &&
      conditionsHold(st.Condition, rc),
  );
}

/** Documents of a managed policy ARN: AWS-managed ones built in, then the world's. */
function managedPolicyDoc(world: WithIam, arn: string): unknown {
  const aws = AWS_MANAGED_POLICIES[arn];
  if (aws) return JSON.parse(aws.document);
  const own = world.iam.policies.find((p) => p.arn === arn || (!p.arn && arn.endsWith(`:policy${p.path}${p.name}`)));
  return own ? parseDoc(own.document) : undefined;
}

function identityDocs(
  world: WithIam,
  entity: { inlinePolicies: Record<string, z.infer<typeof PolicyDocument>>; attachedPolicies: string[] },
): unknown[] {
  return [...Object.values(entity.inlinePolicies).map(parseDoc), ...entity.attachedPolicies.map((arn) => managedPolicyDoc(world, arn))];
}

// ---------------------------------------------------------------------------------------------
// Helpers for the tabletop and for STS
// ---------------------------------------------------------------------------------------------

/**
 * True when a call signed with this access key would still be authorised to do something: a
 * long-term key must be Active and its user not under a deny-all policy (AWSDenyAll attached, or
 * an inline `Deny * on *`); a session key (ASIA…) must belong to a session `isSessionValid`
 * accepts. `now` is needed to judge session expiry; without it expiry is not checked.
 * Note: a "revoke older sessions" policy never stops a long-term key — it carries no token.
 */
export function isKeyUsable(world: WithIam, accessKeyId: string, now?: Date): boolean {
  const owned = findAccessKey(world, accessKeyId);
  if (owned) {
    if (owned.key.status !== 'Active') return false;
    const rc: RequestContext = now ? { now } : {};
    return !identityDocs(world, owned.user).some((doc) => deniesEverything(doc, rc));
  }
  const session = findRoleSession(world, accessKeyId);
  return session ? sessionStatus(world, session, now).valid : false;
}

/**
 * Record a role session STS issued (AssumeRole). Returns the stored record. Dates may be Date
 * objects or ISO strings. The session id defaults to the temporary access key id.
 */
export function recordRoleSession(
  world: WithIam,
  session: {
    roleArn: string;
    accessKeyId: string;
    issuedAt: Date | string;
    expiresAt?: Date | string;
    sessionName?: string;
    sessionId?: string;
  },
): RoleSession {
  const iso = (d: Date | string) => new Date(d).toISOString();
  const record: RoleSession = {
    sessionId: session.sessionId ?? session.accessKeyId,
    roleArn: session.roleArn,
    accessKeyId: session.accessKeyId,
    issuedAt: iso(session.issuedAt),
    ...(session.expiresAt !== undefined ? { expiresAt: iso(session.expiresAt) } : {}),
    ...(session.sessionName !== undefined ? { sessionName: session.sessionName } : {}),
  };
  world.iam.sessions.push(record);
  return record;
}

/**
 * Whether a role session still works at `now`, and why not. A session dies when it expires,
 * when its role is deleted, or when a policy on the role denies every action for it — which is
 * what the console's "Revoke active sessions" does: it adds the inline policy
 * AWSRevokeOlderSessions, `Deny * on *` with `DateLessThan {aws:TokenIssueTime: <now>}`, so sessions
 * issued before that instant are refused and sessions issued after it keep working (and
 * AssumeRole keeps issuing new ones until the trust policy changes: see `trustPolicyAllows`).
 */
export function sessionStatus(world: WithIam, session: RoleSession | string, now?: Date): { valid: boolean; reason: string } {
  const s = typeof session === 'string' ? findRoleSession(world, session) : session;
  if (!s) return { valid: false, reason: 'no such session' };
  if (now && s.expiresAt && now.getTime() >= Date.parse(s.expiresAt)) return { valid: false, reason: 'session expired' };
  const role = findRole(world, s.roleArn);
  if (!role) return { valid: false, reason: `role ${nameFromArn(s.roleArn)} no longer exists` };
  const rc: RequestContext = { tokenIssueTime: new Date(s.issuedAt), ...(now ? { now } : {}) };
  for (const [name, doc] of Object.entries(role.inlinePolicies)) {
    if (deniesEverything(parseDoc(doc), rc)) return { valid: false, reason: `denied by inline policy ${name} of role ${role.name}` };
  }
  for (const arn of role.attachedPolicies) {
    if (deniesEverything(managedPolicyDoc(world, arn), rc)) return { valid: false, reason: `denied by managed policy ${arn}` };
  }
  return { valid: true, reason: 'active' };
}

export function isSessionValid(world: WithIam, session: RoleSession | string, now: Date): boolean {
  return sessionStatus(world, session, now).valid;
}

function principalMatches(principal: unknown, caller: string): boolean {
  if (principal === '*') return true;
  if (!principal || typeof principal !== 'object') return false;
  const p = principal as Record<string, unknown>;
  for (const svc of asList(p.Service)) if (svc === caller) return true;
  // An assumed-role session acts as its role: arn:aws:sts::ACCT:assumed-role/NAME/SESSION.
  const assumed = /^arn:aws:sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(caller);
  const callerAccount = assumed?.[1] ?? /^arn:aws:iam::(\d{12}):/.exec(caller)?.[1];
  for (const v of asList(p.AWS)) {
    if (typeof v !== 'string') continue;
    if (v === '*' || v === caller) return true;
    if (callerAccount && (v === callerAccount || v === `arn:aws:iam::${callerAccount}:root`)) return true;
    if (assumed && v.startsWith(`arn:aws:iam::${assumed[1]}:role/`) && nameFromArn(v) === assumed[2]) return true;
  }
  return false;
}

const coversAssumeRole = (action: unknown) =>
  asList(action).some((a) => typeof a === 'string' && ['sts:assumerole', 'sts:*', '*'].includes(a.toLowerCase()));

/**
 * Whether the role's trust policy lets `principal` (an IAM/STS ARN, or a service principal such
 * as `ec2.amazonaws.com`) call sts:AssumeRole: an explicit Deny wins, else an Allow must match.
 */
export function trustPolicyAllows(world: WithIam, roleNameOrArn: string, principal: string, rc: RequestContext = {}): boolean {
  const role = findRole(world, roleNameOrArn);
  if (!role) return false;
  const matching = statementsOf(parseDoc(role.trustPolicy)).filter(
    (st) => coversAssumeRole(st.Action) && principalMatches(st.Principal, principal) && conditionsHold(st.Condition, rc),
  );
  if (matching.some((st) => st.Effect === 'Deny')) return false;
  return matching.some((st) => st.Effect === 'Allow');
}

/** Record that a long-term access key signed a request (IAM's GetAccessKeyLastUsed reports it). */
export function recordKeyUse(world: WithIam, accessKeyId: string, use: { at: Date; service: string; region: string }): void {
  const owned = findAccessKey(world, accessKeyId);
  if (owned) owned.key.lastUsed = { date: use.at.toISOString(), service: use.service, region: use.region };
}

// ---------------------------------------------------------------------------------------------
// Handler plumbing
// ---------------------------------------------------------------------------------------------

const iamOf = (ctx: SimContext): IamWorld => (ctx.world as WithIam).iam;
const w = (ctx: SimContext): WithIam => ctx.world as WithIam;

/** AWS's message for a missing required member (the SDK does not check them client-side). */
function required<T>(ctx: SimContext, input: Record<string, unknown>, field: string): T {
  const v = input[field];
  if (v === undefined || v === null || v === '') {
    const member = field[0]!.toLowerCase() + field.slice(1);
    ctx.fail(
      'ValidationError',
      `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
      400,
    );
  }
  return v as T;
}

function userOrFail(ctx: SimContext, name: string): IamUser {
  const user = findUser(w(ctx), name);
  if (!user) ctx.fail('NoSuchEntityException', `The user with name ${name} cannot be found.`, 404);
  return user;
}

function roleOrFail(ctx: SimContext, name: string): IamRole {
  const role = iamOf(ctx).roles.find((r) => r.name === name);
  if (!role) ctx.fail('NoSuchEntityException', `The role with name ${name} cannot be found.`, 404);
  return role;
}

function modifiableRoleOrFail(ctx: SimContext, name: string): IamRole {
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
function userNameOrCaller(ctx: SimContext, input: { UserName?: string }): string {
  if (input.UserName) return input.UserName;
  const m = /^arn:aws:iam::\d{12}:user\/(?:.*\/)?([^/]+)$/.exec(ctx.caller.arn);
  if (!m) ctx.fail('ValidationError', 'Must specify userName when calling with non-User credentials', 400);
  return m[1]!;
}

/** IAM's Marker/MaxItems paging (the marker is opaque to callers). */
function page<T>(items: T[], input: { Marker?: string; MaxItems?: number }): { items: T[]; IsTruncated: boolean; Marker?: string } {
  const start = input.Marker ? Number(input.Marker) : 0;
  const size = input.MaxItems ?? 100;
  const slice = items.slice(start, start + size);
  const more = start + size < items.length;
  return more ? { items: slice, IsTruncated: true, Marker: String(start + size) } : { items: slice, IsTruncated: false };
}

/** IAM's quotas on inline policy text: the aggregate per user or role, whitespace not counted. */
const INLINE_QUOTA = { user: 2048, role: 10240 } as const;

function checkPolicyPut(
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

function policyArnKnown(ctx: SimContext, arn: string): string | undefined {
  if (AWS_MANAGED_POLICIES[arn]) return AWS_MANAGED_POLICIES[arn]!.name;
  const own = iamOf(ctx).policies.find((p) => customerPolicyArn(ctx.accountId, p) === arn);
  return own?.name;
}

/** IAM quota: 10 managed policies attached to a user or role (by default). */
const ATTACHED_QUOTA = 10;

function attach(ctx: SimContext, kind: 'User' | 'Role', attached: string[], arn: string): void {
  const name = policyArnKnown(ctx, arn);
  if (!name) ctx.fail('NoSuchEntityException', `Policy ${arn} does not exist or is not attachable.`, 404);
  // Attaching an attached policy succeeds and changes nothing.
  if (attached.includes(arn)) return;
  if (attached.length >= ATTACHED_QUOTA)
    ctx.fail('LimitExceededException', `Cannot exceed quota for PoliciesPer${kind}: ${ATTACHED_QUOTA}`, 409);
  attached.push(arn);
  ctx.changed();
}

function detach(ctx: SimContext, attached: string[], arn: string): void {
  const i = attached.indexOf(arn);
  if (i < 0) ctx.fail('NoSuchEntityException', `Policy ${arn} was not found.`, 404);
  attached.splice(i, 1);
  ctx.changed();
}

const tagList = (tags: Record<string, string>) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

const attachedOut = (ctx: SimContext, arns: string[]) =>
  arns.map((arn) => ({ PolicyName: policyArnKnown(ctx, arn) ?? nameFromArn(arn), PolicyArn: arn }));

function userOut(ctx: SimContext, u: IamUser) {
  return {
    Path: u.path,
    UserName: u.name,
    UserId: userId(ctx, u),
    Arn: userArn(ctx.accountId, u),
    CreateDate: new Date(u.createDate),
    ...(Object.keys(u.tags).length ? { Tags: tagList(u.tags) } : {}),
  };
}

function roleOut(ctx: SimContext, r: IamRole, withTags = true) {
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

function profileOut(ctx: SimContext, p: IamInstanceProfile) {
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

function keyOrFail(ctx: SimContext, input: { UserName?: string; AccessKeyId: string }): { user: IamUser; key: IamAccessKey } {
  const userName = userNameOrCaller(ctx, input);
  const user = userOrFail(ctx, userName);
  const key = user.accessKeys.find((k) => k.id === input.AccessKeyId);
  if (!key) ctx.fail('NoSuchEntityException', `The Access Key with id ${input.AccessKeyId} cannot be found.`, 404);
  return { user, key };
}

// ---------------------------------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------------------------------

const handlers: SimService['handlers'] = {
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

  GetRole(ctx: SimContext, input: { RoleName: string }) {
    return { Role: { ...roleOut(ctx, roleOrFail(ctx, required(ctx, input, 'RoleName'))), RoleLastUsed: {} } };
  },

  ListRolePolicies(ctx: SimContext, input: { RoleName: string; Marker?: string; MaxItems?: number }) {
    const role = roleOrFail(ctx, required(ctx, input, 'RoleName'));
    const p = page(Object.keys(role.inlinePolicies).sort(), input);
    return { PolicyNames: p.items, IsTruncated: p.IsTruncated, ...(p.Marker ? { Marker: p.Marker } : {}) };
  },

  GetRolePolicy(ctx: SimContext, input: { RoleName: string; PolicyName: string }) {
    const role = roleOrFail(ctx, required(ctx, input, 'RoleName'));
    const name = required<string>(ctx, input, 'PolicyName');
    const doc = role.inlinePolicies[name];
    if (doc === undefined) ctx.fail('NoSuchEntityException', `The role policy with name ${name} cannot be found.`, 404);
    return { RoleName: role.name, PolicyName: name, PolicyDocument: encodePolicy(doc) };
  },

  PutRolePolicy(ctx: SimContext, input: { RoleName: string; PolicyName: string; PolicyDocument: string }) {
    const role = modifiableRoleOrFail(ctx, required(ctx, input, 'RoleName'));
    const name = required<string>(ctx, input, 'PolicyName');
    const text = required<string>(ctx, input, 'PolicyDocument');
    checkPolicyPut(ctx, 'role', role.name, role.inlinePolicies, name, text);
    role.inlinePolicies[name] = text;
    ctx.changed();
    return {};
  },

  DeleteRolePolicy(ctx: SimContext, input: { RoleName: string; PolicyName: string }) {
    const role = modifiableRoleOrFail(ctx, required(ctx, input, 'RoleName'));
    const name = required<string>(ctx, input, 'PolicyName');
    if (role.inlinePolicies[name] === undefined)
      ctx.fail('NoSuchEntityException', `The role policy with name ${name} cannot be found.`, 404);
    delete role.inlinePolicies[name];
    ctx.changed();
    return {};
  },

  ListAttachedRolePolicies(ctx: SimContext, input: { RoleName: string; Marker?: string; MaxItems?: number }) {
    const role = roleOrFail(ctx, required(ctx, input, 'RoleName'));
    const p = page(attachedOut(ctx, role.attachedPolicies), input);
    return { AttachedPolicies: p.items, IsTruncated: p.IsTruncated, ...(p.Marker ? { Marker: p.Marker } : {}) };
  },

  AttachRolePolicy(ctx: SimContext, input: { RoleName: string; PolicyArn: string }) {
    const role = modifiableRoleOrFail(ctx, required(ctx, input, 'RoleName'));
    attach(ctx, 'Role', role.attachedPolicies, required(ctx, input, 'PolicyArn'));
    return {};
  },

  DetachRolePolicy(ctx: SimContext, input: { RoleName: string; PolicyArn: string }) {
    const role = modifiableRoleOrFail(ctx, required(ctx, input, 'RoleName'));
    detach(ctx, role.attachedPolicies, required(ctx, input, 'PolicyArn'));
    return {};
  },

  UpdateAssumeRolePolicy(ctx: SimContext, input: { RoleName: string; PolicyDocument: string }) {
    const role = modifiableRoleOrFail(ctx, required(ctx, input, 'RoleName'));
    const text = required<string>(ctx, input, 'PolicyDocument');
    const problem = policyProblem(text, 'trust');
    if (problem) ctx.fail('MalformedPolicyDocumentException', problem, 400);
    role.trustPolicy = text;
    ctx.changed();
    return {};
  },

  GetInstanceProfile(ctx: SimContext, input: { InstanceProfileName: string }) {
    const name = required<string>(ctx, input, 'InstanceProfileName');
    const profile = iamOf(ctx).instanceProfiles.find((p) => p.name === name);
    if (!profile) ctx.fail('NoSuchEntityException', `Instance Profile ${name} cannot be found.`, 404);
    return { InstanceProfile: profileOut(ctx, profile) };
  },

  ListInstanceProfiles(ctx: SimContext, input: { PathPrefix?: string; Marker?: string; MaxItems?: number }) {
    const prefix = input.PathPrefix ?? '/';
    const p = page(
      iamOf(ctx).instanceProfiles.filter((x) => x.path.startsWith(prefix)),
      input,
    );
    return {
      InstanceProfiles: p.items.map((x) => profileOut(ctx, x)),
      IsTruncated: p.IsTruncated,
      ...(p.Marker ? { Marker: p.Marker } : {}),
    };
  },

  ListInstanceProfilesForRole(ctx: SimContext, input: { RoleName: string; Marker?: string; MaxItems?: number }) {
    const role = roleOrFail(ctx, required(ctx, input, 'RoleName'));
    const p = page(
      iamOf(ctx).instanceProfiles.filter((x) => x.roles.includes(role.name)),
      input,
    );
    return {
      InstanceProfiles: p.items.map((x) => profileOut(ctx, x)),
      IsTruncated: p.IsTruncated,
      ...(p.Marker ? { Marker: p.Marker } : {}),
    };
  },

  RemoveRoleFromInstanceProfile(ctx: SimContext, input: { InstanceProfileName: string; RoleName: string }) {
    const name = required<string>(ctx, input, 'InstanceProfileName');
    const roleName = required<string>(ctx, input, 'RoleName');
    const profile = iamOf(ctx).instanceProfiles.find((p) => p.name === name);
    if (!profile) ctx.fail('NoSuchEntityException', `Instance Profile ${name} cannot be found.`, 404);
    roleOrFail(ctx, roleName);
    if (!profile.roles.includes(roleName)) ctx.fail('NoSuchEntityException', `The role with name ${roleName} cannot be found.`, 404);
    profile.roles = profile.roles.filter((r) => r !== roleName);
    ctx.changed();
    return {};
  },

  AddRoleToInstanceProfile(ctx: SimContext, input: { InstanceProfileName: string; RoleName: string }) {
    const name = required<string>(ctx, input, 'InstanceProfileName');
    const roleName = required<string>(ctx, input, 'RoleName');
    const profile = iamOf(ctx).instanceProfiles.find((p) => p.name === name);
    if (!profile) ctx.fail('NoSuchEntityException', `Instance Profile ${name} cannot be found.`, 404);
    roleOrFail(ctx, roleName);
    if (profile.roles.length >= 1) ctx.fail('LimitExceededException', 'Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1', 409);
    profile.roles.push(roleName);
    ctx.changed();
    return {};
  },
};

export const service: SimService<IamWorld> = {
  clientName: 'IAMClient',
  key: 'iam',
  schema,
  handlers,
  // A getter: the SDK package loads when the simulated service first fails a call, not when the simulation loads.
  get exception() {
    return IAM.IAMServiceException;
  },
};
