// STUB — to be replaced by the simulated sns service (see src/sim/service.ts).
import { z } from 'zod';
import { SNSServiceException } from '@aws-sdk/client-sns';
import type { SimService } from '../service.js';

export const schema = z.object({}).default({});
export type SnsWorld = z.infer<typeof schema>;

export const service: SimService<SnsWorld> = {
  clientName: 'SNSClient',
  key: 'sns',
  schema,
  handlers: {},
  exception: SNSServiceException,
};
