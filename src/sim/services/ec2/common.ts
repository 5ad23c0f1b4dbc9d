/**
 * What every simulated EC2 handler shares: id checks and "not found" errors with AWS's codes and
 * wording, DryRun, filters (with AWS's `*` and `?` wildcards), tags, pagination.
 */
import type { SimContext } from '../../service.js';
export { awsStyleId, derivedId } from '../../ids.js';
import type { World } from '../../world.js';
import type { Ec2World } from './schema.js';

export type Ctx = SimContext<World>;
export type Tags = Record<string, string>;

export const ec2Of = (ctx: Ctx): Ec2World => ctx.world.ec2;

export const iso = (d: Date): string => d.toISOString();
export const date = (s: string): Date => new Date(s);

/** Resource kinds: id prefix, error code stem, the noun AWS's messages use. */
export const KINDS = {
  instance: { prefix: 'i', malformed: 'InvalidInstanceID.Malformed', notFound: 'InvalidInstanceID.NotFound', noun: 'instance ID' },
  group: { prefix: 'sg', malformed: 'InvalidGroupId.Malformed', notFound: 'InvalidGroup.NotFound', noun: 'security group' },
  eni: {
    prefix: 'eni',
    malformed: 'InvalidNetworkInterfaceID.Malformed',
    notFound: 'InvalidNetworkInterfaceID.NotFound',
    noun: 'networkInterface ID',
  },
  vpc: { prefix: 'vpc', malformed: 'InvalidVpcID.Malformed', notFound: 'InvalidVpcID.NotFound', noun: 'vpc ID' },
  subnet: { prefix: 'subnet', malformed: 'InvalidSubnetID.Malformed', notFound: 'InvalidSubnetID.NotFound', noun: 'subnet ID' },
  acl: { prefix: 'acl', malformed: 'InvalidNetworkAclID.Malformed', notFound: 'InvalidNetworkAclID.NotFound', noun: 'network ACL' },
  volume: { prefix: 'vol', malformed: 'InvalidVolumeID.Malformed', notFound: 'InvalidVolume.NotFound', noun: 'volume' },
  snapshot: { prefix: 'snap', malformed: 'InvalidSnapshotID.Malformed', notFound: 'InvalidSnapshot.NotFound', noun: 'snapshot' },
  association: {
    prefix: 'iip-assoc',
    malformed: 'InvalidAssociationID.Malformed',
    notFound: 'InvalidAssociationID.NotFound',
    noun: 'association ID',
  },
} as const;
export type Kind = keyof typeof KINDS;

export function isId(kind: Kind, id: unknown): id is string {
  return typeof id === 'string' && new RegExp(`^${KINDS[kind].prefix}-[0-9a-f]{8}([0-9a-f]{9})?$`).test(id);
}

/** AWS: `Invalid id: "i-12" (expecting "i-...")`. */
export function checkIds(ctx: Ctx, kind: Kind, ids: readonly unknown[]): string[] {
  for (const id of ids) {
    if (!isId(kind, id)) ctx.fail(KINDS[kind].malformed, `Invalid id: "${String(id)}" (expecting "${KINDS[kind].prefix}-...")`);
  }
  return ids as string[];
}

/** AWS: "The instance ID 'i-1' does not exist" / "The instance IDs 'i-1, i-2' do not exist". */
export function notFound(ctx: Ctx, kind: Kind, ids: readonly string[]): never {
  const k = KINDS[kind];
  if (ids.length === 1) ctx.fail(k.notFound, `The ${k.noun} '${ids[0]}' does not exist`);
  ctx.fail(k.notFound, `The ${k.noun}s '${ids.join(', ')}' do not exist`);
}

/** Look up one resource by id, failing as AWS does when the id is malformed or unknown. */
export function find<T extends { id: string }>(ctx: Ctx, kind: Kind, list: readonly T[], id: unknown): T {
  if (id === undefined || id === null || id === '') missing(ctx, paramName(kind));
  checkIds(ctx, kind, [id]);
  const found = list.find((r) => r.id === id);
  if (!found) notFound(ctx, kind, [id as string]);
  return found;
}

/** Every requested id must exist; the error lists all the missing ones, as AWS does. */
export function findAll<T extends { id: string }>(ctx: Ctx, kind: Kind, list: readonly T[], ids: readonly unknown[]): T[] {
  checkIds(ctx, kind, ids);
  const byId = new Map(list.map((r) => [r.id, r]));
  const missingIds = (ids as string[]).filter((id) => !byId.has(id));
  if (missingIds.length) notFound(ctx, kind, [...new Set(missingIds)]);
  return [...new Set(ids as string[])].map((id) => byId.get(id)!);
}

function paramName(kind: Kind): string {
  return {
    instance: 'instanceId',
    group: 'groupId',
    eni: 'networkInterfaceId',
    vpc: 'vpcId',
    subnet: 'subnetId',
    acl: 'networkAclId',
    volume: 'volumeId',
    snapshot: 'snapshotId',
    association: 'associationId',
  }[kind];
}

export function missing(ctx: Ctx, param: string): never {
  ctx.fail('MissingParameter', `The request must contain the parameter ${param}`);
}

export function invalidValue(ctx: Ctx, param: string, value: unknown, reason?: string): never {
  ctx.fail('InvalidParameterValue', `Value (${String(value)}) for parameter ${param} is invalid.${reason ? ` ${reason}` : ''}`);
}

