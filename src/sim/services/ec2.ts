// STUB — to be replaced by the simulated ec2 service (see src/sim/service.ts).
import { z } from 'zod';
import { EC2ServiceException } from '@aws-sdk/client-ec2';
import type { SimService } from '../service.js';

export const schema = z.object({}).default({});
export type Ec2World = z.infer<typeof schema>;

export const service: SimService<Ec2World> = {
  clientName: 'EC2Client',
  key: 'ec2',
  schema,
  handlers: {},
  exception: EC2ServiceException,
};
