/** IAM instance profiles. */
import type { SimContext, SimService } from '../../service.js';
import { iamOf, page, profileOut, roleOrFail } from './handlers-common.js';
import { required } from '../../kit.js';

export const instanceProfileHandlers: SimService['handlers'] = {
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
