/** IAM roles: role policies and trust policies. */
import type { SimContext, SimService } from '../../service.js';
import { attach, attachedOut, checkPolicyPut, detach, modifiableRoleOrFail, page, roleOrFail, roleOut } from './handlers-common.js';
import { required } from '../../kit.js';
import { encodePolicy, policyProblem } from './policy-eval.js';

export const roleHandlers: SimService['handlers'] = {
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
};
