/**
 * Clients on a run's own clock (a tabletop, a test) retry as the SDK does, but sleep the backoff on
 * that clock: the simulated time a retry lands at depends on the clock and the jitter source only.
 */
import { describe, expect, it } from 'vitest';
import { DescribeVpcsCommand } from '@aws-sdk/client-ec2';
import { createClients } from '../../src/cloud/clients.js';
import { SimClock } from '../../src/core/clock.js';
import { createSimCloud } from '../../src/sim/index.js';
import { demoWorld, rejection } from '../sim/helpers.js';

function clocked(o: { random?: () => number; maxAttempts?: number } = {}) {
  const clock = new SimClock('2026-03-03T02:40:00Z');
  const sim = createSimCloud(demoWorld(), { clock });
  const slept: number[] = [];
  const recording = {
    now: () => clock.now(),
    sleep: async (ms: number) => {
      slept.push(ms);
      await clock.sleep(ms);
    },
  };
  const aws = createClients({
    region: sim.region,
    credentials: sim.credentials,
    plugins: [sim.plugin],
    clock: recording,
    maxAttempts: o.maxAttempts ?? 5,
    ...(o.random ? { random: o.random } : {}),
  });
  return { clock, sim, aws, slept };
}

describe('SDK retries on a run clock', () => {
  it('a throttled call is retried after the SDK backoff, slept on the run clock (throttling base 1 s × jitter)', async () => {
    const { clock, sim, aws, slept } = clocked({ random: () => 0.5 });
    const fault = sim.faults.add({ operation: 'ec2:DescribeVpcs', error: 'RequestLimitExceeded', times: 2 });
    const before = clock.now().getTime();
    const out = await aws.ec2.send(new DescribeVpcsCommand({}));
    expect(fault.fired).toBe(2);
    expect(out.$metadata.attempts).toBe(3);
    // Full jitter over min(base × 2^retries, 20 s): 0.5 × 1000, then 0.5 × 2000.
    expect(slept).toEqual([500, 1000]);
    expect(clock.now().getTime() - before).toBe(1500);
  });

  it('a 5xx uses the SDK base delay, not the throttling one', async () => {
    const { sim, aws, slept } = clocked({ random: () => 0.5 });
    sim.faults.add({ operation: 'ec2:DescribeVpcs', error: 'InternalError', times: 1 });
    await aws.ec2.send(new DescribeVpcsCommand({}));
    expect(slept).toEqual([25]);
  });

  it('an error the SDK does not retry fails at once and sleeps nothing', async () => {
    const { sim, aws, slept } = clocked();
    sim.faults.add({ operation: 'ec2:DescribeVpcs', error: 'UnauthorizedOperation' });
    const err = await rejection(aws.ec2.send(new DescribeVpcsCommand({})));
    expect(err.name).toBe('UnauthorizedOperation');
    expect(err.$metadata.attempts).toBe(1);
    expect(slept).toEqual([]);
  });

  it('gives up after maxAttempts with the last error', async () => {
    const { sim, aws, slept } = clocked({ random: () => 0.25, maxAttempts: 3 });
    const fault = sim.faults.add({ operation: 'ec2:DescribeVpcs', error: 'RequestLimitExceeded' });
    const err = await rejection(aws.ec2.send(new DescribeVpcsCommand({})));
    expect(err.name).toBe('RequestLimitExceeded');
    expect(fault.fired).toBe(3);
    expect(slept).toEqual([250, 500]);
  });

  it('the same jitter source gives the same sleeps', async () => {
    const seq = () => {
      let i = 0;
      const xs = [0.9, 0.1, 0.6];
      return () => xs[i++ % xs.length]!;
    };
    const runs = [];
    for (let k = 0; k < 2; k++) {
      const { sim, aws, slept } = clocked({ random: seq() });
      sim.faults.add({ operation: 'ec2:DescribeVpcs', error: 'RequestLimitExceeded', times: 3 });
      await aws.ec2.send(new DescribeVpcsCommand({}));
      runs.push(slept);
    }
    expect(runs[0]).toEqual([900, 200, 2400]);
    expect(runs[1]).toEqual(runs[0]);
  });
});
