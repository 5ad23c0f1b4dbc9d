/**
 * How one AWS service is simulated. Each service (src/sim/services/<svc>/: schema.ts, handlers, index.ts) owns one
 * slice of the world (its zod schema, with defaults so world files stay short) and the handlers
 * for the commands Firebreak sends, keyed by operation name (the SDK command name without
 * "Command").
 *
 * Handlers receive the SDK's own command input (the same object the SDK serialized) and return
 * the same output shape the SDK would deserialize. Errors are thrown with `ctx.fail(code, …)`,
 * which builds the client's own ServiceException subclass (name = AWS error code, $fault,
 * $metadata.httpStatusCode), so calling code sees exactly what the SDK raises against AWS.
 */
import type { ServiceExceptionOptions } from '@smithy/core/client';
import type * as z from 'zod';
import type { Clock } from '../core/clock.js';
import type { World } from './world.js';

export interface SimCaller {
  arn: string;
  userId: string;
  account: string;
  /** The source identity of a role session (AssumeRole's SourceIdentity): chained sessions keep it. */
  sourceIdentity?: string;
}

export interface SimContext<W = World> {
  /** The whole world (handlers may read and change other services' slices). */
  world: W;
  clock: Clock;
  /** The Region of the client that sent the request. */
  region: string;
  /** The account the request acts in: the account of the credentials that signed it. */
  accountId: string;
  caller: SimCaller;
  requestId: string;
  /** Throw AWS error `code` as this service's exception class. 4xx is a client fault, 5xx a server fault. */
  fail(code: string, message: string, httpStatus?: number): never;
  /** Deterministic id for a new resource: `newId('i')` → `i-0a1b2c3d4e5f60718`. */
  newId(prefix: string, hexLength?: number): string;
  /** Record that the world changed (so it is saved). Handlers of mutating calls call it. */
  changed(): void;
}

/**
 * Each handler declares the input of its own operation and receives the SDK's serialized command
 * input. Declared as a method type so its parameter is bivariant: a `Record` of handlers of
 * different inputs type-checks without `any`.
 */
export type SimHandler = { handle(ctx: SimContext, input: unknown): unknown | Promise<unknown> }['handle'];

export interface SimService<S = unknown> {
  /** The SDK client's `clientName`, e.g. 'EC2Client'. */
  clientName: string;
  /** The world key of this service's slice, e.g. 'ec2'. */
  key: string;
  /**
   * Where AWS keeps this service's resources: 'regional' (one slice per account and Region: EC2,
   * Auto Scaling, ELB, DLM, SNS), 'account' (one slice per account, whatever Region the client is
   * for: IAM, S3's bucket list, Support cases), or 'none' (STS keeps no state of its own).
   */
  scope: 'regional' | 'account' | 'none';
  /** zod schema of the slice (each field with a default, so a world file may omit the slice). */
  schema: z.ZodType<S>;
  handlers: Record<string, SimHandler>;
  /** The client's ServiceException class (from the SDK package), used by `fail`. */
  exception: new (
    opts: ServiceExceptionOptions,
  ) => Error;
}
