/**
 * Simulated AWS Organizations: the read APIs that resolve an organizational unit to its accounts
 * (guardrails by OU). Organizations is a global service answered in us-east-1: its slice is the
 * world's, whatever account or Region the client is for, so its scope is 'none'.
 */
import type { SimService } from '../../service.js';
import { Organizations } from '../../../cloud/sdk.js';
import { handlers } from './handlers.js';
import { schema, type OrganizationsWorld } from './schema.js';
export { schema, OU_ID, ROOT_ID } from './schema.js';
export type { OrganizationsWorld } from './schema.js';

export const service: SimService<OrganizationsWorld> = {
  clientName: 'OrganizationsClient',
  key: 'organizations',
  scope: 'none',
  schema: schema as SimService<OrganizationsWorld>['schema'],
  handlers: handlers as SimService['handlers'],
  // A getter: the SDK package loads when the simulated service first fails a call, not when the simulation loads.
  get exception() {
    return Organizations.OrganizationsServiceException;
  },
};
