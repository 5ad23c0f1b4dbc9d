/**
 * The simulated cloud: a world answered to the real AWS SDK v3 clients from inside their
 * middleware stack. The one middleware sits at the `deserialize` step, so everything before it
 * (validation, serialization, signing, the SDK's retry strategy) runs exactly as against AWS;
 * only the network and the response parsing are replaced.
 */
import { createHash } from 'node:crypto';
import type { AwsCredentialIdentity, MiddlewareStack } from '@smithy/types';
import type { ClientPlugin } from '../cloud/sdk.js';
import { SimClock, type Clock } from '../core/clock.js';
import type { SimContext, SimService } from './service.js';
import { services } from './services/index.js';
import type { World } from './world.js';
import { FaultInjector, type Fault, type FaultHandle } from './faults.js';
import { RateLimiter } from './ratelimit.js';
import { buildAwsError, serviceErrorCode } from './aws-error.js';
import { sequenceId } from './ids.js';
import { isConnectionOpen, openConnection, type OpenConnectionSpec } from './connections.js';
import type { ConnectionT } from './services/ec2/schema.js';
import { identify, recordKeyUse } from './identity.js';
import { ChangeLog, type Change, type ChangeEffect } from './change-log.js';
import { accountWorld, regionsOf, scopedWorld, type Scope } from './scopes.js';

/** One command the simulated cloud answered (or refused). */
export interface SimCall {
  seq: number;
  /** The service's world key, e.g. 'ec2'. */
  service: string;
  operation: string;
  /** The IAM action the call needs, e.g. 'ec2:DescribeInstances' (for least-privilege checks). */
  action: string;
  /** The account that answered: the account of the credentials that signed the request. */
  account: string;
  /** The Region of the client that sent it. */
  region: string;
  input: unknown;
  /** The AWS error code, when the call failed with one. */
  error?: string;
  dryRun: boolean;
  requestId: string;
  /** Simulated time of the call. */
  at: string;
}

export interface SimCloudOptions {
  /** Default: a SimClock started at `world.time`. */
  clock?: Clock;
  /** Called after every call that changed the world (with `world.time` brought up to date). */
  onChange?: (world: World) => void;
  /** Wall time in ms for rate limits (default performance.now); injectable for tests. */
  wallClock?: () => number;
  /**
   * Keep the world in this JSON file as durably as AWS keeps its state: the file is written now,
   * and every change a call makes is on disk (change-log.ts) before the call answers. `loadWorld`
   * on the same file returns the world with every answered change. Call `close()` when done.
   */
  persistTo?: string;
  /** With `persistTo`: fold the change log into the world file after this many changes (default 1000). */
  compactEvery?: number;
}

export interface SimFaults {
  add(fault: Fault): FaultHandle;
  clear(): void;
  list(): Array<Fault & { id: number; fired: number }>;
}

export interface SimCloud {
  readonly world: World;
  readonly clock: Clock;
  /** The home Region: the Region of `clientOptions`. A client for another Region the world declares is answered there. */
  readonly region: string;
  /** Static fake credentials for the SDK to sign with. */
  readonly credentials: AwsCredentialIdentity;
  /** Add to a client with `client.middlewareStack.use(sim.plugin)`. */
  readonly plugin: ClientPlugin;
  /** The options `createClients` (src/cloud/clients.ts) needs to talk to this cloud. */
  readonly clientOptions: { region: string; credentials: AwsCredentialIdentity; plugins: ClientPlugin[] };
  /**
   * The same for a client of another Region, or signing with other credentials (those AssumeRole
   * returned act in the role's account): the plugin answers every request in the account of the
   * credentials that signed it and the Region the client resolved.
   */
  clientOptionsFor(opts: { region?: string; credentials?: AwsCredentialIdentity }): {
    region: string;
    credentials: AwsCredentialIdentity;
    plugins: ClientPlugin[];
  };
  /** Every command answered, in order. */
  readonly calls: readonly SimCall[];
  readonly faults: SimFaults;
  /** A flow to or from an instance (tabletop inject); see connections.ts. */
  openConnection(spec: OpenConnectionSpec): ConnectionT;
  isConnectionOpen(id: string): boolean;
  /** With `persistTo`: write the whole world to its file and empty the change log. Call when no call is running. */
  close(): Promise<void>;
}

