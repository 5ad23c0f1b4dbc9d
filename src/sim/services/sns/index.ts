/**
 * Simulated Amazon SNS: topics, and a log of every message published to them — what a playbook
 * sends to notify people, and what a tabletop facilitator reads back.
 *
 * Error names given to `ctx.fail` are what the SDK surfaces as `err.name` (the wire code
 * `NotFound` arrives as `NotFoundException`, `InvalidParameter` as `InvalidParameterException`).
 */
import type { SimService } from '../../service.js';
import { SNS } from '../../../cloud/sdk.js';
import { handlers } from './handlers.js';
import { schema, type SnsWorld } from './schema.js';
export { schema } from './schema.js';
export type { SnsWorld, PublishedMessage } from './schema.js';

export const service: SimService<SnsWorld> = {
  clientName: 'SNSClient',
  key: 'sns',
  scope: 'regional',
  schema,
  handlers,
  // A getter: the SDK package loads when the simulated service first fails a call, not when the simulation loads.
  get exception() {
    return SNS.SNSServiceException;
  },
};
