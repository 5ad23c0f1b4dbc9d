/**
 * SDK clients for what routing itself may ask AWS (resource tags), built only when a route needs
 * them. Tags are read where the alert's resource is: in the alert's account and Region, through
 * the responder role the run would use (the same template and external id), so an instance with
 * the same id in the security account never decides the route. They carry the permission guard
 * like a run's clients, and every call is recorded, with the account and role it went through, so
 * the trigger log shows it. With --sim they answer from a read-only copy of the world: routing
 * never changes it.
 */
import type { AwsClients } from '../cloud/clients.js';
import { auditRecorder, permissionGuard, type AwsCallRecord } from '../cloud/middleware.js';
import { accountOfRole, utilityClientsFor } from '../backend/backend.js';
import type { Alert } from './alert.js';
import type { ResponderWhere } from './responder-role.js';
import { ec2TagLookup } from './tags.js';

export interface RoutingBackend {
  sim?: string | boolean;
  region?: string;
  profile?: string;
}

/** A routing call as the trigger log records it: where it went, and through which role. */
export type RoutingCallRecord = AwsCallRecord & { account?: string; roleArn?: string };

/** Tags of the alert's resources, read where `where` says the run will act. */
export type RoutingTagLookup = (alert: Alert, where: ResponderWhere) => Promise<Record<string, Record<string, string>>>;

export function routingTagLookup(b: RoutingBackend, calls: RoutingCallRecord[]): RoutingTagLookup {
  // One set of clients per place routing reads from: a role's session is reused across alerts.
  const built = new Map<string, Promise<AwsClients>>();
  const build = (alert: Alert, where: ResponderWhere): Promise<AwsClients> => {
    const region = where.region ?? b.region;
    const account = where.roleArn ? accountOfRole(where.roleArn) : undefined;
    const record = auditRecorder(
      (c) => void calls.push({ ...c, ...(account ? { account } : {}), ...(where.roleArn ? { roleArn: where.roleArn } : {}) }),
    );
    return utilityClientsFor(
      {
        ...(b.sim !== undefined ? { sim: b.sim } : {}),
        ...(region ? { region } : {}),
        ...(b.profile ? { profile: b.profile } : {}),
      },
      {
        userAgent: 'firebreak routing',
        plugins: [record, permissionGuard()],
        ...(where.roleArn
          ? {
              assumeRole: {
                roleArn: where.roleArn,
                // The session names the alert's run-to-be, as the run's own session does (64 characters at most).
                sessionName: `firebreak-route-${alert.runId}`.slice(0, 64),
                ...(where.externalId ? { externalId: where.externalId } : {}),
                ...(where.sourceIdentity ? { sourceIdentity: where.sourceIdentity } : {}),
                // Recorded, not guarded: the role is assumed for routing, not by the step that first needs it.
                plugins: [record],
              },
            }
          : {}),
      },
    );
  };
  return async (alert, where) => {
    const key = JSON.stringify([where.region ?? b.region ?? '', where.roleArn ?? '', where.externalId ?? '']);
    let clients = built.get(key);
    if (!clients) {
      clients = build(alert, where);
      built.set(key, clients);
      clients.catch(() => built.delete(key));
    }
    const aws = await clients;
    return ec2TagLookup(() => aws)(alert);
  };
}
