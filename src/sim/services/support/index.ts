/**
 * Simulated AWS Support API: the account's support plan and its cases. The API answers only
 * accounts on a Business, Enterprise On-Ramp or Enterprise plan; every other account gets
 * SubscriptionRequiredException — which is what an incident-response runbook meets when it
 * tries to open a case from a Basic or Developer account, so the default plan here is 'basic'.
 *
 * The Support API has one endpoint, in us-east-1: the SDK sends every commercial region's calls
 * there, so the simulation answers whatever region the client names. AWS does not document the
 * HTTP status of SubscriptionRequiredException; it is a client fault of a JSON-protocol service,
 * answered here with 400. Error names given to `ctx.fail` are the SDK's (JSON protocol: codes and
 * names coincide; SubscriptionRequiredException is not modelled, so its name is the code).
 */
import type { SimService } from '../../service.js';
import { Support } from '../../../cloud/sdk.js';
import { handlers } from './handlers.js';
import { schema, type SupportWorld } from './schema.js';
export { SUPPORT_PLANS, SEVERITY_LEVELS, schema } from './schema.js';
export type { SupportWorld, SupportCase } from './schema.js';

export const service: SimService<SupportWorld> = {
  clientName: 'SupportClient',
  key: 'support',
  scope: 'account',
  schema,
  handlers,
  // A getter: the SDK package loads when the simulated service first fails a call, not when the simulation loads.
  get exception() {
    return Support.SupportServiceException;
  },
};
