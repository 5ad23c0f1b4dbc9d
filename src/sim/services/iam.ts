// STUB — to be replaced by the simulated iam service (see src/sim/service.ts).
import { z } from 'zod';
import { IAMServiceException } from '@aws-sdk/client-iam';
import type { SimService } from '../service.js';

export const schema = z.object({}).default({});
export type IamWorld = z.infer<typeof schema>;

export const service: SimService<IamWorld> = {
  clientName: 'IAMClient',
  key: 'iam',
  schema,
  handlers: {},
  exception: IAMServiceException,
};
