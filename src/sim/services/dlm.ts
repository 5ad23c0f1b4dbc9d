// STUB — to be replaced by the simulated dlm service (see src/sim/service.ts).
import { z } from 'zod';
import { DLMServiceException } from '@aws-sdk/client-dlm';
import type { SimService } from '../service.js';

export const schema = z.object({}).default({});
export type DlmWorld = z.infer<typeof schema>;

export const service: SimService<DlmWorld> = {
  clientName: 'DLMClient',
  key: 'dlm',
  schema,
  handlers: {},
  exception: DLMServiceException,
};
