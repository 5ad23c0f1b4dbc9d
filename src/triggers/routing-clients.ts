/**
 * SDK clients for what routing itself may ask AWS (resource tags), built only when a route needs
 * them. They carry the permission guard like a run's clients, and every call is recorded so the
 * trigger log shows it. With --sim they answer from a read-only copy of the world: routing never
 * changes it.
 */
import type { AwsClients } from '../cloud/clients.js';
import { auditRecorder, permissionGuard, type AwsCallRecord } from '../cloud/middleware.js';
import { utilityClientsFor } from '../backend/backend.js';
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
  const build = (): Promise<AwsClients> =>
    utilityClientsFor(
      {
        ...(b.sim !== undefined ? { sim: b.sim } : {}),
        ...(b.region ? { region: b.region } : {}),
        ...(b.profile ? { profile: b.profile } : {}),
      },
      { userAgent: 'firebreak routing', plugins: [auditRecorder((c) => void calls.push(c)), permissionGuard()] },
    );
  return async (alert: Alert) => {
    clients ??= build();
    const aws = await clients;
    return ec2TagLookup(() => aws)(alert);
  };
}
