/**
 * Simulated EC2 Auto Scaling: groups, their instances' lifecycle states and scaling activities,
 * and the calls a responder uses to pull a suspicious instance out of a group — EnterStandby and
 * DetachInstances — with the consequences AWS gives them:
 *   - an instance in Standby or detached is deregistered from the group's target groups (it
 *     drains on the ELBv2 side);
 *   - when the desired capacity is not decremented, the group launches a replacement instance
 *     (recorded in the EC2 slice too, when the world has one, modelled on the instance it
 *     replaces but launched afresh: its own volume and interface, the group's tags only);
 *   - decrementing below the group's minimum size is refused.
 * Transitional states (EnteringStandby, Detaching, Pending) complete at once in the simulation;
 * the activities returned are AWS's at call time (InProgress) and are recorded as Successful.
 *
 * Error names given to `ctx.fail` are what the SDK surfaces as `err.name`; Auto Scaling reports
 * bad requests as `ValidationError`, which the SDK does not model, so the name is the code.
 */
import type { SimService } from '../../service.js';
import { AutoScaling } from '../../../cloud/sdk.js';
import { handlers } from './handlers.js';
import { schema, type AutoscalingWorld } from './schema.js';
export { LIFECYCLE_STATES, schema } from './schema.js';
export type { AutoscalingWorld, AsgGroup, AsgInstance } from './schema.js';
export { groupArn, groupOfInstance } from './handlers.js';

export const service: SimService<AutoscalingWorld> = {
  clientName: 'AutoScalingClient',
  key: 'autoscaling',
  scope: 'regional',
  schema,
  handlers,
  // A getter: the SDK package loads when the simulated service first fails a call, not when the simulation loads.
  get exception() {
    return AutoScaling.AutoScalingServiceException;
  },
};
