/**
 * The AWS SDK modules whose command classes actions send, as live bindings.
 *
 * Describing an action (its id, input schema, permissions, undo, manual fallback) must not load
 * the SDK: `validate`, `docs`, `list`, `show` and `iam-policy` read every action and call no AWS,
 * and `@aws-sdk/client-ec2` alone takes about 0.7 s to load. So actions write
 * `new EC2.DescribeInstancesCommand(…)` against these bindings, and `cloud/clients.ts` — which
 * every code path that sends a command has loaded, since it makes the clients — provides the
 * modules when it loads. Until then each binding throws a clear error on use.
 */
import type * as EC2Module from '@aws-sdk/client-ec2';
import type * as IAMModule from '@aws-sdk/client-iam';
import type * as STSModule from '@aws-sdk/client-sts';
import type * as AutoScalingModule from '@aws-sdk/client-auto-scaling';
import type * as ELBv2Module from '@aws-sdk/client-elastic-load-balancing-v2';
import type * as DLMModule from '@aws-sdk/client-dlm';
import type * as SupportModule from '@aws-sdk/client-support';
import { FirebreakError } from '../core/errors.js';

export interface SdkModules {
  EC2: typeof EC2Module;
  IAM: typeof IAMModule;
  STS: typeof STSModule;
  AutoScaling: typeof AutoScalingModule;
  ELBv2: typeof ELBv2Module;
  DLM: typeof DLMModule;
  Support: typeof SupportModule;
}

function notLoaded<T>(name: keyof SdkModules): T {
  return new Proxy({}, {
    get(_target, property) {
      throw new FirebreakError(`AWS SDK module ${name} used (${String(property)}) before the cloud clients were loaded; import cloud/clients.ts first`);
    },
  }) as T;
}

export let EC2: typeof EC2Module = notLoaded('EC2');
export let IAM: typeof IAMModule = notLoaded('IAM');
export let STS: typeof STSModule = notLoaded('STS');
export let AutoScaling: typeof AutoScalingModule = notLoaded('AutoScaling');
export let ELBv2: typeof ELBv2Module = notLoaded('ELBv2');
export let DLM: typeof DLMModule = notLoaded('DLM');
export let Support: typeof SupportModule = notLoaded('Support');

/** Called once by cloud/clients.ts with the modules it has loaded. */
export function provideSdk(m: SdkModules): void {
  ({ EC2, IAM, STS, AutoScaling, ELBv2, DLM, Support } = m);
}
