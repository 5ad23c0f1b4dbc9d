/**
 * Resource tags for routes that match on them. GuardDuty and Security Hub findings usually carry
 * the instance's tags; when an alert names an instance without them (CloudWatch alarms, generic
 * alerts), the route asks EC2. This happens only after the alert and the routing table validated,
 * and only for a route whose other criteria already matched.
 */
import { withCallContext } from '../cloud/call-context.js';
import type { AwsClients } from '../cloud/clients.js';
import { isAwsError } from '../core/errors.js';
import type { Alert } from './alert.js';
import { EC2 } from '../cloud/sdk.js';

/** What routing may call; `firebreak iam-policy` should add it for a trigger deployment. */
export const ROUTING_PERMISSIONS = ['ec2:DescribeInstances'] as const;

export function ec2TagLookup(clients: () => AwsClients): (alert: Alert) => Promise<Record<string, Record<string, string>>> {
  return async (alert: Alert) => {
    const out: Record<string, Record<string, string>> = {};
    const missing = alert.resources.instanceIds.filter((id) => !alert.tags[id]);
    if (missing.length === 0) return out;
    const aws = clients();
    for (const id of missing) {
      try {
        const res = await withCallContext(
          { step: 'routing', action: 'firebreak.route', permissions: new Set<string>(ROUTING_PERMISSIONS) },
          () => aws.ec2.send(new EC2.DescribeInstancesCommand({ InstanceIds: [id] })),
        );
        const inst = res.Reservations?.flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === id);
        if (inst) out[id] = Object.fromEntries((inst.Tags ?? []).filter((t) => t.Key !== undefined).map((t) => [t.Key!, t.Value ?? '']));
      } catch (err) {
        // An instance that no longer exists has no tags: the route does not match, and says so.
        if (isAwsError(err, 'InvalidInstanceID.NotFound', 'InvalidInstanceID.Malformed')) continue;
        throw err;
      }
    }
    return out;
  };
}
