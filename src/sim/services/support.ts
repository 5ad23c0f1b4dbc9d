// STUB — to be replaced by the simulated support service (see src/sim/service.ts).
import { z } from 'zod';
import { SupportServiceException } from '@aws-sdk/client-support';
import type { SimService } from '../service.js';

export const schema = z.object({}).default({});
export type SupportWorld = z.infer<typeof schema>;

export const service: SimService<SupportWorld> = {
  clientName: 'SupportClient',
  key: 'support',
  schema,
  handlers: {},
  exception: SupportServiceException,
};
