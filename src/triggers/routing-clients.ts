/**
 * SDK clients for what routing itself may ask AWS (resource tags), built only when a route needs
 * them. They carry the permission guard like a run's clients, and every call is recorded so the
 * trigger log shows it. With --sim they answer from a read-only copy of the world: routing never
 * changes it.
 */
import { createClients, type AwsClients } from '../cloud/clients.js';
import { auditRecorder, permissionGuard, type AwsCallRecord } from '../cloud/middleware.js';
import { DEMO_WORLD } from '../engine/session.js';
import { createSimCloud, loadWorld } from '../sim/index.js';
import type { Alert } from './alert.js';
import type { TagLookup } from './routes.js';
import { ec2TagLookup } from './tags.js';

export interface RoutingBackend {
  sim?: string | boolean;
  region?: string;
  profile?: string;
}

export function routingTagLookup(b: RoutingBackend, calls: AwsCallRecord[]): TagLookup {
  let clients: Promise<AwsClients> | undefined;
  const build = async (): Promise<AwsClients> => {
    const plugins = [auditRecorder((c) => void calls.push(c)), permissionGuard()];
    if (b.sim !== undefined && b.sim !== false) {
      const world = await loadWorld(b.sim === true ? DEMO_WORLD : String(b.sim));
      const sim = createSimCloud(world);
      return createClients({
        region: sim.region,
        credentials: sim.credentials,
        plugins: [...plugins, sim.plugin],
        userAgent: 'firebreak routing',
      });
    }
    return createClients({
      ...(b.region ? { region: b.region } : {}),
      ...(b.profile ? { profile: b.profile } : {}),
      plugins,
      userAgent: 'firebreak routing',
    });
  };
  return async (alert: Alert) => {
    clients ??= build();
    const aws = await clients;
    return ec2TagLookup(() => aws)(alert);
  };
}
