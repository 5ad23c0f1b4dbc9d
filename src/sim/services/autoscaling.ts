// STUB — to be replaced by the simulated autoscaling service (see src/sim/service.ts).
import { z } from 'zod';
import { AutoScalingServiceException } from '@aws-sdk/client-auto-scaling';
import type { SimService } from '../service.js';

export const schema = z.object({}).default({});
export type AutoscalingWorld = z.infer<typeof schema>;

export const service: SimService<AutoscalingWorld> = {
  clientName: 'AutoScalingClient',
  key: 'autoscaling',
  schema,
  handlers: {},
  exception: AutoScalingServiceException,
};
