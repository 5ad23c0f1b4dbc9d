// STUB — to be replaced by the simulated elbv2 service (see src/sim/service.ts).
import { z } from 'zod';
import { ElasticLoadBalancingV2ServiceException } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { SimService } from '../service.js';

export const schema = z.object({}).default({});
export type Elbv2World = z.infer<typeof schema>;

export const service: SimService<Elbv2World> = {
  clientName: 'ElasticLoadBalancingV2Client',
  key: 'elbv2',
  schema,
  handlers: {},
  exception: ElasticLoadBalancingV2ServiceException,
};
