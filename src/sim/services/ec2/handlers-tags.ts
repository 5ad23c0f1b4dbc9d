/** Simulated EC2: tags on every taggable resource of the slice. */
import type { SimHandler } from '../../service.js';
import type { Ec2World } from './schema.js';
import {
  applyFilters,
  checkTags,
  dryRun,
  ec2Of,
  isId,
  mergeTags,
  missing,
  notFound,
  paginate,
  type Ctx,
  type Filter,
  type Kind,
  type Tags,
} from './common.js';

interface Taggable {
  kind: Kind;
  list: keyof Ec2World;
  type: string;
}

const TAGGABLE: Taggable[] = [
  { kind: 'instance', list: 'instances', type: 'instance' },
  { kind: 'group', list: 'securityGroups', type: 'security-group' },
  { kind: 'eni', list: 'networkInterfaces', type: 'network-interface' },
  { kind: 'volume', list: 'volumes', type: 'volume' },
  { kind: 'snapshot', list: 'snapshots', type: 'snapshot' },
  { kind: 'vpc', list: 'vpcs', type: 'vpc' },
  { kind: 'subnet', list: 'subnets', type: 'subnet' },
  { kind: 'acl', list: 'networkAcls', type: 'network-acl' },
];

type Tagged = { id: string; tags: Tags };

function resolve(ctx: Ctx, ids: readonly string[] | undefined): Tagged[] {
  if (!ids?.length) missing(ctx, 'resourceIdSet');
  return ids.map((id) => {
    const t = TAGGABLE.find((x) => isId(x.kind, id));
    if (!t) ctx.fail('InvalidID', `The ID '${id}' is not valid`);
    const found = (ec2Of(ctx)[t.list] as Tagged[]).find((r) => r.id === id);
    if (!found) notFound(ctx, t.kind, [id]);
    return found;
  });
}

const createTags: SimHandler = (
  ctx: Ctx,
  input: { Resources?: string[]; Tags?: Array<{ Key?: string; Value?: string }>; DryRun?: boolean },
) => {
  const resources = resolve(ctx, input.Resources);
  if (!input.Tags?.length) missing(ctx, 'tagSet');
  const add = checkTags(ctx, input.Tags);
  const merged = resources.map((r) => mergeTags(ctx, r.tags, add, r.id));
  dryRun(ctx, input);
  resources.forEach((r, i) => {
    r.tags = merged[i]!;
  });
  ctx.changed();
  return {};
};

const deleteTags: SimHandler = (
  ctx: Ctx,
  input: { Resources?: string[]; Tags?: Array<{ Key?: string; Value?: string }>; DryRun?: boolean },
) => {
  const resources = resolve(ctx, input.Resources);
  for (const t of input.Tags ?? []) {
    if (!t.Key) ctx.fail('InvalidParameterValue', 'Tag keys must not be empty');
    if (t.Key.toLowerCase().startsWith('aws:'))
      ctx.fail('InvalidParameterValue', "Tag keys starting with 'aws:' are reserved for internal use");
  }
  dryRun(ctx, input);
  for (const r of resources) {
    const next = { ...r.tags };
    // No tags named: every user tag goes. A tag with a value goes only if the value matches.
    if (!input.Tags?.length) for (const k of Object.keys(next)) delete next[k];
    for (const t of input.Tags ?? []) {
      if (t.Value === undefined || next[t.Key!] === t.Value) delete next[t.Key!];
    }
    r.tags = next;
  }
  ctx.changed();
  return {};
};

const describeTags: SimHandler = (ctx: Ctx, input: { Filters?: Filter[]; MaxResults?: number; NextToken?: string }) => {
  const rows: Array<{ Key: string; Value: string; ResourceId: string; ResourceType: string }> = [];
  for (const t of TAGGABLE) {
    for (const r of ec2Of(ctx)[t.list] as Tagged[]) {
      for (const [Key, Value] of Object.entries(r.tags)) rows.push({ Key, Value, ResourceId: r.id, ResourceType: t.type });
    }
  }
  const list = applyFilters(
    ctx,
    rows,
    input.Filters,
    {
      key: (x) => x.Key,
      value: (x) => x.Value,
      'resource-id': (x) => x.ResourceId,
      'resource-type': (x) => x.ResourceType,
    },
    (x) => ({ [x.Key]: x.Value }),
  );
  const { page, NextToken } = paginate(ctx, list, input);
  return { Tags: page, ...(NextToken ? { NextToken } : {}) };
};

export const tagHandlers: Record<string, SimHandler> = {
  CreateTags: createTags,
  DeleteTags: deleteTags,
  DescribeTags: describeTags,
};
