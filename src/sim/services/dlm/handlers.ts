import type { SimContext, SimService } from '../../service.js';
import {
  PolicyDetails,
  policyArn,
  policyDetailsProblem,
  type DlmPolicy,
  type DlmWorld,
  type PolicyDetailsT,
  type WithDlm,
} from './schema.js';

// ---------------------------------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------------------------------

export const dlmOf = (ctx: SimContext): DlmWorld => (ctx.world as WithDlm).dlm;

/** DLM quota: 100 lifecycle policies per Region. */
export const POLICY_QUOTA = 100;

export function invalid(ctx: SimContext, message: string): never {
  return ctx.fail('InvalidRequestException', message, 400);
}

export function policyOrFail(ctx: SimContext, id: unknown): DlmPolicy {
  if (typeof id !== 'string' || !id) invalid(ctx, 'PolicyId is required.');
  const p = dlmOf(ctx).policies.find((x) => x.id === id);
  if (!p) ctx.fail('ResourceNotFoundException', `Lifecycle policy ${id} was not found.`, 404);
  return p;
}

export function byArnOrFail(ctx: SimContext, arn: unknown): DlmPolicy {
  const p = dlmOf(ctx).policies.find((x) => policyArn(ctx, x.id) === arn);
  if (!p) ctx.fail('ResourceNotFoundException', `Resource ${String(arn)} was not found.`, 404);
  return p;
}

export function checkedDetails(ctx: SimContext, raw: unknown): PolicyDetailsT {
  const parsed = PolicyDetails.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    invalid(ctx, `Invalid PolicyDetails.${issue.path.join('.')}: ${issue.message}`);
  }
  const problem = policyDetailsProblem(parsed.data);
  if (problem) invalid(ctx, problem);
  return parsed.data;
}

export function checkDescription(ctx: SimContext, d: unknown): string {
  if (typeof d !== 'string') invalid(ctx, 'Description is required.');
  if (d.length > 500 || !/^[0-9A-Za-z _-]*$/.test(d))
    invalid(ctx, 'Description may hold up to 500 letters, digits, spaces, underscores and hyphens.');
  return d;
}

export function checkRoleArn(ctx: SimContext, arn: unknown): string {
  if (typeof arn !== 'string' || !arn) invalid(ctx, 'ExecutionRoleArn is required.');
  if (!/^arn:aws[\w-]*:iam::\d{12}:role\/.+$/.test(arn)) invalid(ctx, `ExecutionRoleArn '${arn}' is not an IAM role ARN.`);
  return arn;
}

export function checkState(ctx: SimContext, state: unknown): 'ENABLED' | 'DISABLED' {
  if (state !== 'ENABLED' && state !== 'DISABLED') invalid(ctx, `State must be ENABLED or DISABLED.`);
  return state;
}

