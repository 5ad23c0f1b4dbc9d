// STUB — to be replaced by the simulated sts service (see src/sim/service.ts).
import { z } from 'zod';
import { STSServiceException } from '@aws-sdk/client-sts';
import type { SimService } from '../service.js';

export const schema = z.object({}).default({});
export type StsWorld = z.infer<typeof schema>;

export const service: SimService<StsWorld> = {
  clientName: 'STSClient',
  key: 'sts',
  schema,
  handlers: {},
  exception: STSServiceException,
};