/**
 * AWS's documentation example keys: obviously fake, and accepted by the SDK's signer.
 * A fresh object for each use: the SDK records where credentials came from on the object itself.
 */
const RESPONDER_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
const fakeCredentials = (): AwsCredentialIdentity => ({
  accessKeyId: RESPONDER_KEY_ID,
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
});

const IAM_PREFIX: Record<string, string> = {
  EC2Client: 'ec2',
  STSClient: 'sts',
  IAMClient: 'iam',
  AutoScalingClient: 'autoscaling',
  ElasticLoadBalancingV2Client: 'elasticloadbalancing',
  DLMClient: 'dlm',
  SupportClient: 'support',
  SNSClient: 'sns',
  SFNClient: 'states',
};

function requestIdFor(accountId: string, seq: number): string {
  const h = createHash('sha256').update(`request/${accountId}/${seq}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Access key id and Region from a SigV4 Authorization header (`Credential=AKID/date/region/service/aws4_request`). */
function signedScope(request: unknown): { accessKeyId?: string; region?: string } {
  const headers = (request as { headers?: Record<string, string> } | undefined)?.headers ?? {};
  const auth = headers.authorization ?? headers.Authorization ?? '';
  const m = /Credential=([^/]+)\/\d{8}\/([^/]+)\//.exec(auth);
  return m ? { accessKeyId: m[1], region: m[2] } : {};
}

/** A command the simulation has no handler for: a gap in the simulator, never an AWS answer. */
export class NotImplemented extends Error {
  constructor(readonly action: string) {
    super(`the simulated cloud does not implement ${action}`);
    this.name = 'NotImplemented';
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function createSimCloud(world: World, opts: SimCloudOptions = {}): SimCloud {
  const clock = opts.clock ?? new SimClock(world.time);
  const byClient = new Map<string, SimService>(services.map((s) => [s.clientName, s]));
  const injector = new FaultInjector(world.faults);
  const limiter = world.rateLimits ? new RateLimiter(world.rateLimits, opts.wallClock) : undefined;
  const calls: SimCall[] = [];
  let seq = 0;

  const log = opts.persistTo ? new ChangeLog(opts.persistTo, worldText(world)) : undefined;
  const compactEvery = opts.compactEvery ?? 1000;
  // Persisted, calls change the world one at a time, so the log's order is the order changes were made in.
  const exclusive = log ? serializer() : <T>(fn: () => Promise<T>) => fn();
  let running = 0;
  let unsynced: Promise<void>[] = [];
  const record = (change: ChangeEffect) => {
    if (!log) return;
    const p = log.append({ ...change, time: world.time, idCounter: world.idCounter });
    p.catch(() => {}); // awaited by the call that made the change (or the next one): see `durable`
    unsynced.push(p);
  };
  const durable = async () => {
    const waiting = unsynced;
    unsynced = [];
    await Promise.all(waiting);
    if (log && running === 0 && unsynced.length === 0 && log.entries >= compactEvery && log.idle) log.compact(worldText(world));
  };

  const notifyChange = () => {
    world.time = clock.now().toISOString();
    opts.onChange?.(world);
  };

  const answer = async (clientName: string, commandName: string, input: unknown, request: unknown) => {
    const service = byClient.get(clientName);
    const operation = commandName.replace(/Command$/, '');
    const prefix = IAM_PREFIX[clientName] ?? clientName.replace(/Client$/, '').toLowerCase();
    if (!service) throw new NotImplemented(`${prefix}:${operation}`);
    const scope = signedScope(request);
    // The signing Region is the client's resolved Region (IAM, a global service, always signs for us-east-1).
    const region = scope.region ?? world.region;

    seq += 1;
    const requestId = requestIdFor(world.account.id, seq);
    const dryRun = (input as { DryRun?: unknown } | undefined)?.DryRun === true;
    const call: SimCall = {
      seq,
      service: service.key,
      operation,
      action: `${prefix}:${operation}`,
      account: world.account.id,
      region,
      input: structuredClone(input),
      dryRun,
      requestId,
      at: clock.now().toISOString(),
    };
    calls.push(call);

    const fail = (code: string, message: string, httpStatus?: number): never => {
      const e = serviceErrorCode(clientName, code, httpStatus);
      throw buildAwsError({ clientName, exception: service.exception, code: e.code, message, status: e.status, requestId });
    };

    let changed = false;
    const ctx: SimContext<World> = {
      world,
      clock,
      region,
      accountId: world.account.id,
      caller: { arn: world.caller.arn, userId: world.caller.userId, account: world.account.id },
      requestId,
      fail,
      newId: (p: string, hexLength?: number) => {
        world.idCounter += 1;
        return sequenceId(world.account.id, p, world.idCounter, hexLength);
      },
      changed: () => {
        changed = true;
      },
    };

    running += 1;
    try {
      try {
        await exclusive(() =>
          authenticate(ctx, clientName, prefix, operation, scope.accessKeyId, (key) => {
            changed = true;
            notifyChange();
            record({ kind: 'key-use', key, service: prefix, at: ctx.clock.now().toISOString(), account: ctx.caller.account, region });
          }),
        );
        call.account = ctx.accountId;
        ctx.world = answeringWorld(world, { account: ctx.accountId, region }, service, clientName);
        const hit = injector.check([prefix, service.key], operation);
        const delay = (world.latencyMs ?? 0) + hit.latencyMs;
        if (delay > 0) await sleep(delay);
        if (limiter && clientName === 'EC2Client' && !limiter.allow(`${ctx.accountId}/${region}`, operation)) {
          fail('RequestLimitExceeded', 'Request limit exceeded.', 503);
        }
        if (hit.error) {
          const e = serviceErrorCode(clientName, hit.error.code, hit.error.status);
          fail(e.code, hit.error.message ?? defaultFaultMessage(e.code, prefix, operation, ctx.caller.arn), e.status);
        }
        const handler = service.handlers[operation];
        if (!handler) throw new NotImplemented(`${prefix}:${operation}`);
        const result = await exclusive(async () => {
          const handlerAt = clock.now();
          changed = false;
          if (log) ctx.clock = pinnedClock(handlerAt);
          let error: string | undefined;
          try {
            return await handler(ctx, input ?? {});
          } catch (err) {
            error = (err as Error).name;
            throw err;
          } finally {
            if (changed) {
              notifyChange();
              record({
                kind: 'call',
                client: clientName,
                operation,
                input: input ?? {},
                caller: ctx.caller,
                account: ctx.accountId,
                region,
                requestId,
                at: handlerAt.toISOString(),
                ...(error ? { error } : {}),
              });
            }
          }
        });
        const { Body, ...rest } = (result ?? {}) as Record<string, unknown>; // a streamed Body (S3 GetObject) is handed over, not cloned
        return { output: { ...structuredClone(rest), ...(Body === undefined ? {} : { Body }) }, requestId };
      } finally {
        running -= 1;
        await durable();
      }
    } catch (err) {
      call.error = err instanceof NotImplemented ? 'NotImplemented' : (err as Error).name;
      throw err;
    }
  };

  const plugin: ClientPlugin = {
    applyToStack<I extends object, O extends object>(stack: MiddlewareStack<I, O>) {
      stack.add(
        (_next, context) => async (args) => {
          const { output, requestId } = await answer(context.clientName ?? '', context.commandName ?? '', args.input, args.request);
          return {
            // The handler answered in the shape of this command's output (O): the SDK's own types end at the stack.
            output: { ...output, $metadata: { httpStatusCode: 200, requestId } } as O,
            response: { statusCode: 200, headers: {} },
          };
        },
        { step: 'deserialize', priority: 'high', name: 'firebreakSim' },
      );
    },
  };

  return {
    world,
    clock,
    region: world.region,
    get credentials() {
      return fakeCredentials();
    },
    plugin,
    get clientOptions() {
      return { region: world.region, credentials: fakeCredentials(), plugins: [plugin] };
    },
    clientOptionsFor: (o) => ({ region: o.region ?? world.region, credentials: o.credentials ?? fakeCredentials(), plugins: [plugin] }),
    calls,
    faults: {
      add: (f) => injector.add(f),
      clear: () => injector.clear(),
      list: () => injector.list(),
    },
    openConnection(spec) {
      const now = clock.now();
      const c = openConnection(world, spec, now);
      notifyChange();
      // Durable once the next call answers or `close()` returns (the tabletop's injects are synchronous).
      record({ kind: 'connection', spec, at: now.toISOString() });
      return c;
    },
    isConnectionOpen: (id) => isConnectionOpen(world, id),
    async close() {
      await durable();
      if (!log) return;
      if (running > 0) throw new Error(`failed to close the simulated cloud: ${running} call(s) still running`);
      log.close(worldText(world));
    },
  };
}

/** The text of a persisted world file. */
function worldText(world: World): string {
  return `${JSON.stringify(world, null, 1)}\n`;
}

/** A clock stopped at one instant: a call's handler sees one time, live and when replayed. */
function pinnedClock(at: Date): Clock {
  return { now: () => new Date(at.getTime()), sleep: async () => {} };
}

/** Run async sections one after another, in the order they asked. */
function serializer() {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => {});
    return run;
  };
}

/**
 * Apply a persisted world's logged changes (change-log.ts) to the world read from its file: each
 * call's handler runs again on the same input, as the same caller, at the same simulated time.
 * The simulation is deterministic, so this rebuilds the world exactly; a change that comes out
 * differently (another error, another id count) means the log does not belong to this world.
 */
export async function replayChanges(world: World, changes: readonly Change[], file: string): Promise<void> {
  const byClient = new Map<string, SimService<unknown>>(services.map((s) => [s.clientName, s as SimService<unknown>]));
  for (const [i, change] of changes.entries()) {
    const where = `failed to replay change ${i + 1} of ${file}`;
    const at = new Date(change.at);
    if (change.kind === 'key-use') {
      const owner = accountWorld(world, change.account ?? world.account.id);
      if (!owner) throw new Error(`${where}: the world holds no account ${change.account}`);
      recordKeyUse(owner, change.key, { at, service: change.service, region: change.region ?? world.region });
    } else if (change.kind === 'connection') {
      openConnection(world, change.spec, at);
    } else {
      const service = byClient.get(change.client);
      const handler = service?.handlers[change.operation];
      if (!service || !handler) throw new Error(`${where}: the simulated cloud has no ${change.client} ${change.operation}`);
      // Logs written before worlds held several accounts name neither: the home account and Region answered.
      const scope: Scope = { account: change.account ?? world.account.id, region: change.region ?? world.region };
      const view = scopedWorld(world, scope, service.scope === 'regional');
      if (!view) throw new Error(`${where}: the world holds no Region ${scope.region} in account ${scope.account}`);
      const ctx: SimContext<World> = {
        world: view,
        clock: pinnedClock(at),
        region: scope.region,
        accountId: scope.account,
        caller: change.caller,
        requestId: change.requestId,
        fail: (code, message, httpStatus) => {
          const e = serviceErrorCode(change.client, code, httpStatus);
          throw buildAwsError({
            clientName: change.client,
            exception: service.exception,
            code: e.code,
            message,
            status: e.status,
            requestId: change.requestId,
          });
        },
        newId: (p, hexLength) => {
          world.idCounter += 1;
          return sequenceId(world.account.id, p, world.idCounter, hexLength);
        },
        changed: () => {},
      };
      let error: string | undefined;
      try {
        await handler(ctx, change.input);
      } catch (err) {
        error = (err as Error).name;
      }
      if (error !== change.error) {
        throw new Error(
          `${where}: ${change.operation} ${error ? `failed with ${error}` : 'succeeded'}, but ${change.error ? `failed with ${change.error}` : 'succeeded'} when it was made`,
        );
      }
    }
    if (world.idCounter !== change.idCounter) {
      throw new Error(`${where}: ${world.idCounter} ids handed out, but ${change.idCounter} when it was made`);
    }
    world.time = change.time;
  }
}

/**
 * Refuse what AWS would refuse before looking at the request: credentials it does not know or
 * that expired (every operation), and principals under an explicit deny (every operation but
 * sts:GetCallerIdentity, which AWS answers even then).
 */
async function authenticate(
  ctx: SimContext<World>,
  clientName: string,
  prefix: string,
  operation: string,
  accessKeyId: string | undefined,
  changed: (longTermKey: string) => void,
): Promise<void> {
  const id = await identify(ctx.world, accessKeyId, RESPONDER_KEY_ID, ctx, ctx.clock.now());
  if (id.ok) {
    ctx.caller = id.caller;
    ctx.accountId = id.caller.account;
    if (id.longTermKey) {
      recordKeyUse(accountWorld(ctx.world, ctx.accountId)!, id.longTermKey, { at: ctx.clock.now(), service: prefix, region: ctx.region });
      changed(id.longTermKey);
    }
    return;
  }
  const ec2 = clientName === 'EC2Client';
  if (id.problem === 'unknown-key') {
    if (ec2) ctx.fail('AuthFailure', 'AWS was not able to validate the provided access credentials', 401);
    ctx.fail('InvalidClientTokenId', id.message, 403);
  }
  if (id.problem === 'expired') {
    if (ec2) ctx.fail('RequestExpired', 'Request has expired.', 400);
    ctx.fail('ExpiredToken', id.message, 400);
  }
  ctx.caller = id.caller!;
  ctx.accountId = id.caller!.account;
  if (clientName === 'STSClient' && operation === 'GetCallerIdentity') return;
  ctx.fail(
    'AccessDenied',
    `${ec2 ? 'You are not authorized to perform this operation. ' : ''}User: ${id.caller!.arn} is not authorized to perform: ${prefix}:${operation} with an explicit deny`,
    403,
  );
}

/**
 * The world a request sees: its account's slices in its client's Region. A Region the world does
 * not declare is a gap in the world file, not an AWS answer (every Region exists in AWS), so it
 * is refused with what to add.
 */
function answeringWorld(world: World, scope: Scope, service: SimService<unknown>, clientName: string): World {
  const view = scopedWorld(world, scope, service.scope === 'regional');
  if (view) return view;
  const held = regionsOf(world, scope.account);
  const several = (world.accounts?.length ?? 0) > 0;
  const holds = held.length === 0 ? 'no Region' : `Region${held.length > 1 ? 's' : ''} ${held.join(', ')} only`;
  const where = scope.account === world.account.id ? "the world's top-level 'regions'" : `the 'regions' of account ${scope.account}`;
  throw new Error(
    `the simulated cloud holds ${holds}${several ? ` in account ${scope.account}` : ''}; this ${clientName} was built for ${scope.region} (declare it under ${where})`,
  );
}

function defaultFaultMessage(code: string, prefix: string, operation: string, callerArn: string): string {
  if (code === 'UnauthorizedOperation') return 'You are not authorized to perform this operation.';
  if (code === 'AccessDenied' || code === 'AccessDeniedException' || code === 'AuthorizationError') {
    return `User: ${callerArn} is not authorized to perform: ${prefix}:${operation}`;
  }
  if (code === 'RequestLimitExceeded') return 'Request limit exceeded.';
  if (code === 'Throttling' || code === 'ThrottlingException' || code === 'Throttled') return 'Rate exceeded';
  return `${code} (injected fault)`;
}
