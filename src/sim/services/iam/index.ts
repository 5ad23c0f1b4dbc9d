/**
 * Simulated IAM: users and their access keys, roles (service-linked ones included), instance
 * profiles, inline and managed policies, and the role sessions STS hands out.
 *
 * Error names given to `ctx.fail` are what the SDK surfaces as `err.name` against real IAM: the
 * wire code `NoSuchEntity` arrives as `NoSuchEntityException`, `UnmodifiableEntity` as
 * `UnmodifiableEntityException`, and so on; IAM's unmodelled `ValidationError` keeps its code.
 *
 * schema.ts holds the world slice, entities.ts names and lookups, policy-eval.ts policy documents
 * and their evaluation, sessions.ts whether credentials still work, handlers-*.ts the operations.
 */
import type { SimService } from '../../service.js';
import { IAM } from '../../../cloud/sdk.js';
import { schema, type IamWorld } from './schema.js';
import { userHandlers } from './handlers-users.js';
import { roleHandlers } from './handlers-roles.js';
import { instanceProfileHandlers } from './handlers-profiles.js';

export { schema };
export type { IamWorld, IamUser, IamRole, IamAccessKey, IamInstanceProfile, RoleSession, WithIam } from './schema.js';
export { AWS_MANAGED_POLICIES } from './schema.js';
export { isProtectedRole, findUser, findRole, findAccessKey, findRoleSession } from './entities.js';
export type { RequestContext } from './policy-eval.js';
export { isKeyUsable, recordRoleSession, sessionStatus, isSessionValid, trustPolicyAllows, recordKeyUse } from './sessions.js';

export const service: SimService<IamWorld> = {
  clientName: 'IAMClient',
  key: 'iam',
  scope: 'account',
  schema,
  handlers: { ...userHandlers, ...roleHandlers, ...instanceProfileHandlers },
  // A getter: the SDK package loads when the simulated service first fails a call, not when the simulation loads.
  get exception() {
    return IAM.IAMServiceException;
  },
};
