/**
 * The simulated Amazon EC2 service: its world slice (schema.ts) and the handlers for the
 * commands Firebreak sends, with AWS's shapes, error codes and DryRun behaviour.
 */
import type { SimHandler, SimService } from '../../service.js';
import { ec2Schema, type Ec2World } from './schema.js';
import type { Ctx } from './common.js';
import { instanceHandlers } from './handlers-instances.js';
import { securityGroupHandlers } from './handlers-security-groups.js';
import { networkHandlers } from './handlers-network.js';
import { settleSnapshots, storageHandlers } from './handlers-storage.js';
import { tagHandlers } from './handlers-tags.js';
import { profileHandlers } from './handlers-profiles.js';
import { EC2 } from '../../../cloud/sdk.js';

export const schema = ec2Schema;
export type { Ec2World };

/** Before each call, let simulated time finish the snapshots whose time has come. */
function settled(handler: SimHandler): SimHandler {
  return (ctx, input) => {
    if (settleSnapshots(ctx as Ctx)) ctx.changed();
    return handler(ctx, input);
  };
}

const handlers: Record<string, SimHandler> = {};
for (const [name, h] of Object.entries({
  ...instanceHandlers,
  ...securityGroupHandlers,
  ...networkHandlers,
  ...storageHandlers,
  ...tagHandlers,
  ...profileHandlers,
})) {
  handlers[name] = settled(h);
}

export const service: SimService<Ec2World> = {
  clientName: 'EC2Client',
  key: 'ec2',
  scope: 'regional',
  schema: schema as unknown as SimService<Ec2World>['schema'],
  handlers,
  // A getter: the SDK package loads when the simulated service first fails a call, not when the simulation loads.
  get exception() {
    return EC2.EC2ServiceException;
  },
};
