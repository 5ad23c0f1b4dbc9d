/** The STS operations Firebreak sends: GetCallerIdentity and AssumeRole. */
import { createHash } from 'node:crypto';
import type { SimContext } from '../../service.js';
import type { World } from '../../world.js';
import { awsStyleId } from '../../ids.js';
import { findRole, findUser, recordRoleSession, trustPolicyAllows, type RequestContext } from '../iam/index.js';
import { identityDecision, identityDocs } from '../iam/policy-eval.js';
import { roleFacts } from '../iam/facts.js';
import { accountWorld } from '../../scopes.js';

export function validation(ctx: SimContext, value: unknown, field: string, constraint: string): never {
  ctx.fail(
    'ValidationError',
    `1 validation error detected: Value ${value === undefined ? 'null' : `'${String(value)}'`} at '${field}' failed to satisfy constraint: ${constraint}`,
  );
}

export function secretFrom(seed: string, what: string, length: number): string {
  return createHash('sha256')
    .update(`${what}/${seed}`)
    .digest('base64')
    .replace(/[^A-Za-z0-9]/g, '')
    .padEnd(length, 'A')
    .slice(0, length);
}

export interface AssumeRoleInput {
  RoleArn?: string;
  RoleSessionName?: string;
  DurationSeconds?: number;
  ExternalId?: string;
  SourceIdentity?: string;
}

/**
 * The caller's own IAM entity (a user, or the role of a role session) in its account, when the
 * world declares it: its ARN is `aws:PrincipalArn`, and its policies decide whether it may call
 * sts:AssumeRole on a role in another account.
 */
function callerEntity(ctx: SimContext<World>): { principalArn: string; docs: unknown[] } | undefined {
  const home = accountWorld(ctx.world, ctx.caller.account);
  if (!home) return undefined;
  const user = /^arn:aws[\w-]*:iam::\d{12}:user\/(?:.*\/)?([^/]+)$/.exec(ctx.caller.arn);
  if (user) {
    const u = findUser(home, user[1]!);
    return u ? { principalArn: ctx.caller.arn, docs: identityDocs(home, u) } : undefined;
  }
  const session = /^arn:aws[\w-]*:sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(ctx.caller.arn);
  if (session) {
    const r = findRole(home, session[2]!);
    return r ? { principalArn: `arn:aws:iam::${session[1]}:role${r.path}${r.name}`, docs: identityDocs(home, r) } : undefined;
  }
  return undefined;
}

/**
 * sts:AssumeRole, within an account or across accounts. AWS's checks, in the order that decides
 * which error a caller sees: the input's constraints; the role must exist in its account and its
 * trust policy must allow the caller (Principal, conditions such as sts:ExternalId and
 * aws:PrincipalArn); a session that will carry a source identity needs sts:SetSourceIdentity in
 * the trust policy too; across accounts the caller's own identity policies must also allow
 * sts:AssumeRole on the role. Every refusal is the same AccessDenied, so a caller cannot tell a
 * missing role from a trust policy that does not name it.
 */