/**
 * AWS answers a DryRun request that would have succeeded with DryRunOperation (HTTP 412) and
 * changes nothing. Handlers call this after every check and before the first change.
 */
export function dryRun(ctx: Ctx, input: { DryRun?: boolean }): void {
  if (input.DryRun === true) ctx.fail('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', 412);
}

export interface Filter {
  Name?: string;
  Values?: string[];
}

/** A filter's value(s) for one resource; undefined when the resource has none. */
export type FilterField<T> = (item: T) => string | number | boolean | undefined | ReadonlyArray<string | number | boolean | undefined>;

function wildcard(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/**
 * Apply AWS's filter semantics: values of one filter are OR-ed, filters are AND-ed, `*` and `?`
 * are wildcards, `tag:<key>`, `tag-key` and `tag-value` work on every taggable resource.
 * An unknown filter name is an error, as in AWS.
 */
export function applyFilters<T>(
  ctx: Ctx,
  items: readonly T[],
  filters: readonly Filter[] | undefined,
  fields: Record<string, FilterField<T>>,
  tagsOf?: (item: T) => Tags,
): T[] {
  if (!filters || filters.length === 0) return [...items];
  const tests = filters.map((f) => {
    const name = f.Name;
    if (!name) ctx.fail('InvalidParameterValue', 'The filter name must be specified');
    const patterns = (f.Values ?? []).map(wildcard);
    let field: FilterField<T> | undefined = fields[name];
    if (!field && tagsOf) {
      if (name.startsWith('tag:')) {
        const key = name.slice(4);
        field = (item) => tagsOf(item)[key];
      } else if (name === 'tag-key') field = (item) => Object.keys(tagsOf(item));
      else if (name === 'tag-value') field = (item) => Object.values(tagsOf(item));
    }
    if (!field) ctx.fail('InvalidParameterValue', `The filter '${name}' is invalid`);
    const get = field;
    return (item: T) => {
      const raw = get(item);
      const values = (Array.isArray(raw) ? raw : [raw]).filter((v) => v !== undefined).map(String);
      return values.some((v) => patterns.some((p) => p.test(v)));
    };
  });
  return items.filter((item) => tests.every((t) => t(item)));
}

/** Tags from `TagSpecifications` for one resource type; other types are an error, as in AWS. */
export function tagsFromSpecs(
  ctx: Ctx,
  specs: ReadonlyArray<{ ResourceType?: string; Tags?: Array<{ Key?: string; Value?: string }> }> | undefined,
  resourceType: string,
): Tags {
  const tags: Tags = {};
  for (const spec of specs ?? []) {
    if (spec.ResourceType !== resourceType) {
      ctx.fail('InvalidParameterValue', `'${spec.ResourceType ?? ''}' is not a valid taggable resource type for this operation.`);
    }
    Object.assign(tags, checkTags(ctx, spec.Tags ?? []));
  }
  return tags;
}

export function checkTags(ctx: Ctx, tags: ReadonlyArray<{ Key?: string; Value?: string }>): Tags {
  const out: Tags = {};
  for (const t of tags) {
    if (!t.Key) ctx.fail('InvalidParameterValue', 'Tag keys must not be empty');
    if (t.Key.length > 128) invalidValue(ctx, 'Tag.Key', t.Key, 'Tag keys are at most 128 characters.');
    if ((t.Value ?? '').length > 256) invalidValue(ctx, 'Tag.Value', t.Value, 'Tag values are at most 256 characters.');
    if (t.Key.toLowerCase().startsWith('aws:'))
      ctx.fail('InvalidParameterValue', "Tag keys starting with 'aws:' are reserved for internal use");
    out[t.Key] = t.Value ?? '';
  }
  return out;
}

/** AWS's limit of 50 user tags per resource. */
export function mergeTags(ctx: Ctx, current: Tags, add: Tags, resourceId: string): Tags {
  const merged = { ...current, ...add };
  if (Object.keys(merged).length > 50)
    ctx.fail('TagLimitExceeded', `The maximum number of Tags for a resource has been reached (resource ${resourceId}).`);
  return merged;
}

/** MaxResults/NextToken over an already-filtered list. */
export function paginate<T>(
  ctx: Ctx,
  items: readonly T[],
  input: { MaxResults?: number; NextToken?: string },
  bounds: { min: number; max: number } = { min: 5, max: 1000 },
): { page: T[]; NextToken?: string } {
  let start = 0;
  if (input.NextToken !== undefined) {
    const m = /^sim-(\d+)$/.exec(Buffer.from(input.NextToken, 'base64').toString('utf8'));
    if (!m) ctx.fail('InvalidNextToken', 'The specified NextToken is not valid.');
    start = Number(m[1]);
  }
  if (input.MaxResults === undefined) return { page: items.slice(start) };
  if (input.MaxResults < bounds.min || input.MaxResults > bounds.max) {
    invalidValue(ctx, 'MaxResults', input.MaxResults, `It must be between ${bounds.min} and ${bounds.max}.`);
  }
  const end = start + input.MaxResults;
  const page = items.slice(start, end);
  return end < items.length ? { page, NextToken: Buffer.from(`sim-${end}`).toString('base64') } : { page };
}

export function azOf(ctx: Ctx, subnetId: string | undefined): string {
  const subnet = subnetId ? ec2Of(ctx).subnets.find((s) => s.id === subnetId) : undefined;
  return subnet?.availabilityZone ?? `${ctx.region}a`;
}
