/**
 * A raw AWS call by service and operation name (`ec2` + `DescribeInstances`), sent through the
 * same SDK v3 clients as everything else: what an attacker does with stolen keys, or a player does
 * by hand in the console or the AWS CLI, outside any playbook.
 */
import type { AwsClients, ServiceName } from '../cloud/clients.js';

type CommandCtor = new (input: Record<string, unknown>) => unknown;

const MODULES: Record<ServiceName, () => Promise<Record<string, unknown>>> = {
  ec2: () => import('@aws-sdk/client-ec2'),
  iam: () => import('@aws-sdk/client-iam'),
  sts: () => import('@aws-sdk/client-sts'),
  autoscaling: () => import('@aws-sdk/client-auto-scaling'),
  elbv2: () => import('@aws-sdk/client-elastic-load-balancing-v2'),
  dlm: () => import('@aws-sdk/client-dlm'),
  support: () => import('@aws-sdk/client-support'),
  sns: () => import('@aws-sdk/client-sns'),
};

/** The SDK command class for `operation`, or undefined when the service has no such operation. */
export async function commandFor(service: ServiceName, operation: string): Promise<CommandCtor | undefined> {
  const mod = await MODULES[service]();
  const ctor = mod[`${operation}Command`];
  return typeof ctor === 'function' ? (ctor as CommandCtor) : undefined;
}

/** Send `operation` with `input` through the client of `service`; resolves to the SDK's output. */
export async function sendRaw(
  aws: AwsClients,
  service: ServiceName,
  operation: string,
  input: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const Ctor = await commandFor(service, operation);
  if (!Ctor) throw new Error(`failed to send ${service}:${operation}: the AWS SDK has no such command`);
  const client = aws[service] as unknown as { send(command: unknown): Promise<Record<string, unknown>> };
  return client.send(new Ctor(input));
}
