/**
 * The simulated cloud as the service tests use it: a world built from the slices a test gives
 * (validated by the world schema, as a world file is), served to real SDK clients through the
 * simulated cloud's plugin on a clock the test controls.
 */
import type { Pluggable } from '@smithy/types';
import { SimClock } from '../../src/core/clock.js';
import { createSimCloud, worldSchema, type World } from '../../src/sim/index.js';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';

export interface TestCloud {
  world: World & Record<string, any>;
  clock: SimClock;
  plugin: Pluggable<any, any>;
  /** Operations answered, in order, as `service.Operation`. */
  readonly calls: string[];
  /** How many calls changed the world. */
  readonly changes: number;
}

/** Slices of a world, keyed by service; the account and region are the tests' own. */
export function createTestCloud(slices: Record<string, unknown> = {}, opts: { caller?: string; start?: string } = {}): TestCloud {
  const world = worldSchema.parse({
    account: { id: ACCOUNT },
    region: REGION,
    ...(opts.caller ? { caller: { arn: opts.caller, userId: 'AROATESTCALLER0000000:test' } } : {}),
    ...(opts.start ? { time: opts.start } : {}),
    ...slices,
  });
  const clock = new SimClock(world.time);
  let changes = 0;
  const sim = createSimCloud(world, {
    clock,
    onChange: () => {
      changes++;
    },
  });
  return {
    world: world as TestCloud['world'],
    clock,
    plugin: sim.plugin,
    get calls() {
      return sim.calls.map((c) => `${c.service}.${c.operation}`);
    },
    get changes() {
      return changes;
    },
  };
}

/** A real SDK client of `Client` answered by the test cloud. */
export function clientFor<C extends { middlewareStack: { use(p: Pluggable<any, any>): void } }>(
  cloud: TestCloud,
  Client: new (config: any) => C,
  region = REGION,
): C {
  const client = new Client({
    region,
    credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
    maxAttempts: 1,
  });
  client.middlewareStack.use(cloud.plugin);
  return client;
}

/** The error a promise rejects with (fails the test when it resolves). */
export async function errorOf(p: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}
