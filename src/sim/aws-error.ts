/**
 * AWS errors as the SDK itself raises them. The simulated cloud answers before the SDK's
 * deserializer runs, so it builds the exception the deserializer would have built from AWS's
 * error response: the modeled exception class when the SDK has one for the code (IAM's
 * `NoSuchEntity` becomes `NoSuchEntityException`, exactly as against AWS), otherwise the
 * client's ServiceException with `name` = the AWS error code, plus the `Code`/`Type`/`Error`
 * fields the query protocols add.
 */
import type { ServiceExceptionOptions } from '@smithy/core/client';
import type { ResponseMetadata } from '@smithy/types';
import {
  AutoScaling as autoscalingSdk,
  DLM as dlmSdk,
  EC2 as ec2Sdk,
  ELBv2 as elbv2Sdk,
  IAM as iamSdk,
  SFN as sfnSdk,
  SNS as snsSdk,
  STS as stsSdk,
  Support as supportSdk,
  Organizations as organizationsSdk,
} from '../cloud/sdk.js';

type Protocol = 'ec2' | 'query' | 'json';

interface ClientFacts {
  sdk: Record<string, unknown>;
  protocol: Protocol;
  /** The code this service uses when the caller lacks permission. */
  accessDenied: [code: string, status: number];
  /** The code this service uses when it throttles the caller. */
  throttling: [code: string, status: number];
}

const CLIENTS: Record<string, ClientFacts> = {
  // EC2 says UnauthorizedOperation (403) and throttles with RequestLimitExceeded (503).
  EC2Client: { sdk: ec2Sdk, protocol: 'ec2', accessDenied: ['UnauthorizedOperation', 403], throttling: ['RequestLimitExceeded', 503] },
  STSClient: { sdk: stsSdk, protocol: 'query', accessDenied: ['AccessDenied', 403], throttling: ['Throttling', 400] },
  IAMClient: { sdk: iamSdk, protocol: 'query', accessDenied: ['AccessDenied', 403], throttling: ['Throttling', 400] },
  AutoScalingClient: { sdk: autoscalingSdk, protocol: 'query', accessDenied: ['AccessDenied', 403], throttling: ['Throttling', 400] },
  ElasticLoadBalancingV2Client: { sdk: elbv2Sdk, protocol: 'query', accessDenied: ['AccessDenied', 403], throttling: ['Throttling', 400] },
  SNSClient: { sdk: snsSdk, protocol: 'query', accessDenied: ['AuthorizationError', 403], throttling: ['Throttled', 429] },
  SFNClient: { sdk: sfnSdk, protocol: 'json', accessDenied: ['AccessDeniedException', 400], throttling: ['ThrottlingException', 400] },
  DLMClient: { sdk: dlmSdk, protocol: 'json', accessDenied: ['AccessDeniedException', 403], throttling: ['ThrottlingException', 400] },
  // Organizations answers every error, access denied and throttling included, with HTTP 400.
  OrganizationsClient: {
    sdk: organizationsSdk,
    protocol: 'json',
    accessDenied: ['AccessDeniedException', 400],
    throttling: ['TooManyRequestsException', 400],
  },
  SupportClient: {
    sdk: supportSdk,
    protocol: 'json',
    accessDenied: ['AccessDeniedException', 403],
    throttling: ['ThrottlingException', 400],
  },
};

const ACCESS_DENIED_ALIASES = new Set(['AccessDenied', 'UnauthorizedOperation', 'AccessDeniedException', 'AuthorizationError']);
const THROTTLING_ALIASES = new Set(['Throttling', 'ThrottlingException', 'Throttled', 'RequestLimitExceeded']);

/** Statuses AWS answers with for common codes, when the caller does not name one. */
const DEFAULT_STATUS: Record<string, number> = {
  InternalError: 500,
  InternalFailure: 500,
  ServiceFailure: 500,
  InternalServerException: 500,
  ServiceUnavailable: 503,
  Unavailable: 503,
  RequestLimitExceeded: 503,
  DryRunOperation: 412,
};

/**
 * The code and status a generic fault name takes on a given service: `AccessDenied` is
 * `UnauthorizedOperation` on EC2, `Throttling` is `RequestLimitExceeded` there, and so on.
 * Any other code is kept as written.
 */
export function serviceErrorCode(clientName: string, code: string, status?: number): { code: string; status: number } {
  const facts = CLIENTS[clientName];
  if (facts && ACCESS_DENIED_ALIASES.has(code)) return { code: facts.accessDenied[0], status: status ?? facts.accessDenied[1] };
  if (facts && THROTTLING_ALIASES.has(code)) return { code: facts.throttling[0], status: status ?? facts.throttling[1] };
  return { code, status: status ?? DEFAULT_STATUS[code] ?? 400 };
}

/** A modeled exception class: its own fields beside these are optional (`ExceptionOptionType` in @smithy/core). */
type ErrorCtor = new (opts: { message: string; $metadata: ResponseMetadata }) => Error;
interface Modeled {
  ctor: ErrorCtor;
  code: string;
}
const modeledCache = new Map<string, Map<string, Modeled>>();

/** The SDK's modeled exception classes of one client, by AWS error code and by class name. */
function modeledErrors(clientName: string): Map<string, Modeled> {
  let found = modeledCache.get(clientName);
  if (found) return found;
  found = new Map();
  const sdk = CLIENTS[clientName]?.sdk ?? {};
  for (const [key, value] of Object.entries(sdk)) {
    // Error schemas are exported beside their classes as `<Name>$ = [-3, namespace, name, traits, …]`.
    if (!key.endsWith('$') || !Array.isArray(value) || value[0] !== -3) continue;
    const name = value[2] as string;
    const traits = value[3] as { awsQueryError?: [string, number] } | 0;
    const ctor = sdk[name];
    if (typeof ctor !== 'function' || !traits) continue;
    const entry = { ctor: ctor as ErrorCtor, code: traits.awsQueryError?.[0] ?? name };
    found.set(name, entry);
    found.set(entry.code, entry);
  }
  modeledCache.set(clientName, found);
  return found;
}

export interface BuildErrorArgs {
  clientName: string;
  /** The client's ServiceException class: used when the code has no modeled class. */
  exception: new (
    opts: ServiceExceptionOptions,
  ) => Error;
  code: string;
  message: string;
  status: number;
  requestId: string;
}

/** The exception the SDK would raise for AWS error `code`. */
export function buildAwsError(a: BuildErrorArgs): Error {
  const $fault = a.status >= 500 ? 'server' : 'client';
  const $metadata = { httpStatusCode: a.status, requestId: a.requestId };
  const modeled = modeledErrors(a.clientName).get(a.code);
  const code = modeled?.code ?? a.code;
  const err = modeled
    ? new modeled.ctor({ message: a.message, $metadata })
    : new a.exception({ name: a.code, $fault, $metadata, message: a.message });
  // Set explicitly: modeled classes fix their own name, and Error's constructor may not keep `message`.
  Object.assign(err, { $fault, $metadata, message: a.message });
  if (!modeled) err.name = a.code;
  const protocol = CLIENTS[a.clientName]?.protocol;
  if (protocol === 'ec2') {
    Object.assign(err, { Code: code, Error: { Code: code, Message: a.message } });
  } else if (protocol === 'query') {
    const Type = $fault === 'server' ? 'Receiver' : 'Sender';
    Object.assign(err, { Type, Code: code, Error: { Type, Code: code, Message: a.message } });
  }
  return err;
}