export async function assumeRole(ctx: SimContext<World>, input: AssumeRoleInput) {
  if (!input.RoleArn) validation(ctx, undefined, 'roleArn', 'Member must not be null');
  if (input.RoleArn.length < 20 || input.RoleArn.length > 2048)
    validation(ctx, input.RoleArn, 'roleArn', 'Member must have length greater than or equal to 20');
  if (!input.RoleSessionName) validation(ctx, undefined, 'roleSessionName', 'Member must not be null');
  if (!/^[\w+=,.@-]{2,64}$/.test(input.RoleSessionName)) {
    validation(ctx, input.RoleSessionName, 'roleSessionName', 'Member must satisfy regular expression pattern: [\\w+=,.@-]*');
  }
  if (input.ExternalId !== undefined && !/^[\w+=,.@:/-]{2,1224}$/.test(input.ExternalId)) {
    validation(ctx, input.ExternalId, 'externalId', 'Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]*');
  }
  if (input.SourceIdentity !== undefined && !/^[\w+=,.@-]{2,64}$/.test(input.SourceIdentity)) {
    validation(ctx, input.SourceIdentity, 'sourceIdentity', 'Member must satisfy regular expression pattern: [\\w+=,.@-]*');
  }
  const duration = input.DurationSeconds ?? 3600;
  if (duration < 900 || duration > 43200)
    validation(ctx, duration, 'durationSeconds', 'Member must have value less than or equal to 43200');
  const now = ctx.clock.now();
  const deniedFor: (action: string) => never = (action) =>
    ctx.fail('AccessDenied', `User: ${ctx.caller.arn} is not authorized to perform: ${action} on resource: ${input.RoleArn}`, 403);
  const denied: () => never = () => deniedFor('sts:AssumeRole');
  const arnMatch = /^arn:aws[\w-]*:iam::(\d{12}):role\/(?:.*\/)?[\w+=,.@-]+$/.exec(input.RoleArn);
  if (!arnMatch) denied();
  const account = arnMatch[1]!;
  // An account the world does not hold answers as one whose role does not trust the caller.
  const target = accountWorld(ctx.world, account);
  if (!target) denied();
  const inTarget: SimContext<World> = { ...ctx, world: target, accountId: account };
  const role = findRole(target, input.RoleArn);
  if (!role) denied();
  const facts = await roleFacts(inTarget, role.name);
  if (facts.Arn !== input.RoleArn) denied();

  const entity = callerEntity(ctx);
  // A session's source identity cannot change: chained sessions carry it on.
  if (ctx.caller.sourceIdentity !== undefined && input.SourceIdentity !== undefined && input.SourceIdentity !== ctx.caller.sourceIdentity) {
    deniedFor('sts:SetSourceIdentity');
  }
  const sourceIdentity = input.SourceIdentity ?? ctx.caller.sourceIdentity;
  const rc: RequestContext = {
    now,
    principalAccount: ctx.caller.account,
    principalArn: entity?.principalArn ?? ctx.caller.arn,
    ...(input.ExternalId !== undefined ? { externalId: input.ExternalId } : {}),
    ...(sourceIdentity !== undefined ? { sourceIdentity } : {}),
  };
  if (!trustPolicyAllows(target, input.RoleArn, ctx.caller.arn, rc)) denied();
  if (sourceIdentity !== undefined && !trustPolicyAllows(target, input.RoleArn, ctx.caller.arn, rc, 'sts:SetSourceIdentity')) {
    deniedFor('sts:SetSourceIdentity');
  }
  // Across accounts both sides must agree: the role's trust policy and the caller's own policies.
  // A caller the world does not declare in its account's IAM has no policies to consult.
  if (account !== ctx.caller.account && entity && identityDecision(entity.docs, 'sts:AssumeRole', facts.Arn, rc) !== 'allow') denied();
  if (duration > role.maxSessionDuration) {
    ctx.fail('ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
  }

  const seed = ctx.newId('sts-session');
  const accessKeyId = `ASIA${awsStyleId('', seed).slice(1)}`;
  const expiration = new Date(now.getTime() + duration * 1000);
  recordRoleSession(target, {
    roleArn: facts.Arn,
    accessKeyId,
    issuedAt: now,
    expiresAt: expiration,
    sessionName: input.RoleSessionName,
    ...(sourceIdentity !== undefined ? { sourceIdentity } : {}),
  });
  ctx.changed();
  const assumedId = `${facts.RoleId}:${input.RoleSessionName}`;
  return {
    Credentials: {
      AccessKeyId: accessKeyId,
      SecretAccessKey: secretFrom(seed, 'secret', 40),
      SessionToken: `IQoJb3JpZ2luX2VjE${secretFrom(seed, 'token', 300)}`,
      Expiration: expiration,
    },
    AssumedRoleUser: { AssumedRoleId: assumedId, Arn: `arn:aws:sts::${account}:assumed-role/${role.name}/${input.RoleSessionName}` },
    PackedPolicySize: 0,
    ...(sourceIdentity !== undefined ? { SourceIdentity: sourceIdentity } : {}),
  };
}
