/**
 * Simulated Elastic Load Balancing v2: target groups with their registered targets, and load
 * balancers (described only). Target health follows AWS's state machine on the simulated clock:
 * a new target is `initial` until enough health checks pass, a deregistered one is `draining`
 * for the group's deregistration delay (300 s by default) and then gone, and a group no load
 * balancer uses reports its targets `unused` — each a state that surprises responders.
 *
 * Error names given to `ctx.fail` are what the SDK surfaces as `err.name` (the wire code
 * `TargetGroupNotFound` arrives as `TargetGroupNotFoundException`).
 */
import type { SimService } from '../../service.js';
import { ELBv2 } from '../../../cloud/sdk.js';
import { handlers } from './handlers.js';
import { schema, type Elbv2World } from './schema.js';
export { schema } from './schema.js';
export type { Elbv2World, TargetGroupT, TargetT, LoadBalancerT, WithElbv2 } from './schema.js';
export { targetGroupArn, loadBalancerArn, findTargetGroup, registerTarget, deregisterTarget, targetHealth } from './targets.js';
export type { Place } from './targets.js';

export const service: SimService<Elbv2World> = {
  clientName: 'ElasticLoadBalancingV2Client',
  key: 'elbv2',
  scope: 'regional',
  schema,
  handlers,
  // A getter: the SDK package loads when the simulated service first fails a call, not when the simulation loads.
  get exception() {
    return ELBv2.ElasticLoadBalancingV2ServiceException;
  },
};
