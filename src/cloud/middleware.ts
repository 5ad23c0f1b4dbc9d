/**
 * Middleware added to every SDK client Firebreak builds:
 *  - `permissionGuard`: refuses a command the running action did not declare in `permissions`,
 *    before it is sent. Least privilege is enforced, not just documented.
 *  - `auditRecorder`: reports every AWS call (service, operation, redacted input, request id,
 *    HTTP status, duration, attempts, error code) so the engine can journal it.
 * Both sit at the `initialize` step, outside the SDK's retry loop: one record per logical call,
 * with the number of attempts the SDK made.
 */
import { currentCallContext } from './call-context.js';
import { iamActionOf } from './clients.js';
import type { ClientPlugin } from './sdk.js';

export interface AwsCallRecord {
  step?: string;
  service: string; // IAM prefix, e.g. "ec2"
  operation: string; // e.g. "ModifyNetworkInterfaceAttribute"
  input: unknown;
  requestId?: string;
  status?: number;
  durationMs: number;
  attempts?: number;
  error?: { code: string; message: string };
  /** The Region the request was signed for (absent when it failed before signing). */
  region?: string;
}

/** The signing Region the SDK chose for this call (set by its auth-scheme middleware, which runs inside ours). */
function signingRegion(context: object): string | undefined {
  const smithy = (
    context as { __smithy_context?: { selectedHttpAuthScheme?: { httpAuthOption?: { signingProperties?: { region?: unknown } } } } }
  ).__smithy_context;
  const region = smithy?.selectedHttpAuthScheme?.httpAuthOption?.signingProperties?.region;
  return typeof region === 'string' ? region : undefined;
}

export class UndeclaredPermission extends Error {
  constructor(
    readonly action: string,
    readonly permission: string,
  ) {
    super(`action ${action} sent ${permission}, which its declared permissions do not cover`);
    this.name = 'UndeclaredPermission';
  }
}

export function permissionGuard(): ClientPlugin {
  return {
    applyToStack(stack) {
      stack.add(
        (next, context) => async (args) => {
          const call = currentCallContext();
          if (call?.permissions) {
            const perm = iamActionOf(String(context.clientName), String(context.commandName));
            if (!call.permissions.has(perm)) throw new UndeclaredPermission(call.action, perm);
          }
          return next(args);
        },
        { step: 'initialize', priority: 'high', name: 'firebreakPermissionGuard' },
      );
    },
  };
}

export function auditRecorder(record: (call: AwsCallRecord) => void, now: () => number = () => performance.now()): ClientPlugin {
  return {
    applyToStack(stack) {
      stack.add(
        (next, context) => async (args) => {
          const started = now();
          const [service, operation] = iamActionOf(String(context.clientName), String(context.commandName)).split(':') as [string, string];
          const base = { step: currentCallContext()?.step, service, operation, input: args.input };
          try {
            const res = await next(args);
            const meta = (res.output as { $metadata?: { requestId?: string; httpStatusCode?: number; attempts?: number } }).$metadata ?? {};
            const region = signingRegion(context);
            record({
              ...base,
              ...(region ? { region } : {}),
              requestId: meta.requestId,
              status: meta.httpStatusCode,
              attempts: meta.attempts,
              durationMs: Math.round(now() - started),
            });
            return res;
          } catch (err) {
            const e = err as {
              name?: string;
              message?: string;
              $metadata?: { requestId?: string; httpStatusCode?: number; attempts?: number };
            };
            const region = signingRegion(context);
            record({
              ...base,
              ...(region ? { region } : {}),
              requestId: e.$metadata?.requestId,
              status: e.$metadata?.httpStatusCode,
              attempts: e.$metadata?.attempts,
              durationMs: Math.round(now() - started),
              error: { code: e.name ?? 'Error', message: e.message ?? String(err) },
            });
            throw err;
          }
        },
        { step: 'initialize', priority: 'high', name: 'firebreakAudit' },
      );
    },
  };
}
