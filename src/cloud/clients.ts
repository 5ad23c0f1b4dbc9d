/**
 * AWS SDK v3 clients, built from the SDK's standard configuration (credential chain, profiles,
 * AWS_REGION, AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE>) plus Firebreak's options.
 *
 * The same clients serve real AWS and the simulated cloud: the only difference is one extra
 * middleware (`extraMiddleware`) that answers requests in place of the network.
 * Each client is created on first use, so commands that touch one service pay for one.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { STSClient } from '@aws-sdk/client-sts';
import { IAMClient } from '@aws-sdk/client-iam';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DLMClient } from '@aws-sdk/client-dlm';
import { SupportClient } from '@aws-sdk/client-support';
import { SNSClient } from '@aws-sdk/client-sns';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, Pluggable } from '@smithy/types';

export interface AwsClients {
  readonly ec2: EC2Client;
  readonly sts: STSClient;
  readonly iam: IAMClient;
  readonly autoscaling: AutoScalingClient;
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly dlm: DLMClient;
  /** The AWS Support API has one endpoint, in us-east-1, whatever the run's region. */
  readonly support: SupportClient;
  readonly sns: SNSClient;
  /** The region the clients were built for (resolved lazily by the SDK when not given). */
  readonly region: string | undefined;
}

export type ServiceName = 'ec2' | 'sts' | 'iam' | 'autoscaling' | 'elbv2' | 'dlm' | 'support' | 'sns';

/** IAM action prefix of each SDK client, by the client's `clientName`. */
export const IAM_PREFIX: Record<string, string> = {
  EC2Client: 'ec2',
  STSClient: 'sts',
  IAMClient: 'iam',
  AutoScalingClient: 'autoscaling',
  ElasticLoadBalancingV2Client: 'elasticloadbalancing',
  DLMClient: 'dlm',
  SupportClient: 'support',
  SNSClient: 'sns',
};

/** `ec2:DescribeInstances` from the SDK middleware context's clientName and commandName. */
export function iamActionOf(clientName: string, commandName: string): string {
  const prefix = IAM_PREFIX[clientName] ?? clientName.replace(/Client$/, '').toLowerCase();
  return `${prefix}:${commandName.replace(/Command$/, '')}`;
}

export interface CloudOptions {
  region?: string;
  profile?: string;
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Appended to the user agent so CloudTrail can tell runs apart: `firebreak/<ver> run/<id>`. */
  userAgent?: string;
  /** SDK retry settings; adaptive mode adds client-side rate limiting on throttling. */
  retryMode?: 'standard' | 'adaptive';
  maxAttempts?: number;
  /** Middleware added to every client (audit journal, permission check, simulated cloud). */
  plugins?: Pluggable<any, any>[];
}

export function createClients(opts: CloudOptions = {}): AwsClients {
  const cache = new Map<string, unknown>();
  const base = () => ({
    ...(opts.region ? { region: opts.region } : {}),
    ...(opts.profile ? { profile: opts.profile } : {}),
    ...(opts.credentials ? { credentials: opts.credentials } : {}),
    ...(opts.userAgent ? { customUserAgent: opts.userAgent } : {}),
    retryMode: opts.retryMode ?? 'adaptive',
    maxAttempts: opts.maxAttempts ?? 5,
  });
  function make<T extends { middlewareStack: { use(p: Pluggable<any, any>): void } }>(key: string, ctor: () => T): T {
    let c = cache.get(key) as T | undefined;
    if (!c) {
      c = ctor();
      for (const p of opts.plugins ?? []) c.middlewareStack.use(p);
      cache.set(key, c);
    }
    return c;
  }
  return {
    get ec2() { return make('ec2', () => new EC2Client(base())); },
    get sts() { return make('sts', () => new STSClient(base())); },
    get iam() { return make('iam', () => new IAMClient(base())); },
    get autoscaling() { return make('autoscaling', () => new AutoScalingClient(base())); },
    get elbv2() { return make('elbv2', () => new ElasticLoadBalancingV2Client(base())); },
    get dlm() { return make('dlm', () => new DLMClient(base())); },
    get support() { return make('support', () => new SupportClient({ ...base(), region: 'us-east-1' })); },
    get sns() { return make('sns', () => new SNSClient(base())); },
    get region() { return opts.region; },
  };
}