export const handlers: SimService['handlers'] = {
  CreateLifecyclePolicy(
    ctx: SimContext,
    input: {
      ExecutionRoleArn?: string;
      Description?: string;
      State?: string;
      PolicyDetails?: unknown;
      Tags?: Record<string, string>;
      DefaultPolicy?: string;
    },
  ) {
    if (input.DefaultPolicy !== undefined) invalid(ctx, 'Default policies are not supported by this simulation.');
    const executionRoleArn = checkRoleArn(ctx, input.ExecutionRoleArn);
    const description = checkDescription(ctx, input.Description);
    const state = checkState(ctx, input.State);
    if (input.PolicyDetails === undefined) invalid(ctx, 'PolicyDetails is required.');
    const policyDetails = checkedDetails(ctx, input.PolicyDetails);
    if (dlmOf(ctx).policies.length >= POLICY_QUOTA)
      ctx.fail('LimitExceededException', `The limit of ${POLICY_QUOTA} lifecycle policies has been reached.`, 429);
    const id = ctx.newId('policy');
    const now = ctx.clock.now().toISOString();
    dlmOf(ctx).policies.push({
      id,
      description,
      state,
      executionRoleArn,
      createdAt: now,
      modifiedAt: now,
      policyDetails,
      tags: { ...(input.Tags ?? {}) },
      lastRuns: {},
    });
    ctx.changed();
    return { PolicyId: id };
  },

  GetLifecyclePolicies(
    ctx: SimContext,
    input: { PolicyIds?: string[]; State?: string; ResourceTypes?: string[]; TargetTags?: string[]; TagsToAdd?: string[] },
  ) {
    const all = dlmOf(ctx).policies;
    for (const id of input.PolicyIds ?? []) {
      if (!all.some((p) => p.id === id)) ctx.fail('ResourceNotFoundException', `Lifecycle policy ${id} was not found.`, 404);
    }
    const kv = (t: { Key: string; Value: string }) => `${t.Key}=${t.Value}`;
    const policies = all.filter((p) => {
      const d = p.policyDetails;
      if (input.PolicyIds?.length && !input.PolicyIds.includes(p.id)) return false;
      if (input.State && p.state !== input.State) return false;
      if (input.ResourceTypes?.length && !input.ResourceTypes.some((r) => d.ResourceTypes?.includes(r as 'VOLUME' | 'INSTANCE')))
        return false;
      // Filters are "key=value" strings; a policy matches when it has any of them.
      if (input.TargetTags?.length && !(d.TargetTags ?? []).some((t) => input.TargetTags!.includes(kv(t)))) return false;
      if (input.TagsToAdd?.length && !(d.Schedules ?? []).some((s) => (s.TagsToAdd ?? []).some((t) => input.TagsToAdd!.includes(kv(t)))))
        return false;
      return true;
    });
    return {
      Policies: policies.map((p) => ({
        PolicyId: p.id,
        Description: p.description,
        State: p.state,
        Tags: { ...p.tags },
        PolicyType: p.policyDetails.PolicyType ?? 'EBS_SNAPSHOT_MANAGEMENT',
        DefaultPolicy: false,
      })),
    };
  },

  GetLifecyclePolicy(ctx: SimContext, input: { PolicyId?: string }) {
    const p = policyOrFail(ctx, input.PolicyId);
    return {
      Policy: {
        PolicyId: p.id,
        Description: p.description,
        State: p.state,
        ...(p.statusMessage ? { StatusMessage: p.statusMessage } : {}),
        ExecutionRoleArn: p.executionRoleArn,
        DateCreated: new Date(p.createdAt),
        DateModified: new Date(p.modifiedAt ?? p.createdAt),
        PolicyDetails: structuredClone({ PolicyType: 'EBS_SNAPSHOT_MANAGEMENT', ...p.policyDetails }),
        Tags: { ...p.tags },
        PolicyArn: policyArn(ctx, p.id),
        DefaultPolicy: false,
      },
    };
  },

  UpdateLifecyclePolicy(
    ctx: SimContext,
    input: { PolicyId?: string; ExecutionRoleArn?: string; State?: string; Description?: string; PolicyDetails?: unknown },
  ) {
    const p = policyOrFail(ctx, input.PolicyId);
    // Check everything before changing anything.
    const executionRoleArn = input.ExecutionRoleArn !== undefined ? checkRoleArn(ctx, input.ExecutionRoleArn) : undefined;
    const description = input.Description !== undefined ? checkDescription(ctx, input.Description) : undefined;
    const state = input.State !== undefined ? checkState(ctx, input.State) : undefined;
    let details: PolicyDetailsT | undefined;
    if (input.PolicyDetails !== undefined) {
      details = checkedDetails(ctx, input.PolicyDetails);
      const before = p.policyDetails;
      if ((details.PolicyType ?? 'EBS_SNAPSHOT_MANAGEMENT') !== (before.PolicyType ?? 'EBS_SNAPSHOT_MANAGEMENT'))
        invalid(ctx, 'The policy type cannot be updated.');
      if (JSON.stringify([...(details.ResourceTypes ?? [])].sort()) !== JSON.stringify([...(before.ResourceTypes ?? [])].sort()))
        invalid(ctx, 'The resource type cannot be updated.');
    }
    if (executionRoleArn !== undefined) p.executionRoleArn = executionRoleArn;
    if (description !== undefined) p.description = description;
    if (state !== undefined) p.state = state;
    if (details !== undefined) p.policyDetails = details;
    p.modifiedAt = ctx.clock.now().toISOString();
    ctx.changed();
    return {};
  },

  DeleteLifecyclePolicy(ctx: SimContext, input: { PolicyId?: string }) {
    const p = policyOrFail(ctx, input.PolicyId);
    dlmOf(ctx).policies.splice(dlmOf(ctx).policies.indexOf(p), 1);
    ctx.changed();
    return {};
  },

  TagResource(ctx: SimContext, input: { ResourceArn?: string; Tags?: Record<string, string> }) {
    const p = byArnOrFail(ctx, input.ResourceArn);
    if (!input.Tags || !Object.keys(input.Tags).length) invalid(ctx, 'Tags is required.');
    Object.assign(p.tags, input.Tags);
    ctx.changed();
    return {};
  },

  UntagResource(ctx: SimContext, input: { ResourceArn?: string; TagKeys?: string[] }) {
    const p = byArnOrFail(ctx, input.ResourceArn);
    for (const k of input.TagKeys ?? []) delete p.tags[k];
    ctx.changed();
    return {};
  },

  ListTagsForResource(ctx: SimContext, input: { ResourceArn?: string }) {
    return { Tags: { ...byArnOrFail(ctx, input.ResourceArn).tags } };
  },
};
