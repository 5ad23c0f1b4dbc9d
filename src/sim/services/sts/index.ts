/**
 * The simulated AWS STS service: who is calling (GetCallerIdentity) and temporary credentials
 * for a role (AssumeRole). Roles, their trust policies and the sessions issued live in the IAM
 * slice, so revoking a role's sessions in IAM stops the credentials handed out here.
 */
import type { SimContext, SimService } from '../../service.js';
import type { World } from '../../world.js';
import { STS } from '../../../cloud/sdk.js';
import { assumeRole, type AssumeRoleInput } from './handlers.js';
import { schema, type StsWorld } from './schema.js';
export { schema } from './schema.js';
export type { StsWorld } from './schema.js';

export const service: SimService<StsWorld> = {
  clientName: 'STSClient',
  key: 'sts',
  scope: 'none',
  schema: schema as unknown as SimService<StsWorld>['schema'],
  // A getter: the SDK package loads when the simulated service first fails a call, not when the simulation loads.
  get exception() {
    return STS.STSServiceException;
  },
  handlers: {
    GetCallerIdentity: (ctx: SimContext) => ({ UserId: ctx.caller.userId, Account: ctx.caller.account, Arn: ctx.caller.arn }),
    AssumeRole: (ctx: SimContext, input: AssumeRoleInput) => assumeRole(ctx as SimContext<World>, input),
  },
};
