/** The STS operations Firebreak sends: GetCallerIdentity and AssumeRole. */
import { createHash } from 'node:crypto';
import type { SimContext } from '../../service.js';
import type { World } from '../../world.js';
import { awsStyleId } from '../../ids.js';
import { findRole, recordRoleSession, trustPolicyAllows } from '../iam/index.js';
import { roleFacts } from '../iam/facts.js';

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
}

export async function assumeRole(ctx: SimContext<World>, input: AssumeRoleInput) {
  if (!input.RoleArn) validation(ctx, undefined, 'roleArn', 'Member must not be null');
  if (input.RoleArn.length < 20 || input.RoleArn.length > 2048)
    validation(ctx, input.RoleArn, 'roleArn', 'Member must have length greater than or equal to 20');
  if (!input.RoleSessionName) validation(ctx, undefined, 'roleSessionName', 'Member must not be null');
  if (!/^[\w+=,.@-]{2,64}$/.test(input.RoleSessionName)) {
    validation(ctx, input.RoleSessionName, 'roleSessionName', 'Member must satisfy regular expression pattern: [\\w+=,.@-]*');
  }
  const duration = input.DurationSeconds ?? 3600;
  if (duration < 900 || duration > 43200)
    validation(ctx, duration, 'durationSeconds', 'Member must have value less than or equal to 43200');
  const now = ctx.clock.now();
  const denied: () => never = () =>
    ctx.fail('AccessDenied', `User: ${ctx.caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${input.RoleArn}`, 403);
  const arnMatch = /^arn:aws[\w-]*:iam::(\d{12}):role\/(?:.*\/)?[\w+=,.@-]+$/.exec(input.RoleArn);
  // Other accounts are not simulated: AWS answers a role it cannot assume with AccessDenied.
  if (!arnMatch || arnMatch[1] !== ctx.accountId) denied();
  const role = findRole(ctx.world, input.RoleArn);
  if (!role) denied();
  const rc = { now, ...(input.ExternalId !== undefined ? { externalId: input.ExternalId } : {}) };
  if (!trustPolicyAllows(ctx.world, input.RoleArn, ctx.caller.arn, rc)) denied();
  if (duration > role.maxSessionDuration) {
    ctx.fail('ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
  }
  const facts = await roleFacts(ctx, role.name);
  if (facts.Arn !== input.RoleArn) denied();

  const seed = ctx.newId('sts-session');
  const accessKeyId = `ASIA${awsStyleId('', seed).slice(1)}`;
  const expiration = new Date(now.getTime() + duration * 1000);
  recordRoleSession(ctx.world, {
    roleArn: facts.Arn,
    accessKeyId,
    issuedAt: now,
    expiresAt: expiration,
    sessionName: input.RoleSessionName,
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
    AssumedRoleUser: { AssumedRoleId: assumedId, Arn: `arn:aws:sts::${ctx.accountId}:assumed-role/${role.name}/${input.RoleSessionName}` },
    PackedPolicySize: 0,
  };
}
