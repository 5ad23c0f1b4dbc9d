/**
 * AWS SDK v3 clients, built from the SDK's standard configuration (credential chain, profiles,
 * AWS_REGION, AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE>) plus Firebreak's options.
 *
 * The same clients serve real AWS and the simulated cloud: the only difference is one extra
 * middleware (`extraMiddleware`) that answers requests in place of the network.
 * Each client is created on first use, so commands that touch one service pay for one.
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { STSClient } from '@aws-sdk/client-sts';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { DLMClient } from '@aws-sdk/client-dlm';
import type { SupportClient } from '@aws-sdk/client-support';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { OrganizationsClient } from '@aws-sdk/client-organizations';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { Clock } from '../core/clock.js';
import { endpointErrors } from './endpoint-errors.js';
import { clockedRetryStrategy } from './retry.js';
import { AutoScaling, type ClientPlugin, CredentialProviders, DLM, EC2, ELBv2, IAM, Organizations, SNS, STS, Support } from './sdk.js';

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
  /**
   * AWS Organizations (global, answered in us-east-1), signed with the credentials the clients
   * start from — never the assumed responder role: a member account may not read the organization.
   */
  readonly organizations: OrganizationsClient;
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
  OrganizationsClient: 'organizations',
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
  /**
   * The run's clock when it is not the system's (a tabletop, a test): the SDK's retry backoff
   * is slept on it, with `random` for the jitter (retry.ts). Absent: adaptive mode, real time.
   */
  clock?: Clock;
  random?: () => number;
  /** Middleware added to every client (audit journal, permission check, simulated cloud). */
  plugins?: ClientPlugin[];
  /** Act through this role (cross-account response): every client signs with its STS AssumeRole credentials. */
  assumeRole?: AssumeRoleOptions;
  /** An endpoint for every client (default: the SDK's own chain, AWS_ENDPOINT_URL included). */
  endpoint?: string;
}

export interface AssumeRoleOptions {
  roleArn: string;
  externalId?: string;
  /** Shows in the role's CloudTrail events as the session name: `firebreak-<run-id>`. */
  sessionName: string;
  /**
   * Who started the run (a person, or `route-<name>` for an alert's route): AWS keeps it on the
   * session and every session chained from it, so CloudTrail names the origin. Needs
   * sts:SetSourceIdentity in the role's trust policy.
   */
  sourceIdentity?: string;
  /** The MFA device the role's trust policy requires, and how to ask for its current code. */
  mfaSerial?: string;
  mfaCode?: (serial: string) => Promise<string>;
  /**
   * Middleware for the STS client that calls AssumeRole (audit journal, simulated cloud). Not the
   * permission guard: the role is assumed on behalf of the run, not of the step that first needs it.
   */
  plugins?: ClientPlugin[];
}

/** A plugin applied once per middleware stack: the SDK's provider re-applies its plugins on every refresh. */
function once(plugin: ClientPlugin): ClientPlugin {
  const applied = new WeakSet<object>();
  return {
    applyToStack(stack) {
      if (applied.has(stack)) return;
      applied.add(stack);
      plugin.applyToStack(stack);
    },
  };
}

/**
 * AssumeRole credentials from the SDK's own provider, with the source credentials the options
 * name (`--profile`, or the simulated cloud's), shared by every client so the role is assumed once
 * per session rather than once per service client.
 */
function assumedRoleCredentials(opts: CloudOptions, role: AssumeRoleOptions): AwsCredentialIdentityProvider {
  const source = opts.credentials ?? (opts.profile ? CredentialProviders.fromIni({ profile: opts.profile }) : undefined);
  const provider = CredentialProviders.fromTemporaryCredentials({
    params: {
      RoleArn: role.roleArn,
      RoleSessionName: role.sessionName,
      ...(role.externalId ? { ExternalId: role.externalId } : {}),
      ...(role.sourceIdentity ? { SourceIdentity: role.sourceIdentity } : {}),
      ...(role.mfaSerial ? { SerialNumber: role.mfaSerial } : {}),
    },
    ...(source ? { masterCredentials: source } : {}),
    clientConfig: { ...(opts.region ? { region: opts.region } : {}), ...(opts.profile ? { profile: opts.profile } : {}) },
    ...(role.plugins?.length ? { clientPlugins: role.plugins.map(once) } : {}),
    ...(role.mfaCode ? { mfaCodeProvider: role.mfaCode } : {}),
  });
  let current: Promise<AwsCredentialIdentity> | undefined;
  // Renewed five minutes before expiry, as the SDK renews its own cached credentials; judged on the
  // run's clock when it has one (a tabletop's simulated STS sets Expiration by that clock).
  const now = () => (opts.clock ? opts.clock.now().getTime() : Date.now());
  const fresh = (c: AwsCredentialIdentity) => !c.expiration || c.expiration.getTime() - now() > 5 * 60_000;
  return async (props) => {
    const held = current ? await current.catch(() => undefined) : undefined;
    if (held && fresh(held)) return held;
    current = provider(props);
    return current;
  };
}

export function createClients(opts: CloudOptions = {}): AwsClients {
  const cache = new Map<string, unknown>();
  const credentials = opts.assumeRole ? assumedRoleCredentials(opts, opts.assumeRole) : opts.credentials;
  const base = () => ({
    ...(opts.region ? { region: opts.region } : {}),
    ...(opts.profile ? { profile: opts.profile } : {}),
    ...(credentials ? { credentials } : {}),
    ...(opts.userAgent ? { customUserAgent: opts.userAgent } : {}),
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    maxAttempts: opts.maxAttempts ?? 5,
    ...(opts.clock
      ? {
          retryStrategy: clockedRetryStrategy({
            clock: opts.clock,
            maxAttempts: opts.maxAttempts ?? 5,
            ...(opts.random ? { random: opts.random } : {}),
          }),
        }
      : { retryMode: opts.retryMode ?? 'adaptive' }),
  });
  function make<T extends { middlewareStack: { use(p: ClientPlugin): void } }>(key: string, ctor: () => T): T {
    let c = cache.get(key) as T | undefined;
    if (!c) {
      c = ctor();
      c.middlewareStack.use(endpointErrors());
      for (const p of opts.plugins ?? []) c.middlewareStack.use(p);
      cache.set(key, c);
    }
    return c;
  }
  return {
    get ec2() {
      return make('ec2', () => new EC2.EC2Client(base()));
    },
    get sts() {
      return make('sts', () => new STS.STSClient(base()));
    },
    get iam() {
      return make('iam', () => new IAM.IAMClient(base()));
    },
    get autoscaling() {
      return make('autoscaling', () => new AutoScaling.AutoScalingClient(base()));
    },
    get elbv2() {
      return make('elbv2', () => new ELBv2.ElasticLoadBalancingV2Client(base()));
    },
    get dlm() {
      return make('dlm', () => new DLM.DLMClient(base()));
    },
    get support() {
      return make('support', () => new Support.SupportClient({ ...base(), region: 'us-east-1' }));
    },
    get sns() {
      return make('sns', () => new SNS.SNSClient(base()));
    },
    get organizations() {
      return make('organizations', () => {
        const { credentials: _role, ...own } = base();
        return new Organizations.OrganizationsClient({
          ...own,
          ...(opts.credentials ? { credentials: opts.credentials } : {}),
          region: 'us-east-1',
        });
      });
    },
    get region() {
      return opts.region;
    },
  };
}
