/**
 * The AWS SDK's packages, each loaded on its first use.
 *
 * Describing an action (its id, input schema, permissions, undo, manual fallback) must not load
 * the SDK: `validate`, `docs`, `list`, `show` and `iam-policy` read every action and call no AWS.
 * And a run loads only the services it calls. So every value Firebreak takes from the SDK — the
 * clients, the commands actions send, the exceptions the simulated cloud raises — is reached
 * through these objects (`new EC2.DescribeInstancesCommand(…)`); types are imported as types.
 *
 * They are loaded with `require`. The SDK's packages are CommonJS (`main` is `dist-cjs`) and Node
 * serves them from the same CommonJS module cache whether they are required or imported, so the
 * classes are the very ones `import` gives (tests and `instanceof` agree). Imported from an ES
 * module, though, a CommonJS package is first scanned for its export names — 2 MB of source for
 * client-ec2 — which costs 0.25 s for client-ec2 and 0.35 s for the eight packages Firebreak uses
 * (Node 20, measured with `node -e` against `node --input-type=module -e "await import(…)"`).
 */
import { createRequire } from 'node:module';
import type * as EC2Module from '@aws-sdk/client-ec2';
import type * as IAMModule from '@aws-sdk/client-iam';
import type * as STSModule from '@aws-sdk/client-sts';
import type * as AutoScalingModule from '@aws-sdk/client-auto-scaling';
import type * as ELBv2Module from '@aws-sdk/client-elastic-load-balancing-v2';
import type * as DLMModule from '@aws-sdk/client-dlm';
import type * as SupportModule from '@aws-sdk/client-support';
import type * as SNSModule from '@aws-sdk/client-sns';
import type * as CredentialProvidersModule from '@aws-sdk/credential-providers';
import type * as SmithyRetryModule from '@smithy/core/retry';
import type * as DynamoDBModule from '@aws-sdk/client-dynamodb';
import type * as DynamoDBLibModule from '@aws-sdk/lib-dynamodb';
import type * as S3Module from '@aws-sdk/client-s3';
import type * as SFNModule from '@aws-sdk/client-sfn';
import type * as OrganizationsModule from '@aws-sdk/client-organizations';
import type { MiddlewareStack } from '@smithy/types';

/**
 * Middleware for every client (audit journal, permission guard, simulated cloud): generic in the
 * command's input and output, which it passes through or answers in the command's own shape, so
 * one plugin fits the EC2 client's stack and the STS client's alike.
 */
export interface ClientPlugin {
  applyToStack<I extends object, O extends object>(stack: MiddlewareStack<I, O>): void;
}

const require = createRequire(import.meta.url);

/** A module's exports, required on the first property read. */
function onFirstUse<T extends object>(id: string): T {
  let loaded: T | undefined;
  const load = (): T => (loaded ??= require(id) as T);
  return new Proxy({} as T, {
    get: (_target, property) => Reflect.get(load(), property),
    has: (_target, property) => Reflect.has(load(), property),
    ownKeys: () => Reflect.ownKeys(load()),
    getOwnPropertyDescriptor: (_target, property) => {
      const d = Reflect.getOwnPropertyDescriptor(load(), property);
      return d && { ...d, configurable: true };
    },
  });
}

export const EC2 = onFirstUse<typeof EC2Module>('@aws-sdk/client-ec2');
export const IAM = onFirstUse<typeof IAMModule>('@aws-sdk/client-iam');
export const STS = onFirstUse<typeof STSModule>('@aws-sdk/client-sts');
export const AutoScaling = onFirstUse<typeof AutoScalingModule>('@aws-sdk/client-auto-scaling');
export const ELBv2 = onFirstUse<typeof ELBv2Module>('@aws-sdk/client-elastic-load-balancing-v2');
export const DLM = onFirstUse<typeof DLMModule>('@aws-sdk/client-dlm');
export const Support = onFirstUse<typeof SupportModule>('@aws-sdk/client-support');
export const SNS = onFirstUse<typeof SNSModule>('@aws-sdk/client-sns');
export const CredentialProviders = onFirstUse<typeof CredentialProvidersModule>('@aws-sdk/credential-providers');
export const SmithyRetry = onFirstUse<typeof SmithyRetryModule>('@smithy/core/retry');
export const DynamoDB = onFirstUse<typeof DynamoDBModule>('@aws-sdk/client-dynamodb');
export const DynamoDBLib = onFirstUse<typeof DynamoDBLibModule>('@aws-sdk/lib-dynamodb');
export const S3 = onFirstUse<typeof S3Module>('@aws-sdk/client-s3');
export const SFN = onFirstUse<typeof SFNModule>('@aws-sdk/client-sfn');
export const Organizations = onFirstUse<typeof OrganizationsModule>('@aws-sdk/client-organizations');
