/**
 * Faults and rate limits, through the SDK's real retry strategy. Retries wait real time: the
 * standard strategy backs off a random delay up to 1 s, then 2 s, for throttling errors and up
 * to 50 ms, then 100 ms, for 5xx errors, so these tests keep retries to one or two.
 */
import { describe, it, expect } from 'vitest';
import {
  DescribeInstancesCommand,
  DescribeVpcsCommand,
  CreateTagsCommand,
  ModifyNetworkInterfaceAttributeCommand,
} from '@aws-sdk/client-ec2';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { harness, rejection, demoWorld, WEB, WEB_ETH0, SG_MGMT, SG_WEB } from './helpers.js';

describe('injected faults', () => {
  it('AccessDenied on one EC2 operation is UnauthorizedOperation (403); the operation changes nothing', async () => {
    const { ec2, sim, world } = harness();
    sim.faults.add({ operation: 'ec2:ModifyNetworkInterfaceAttribute', error: 'AccessDenied' });
    const err = await rejection(ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: WEB_ETH0, Groups: [SG_MGMT] })));
    expect([err.name, err.$metadata.httpStatusCode, err.message]).toEqual([
      'UnauthorizedOperation',
      403,
      'You are not authorized to perform this operation.',
    ]);
    expect(world.ec2.networkInterfaces[0]!.groups).toEqual([SG_WEB]);
    await ec2.send(new DescribeVpcsCommand({})); // other operations are unaffected
  });

  it('AccessDenied on STS keeps its name and says who was denied', async () => {
    const { sts, sim } = harness();
    sim.faults.add({ operation: 'sts:*', error: 'AccessDenied' });
    const err = await rejection(sts.send(new GetCallerIdentityCommand({})));
    expect([err.name, err.$metadata.httpStatusCode, err.message]).toEqual([
      'AccessDenied',
      403,
      'User: arn:aws:iam::111122223333:user/oncall-responder is not authorized to perform: sts:GetCallerIdentity',
    ]);
  });

  it('counts `after` and `times`, and can be removed', async () => {
    const { ec2, sim } = harness();
    const f = sim.faults.add({ operation: 'ec2:DescribeVpcs', error: 'InternalError', after: 1, times: 1 });
    await ec2.send(new DescribeVpcsCommand({}));
    const err = await rejection(ec2.send(new DescribeVpcsCommand({})));
    expect([err.name, err.$metadata.httpStatusCode, err.$fault]).toEqual(['InternalError', 500, 'server']);
    await ec2.send(new DescribeVpcsCommand({}));
    expect(f.fired).toBe(1);
    const g = sim.faults.add({ operation: '*', error: 'ServiceUnavailable' });
    expect((await rejection(ec2.send(new DescribeVpcsCommand({})))).$metadata.httpStatusCode).toBe(503);
    g.remove();
    await ec2.send(new DescribeVpcsCommand({}));
    expect(sim.faults.list().map((x) => [x.operation, x.fired])).toEqual([['ec2:DescribeVpcs', 1]]);
    sim.faults.clear();
    expect(sim.faults.list()).toEqual([]);
  });

  it('applies faults from the world file', async () => {
    const { ec2 } = harness(
      demoWorld((w) => {
        w.faults = [{ operation: 'ec2:*', error: 'UnauthorizedOperation', after: 0 }];
      }),
    );
    expect((await rejection(ec2.send(new DescribeVpcsCommand({})))).name).toBe('UnauthorizedOperation');
  });

  it('refuses a malformed fault', () => {
    const { sim } = harness();
    expect(() => sim.faults.add({ operation: 'DescribeVpcs' } as never)).toThrow(/failed to add fault/);
  });

  it('a latency-only fault delays but does not fail the call', async () => {
    const { ec2, sim } = harness();
    const f = sim.faults.add({ operation: 'ec2:DescribeVpcs', latencyMs: 1 });
    await ec2.send(new DescribeVpcsCommand({}));
    expect(f.fired).toBe(1);
  });
});

describe('retries by the SDK', () => {
  it('retries throttling and then succeeds', async () => {
    const { ec2, sim } = harness(demoWorld(), { maxAttempts: 3 });
    sim.faults.add({ operation: 'ec2:DescribeInstances', error: 'Throttling', times: 1 });
    const r = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [WEB] }));
    expect(r.Reservations).toHaveLength(1);
    expect(r.$metadata.attempts).toBe(2);
    expect(sim.calls.map((c) => c.error ?? 'ok')).toEqual(['RequestLimitExceeded', 'ok']);
  });

  it('gives up after maxAttempts with the throttling error', async () => {
    const { ec2, sim } = harness(demoWorld(), { maxAttempts: 2 });
    sim.faults.add({ operation: 'ec2:DescribeInstances', error: 'RequestLimitExceeded' });
    const err = await rejection(ec2.send(new DescribeInstancesCommand({})));
    expect([err.name, err.$metadata.httpStatusCode, err.$metadata.attempts]).toEqual(['RequestLimitExceeded', 503, 2]);
    expect(sim.calls).toHaveLength(2);
  });

  it('retries a 5xx error', async () => {
    const { ec2, sim } = harness(demoWorld(), { maxAttempts: 2 });
    sim.faults.add({ operation: 'ec2:DescribeVpcs', error: 'InternalError', times: 1 });
    expect((await ec2.send(new DescribeVpcsCommand({}))).Vpcs).toHaveLength(1);
    expect(sim.calls.map((c) => c.error ?? 'ok')).toEqual(['InternalError', 'ok']);
  });

  it('does not retry AccessDenied', async () => {
    const { ec2, sim } = harness(demoWorld(), { maxAttempts: 3 });
    sim.faults.add({ operation: 'ec2:DescribeVpcs', error: 'AccessDenied' });
    await rejection(ec2.send(new DescribeVpcsCommand({})));
    expect(sim.calls).toHaveLength(1);
  });
});

describe('rate limits', () => {
  it('empties the mutating bucket without touching the describe bucket', async () => {
    const { ec2, world } = harness(
      demoWorld((w) => {
        w.rateLimits = { mutating: { capacity: 2, refillPerSecond: 0 }, describe: { capacity: 100, refillPerSecond: 0 } };
      }),
      { wallClock: () => 0 },
    );
    const tag = (v: string) => ec2.send(new CreateTagsCommand({ Resources: [WEB], Tags: [{ Key: 'n', Value: v }] }));
    await tag('1');
    await tag('2');
    const err = await rejection(tag('3'));
    expect([err.name, err.$metadata.httpStatusCode]).toEqual(['RequestLimitExceeded', 503]);
    expect(world.ec2.instances[0]!.tags.n).toBe('2');
    await ec2.send(new DescribeVpcsCommand({}));
  });

  it('refills the bucket over (wall) time', async () => {
    let now = 0;
    const { ec2 } = harness(
      demoWorld((w) => {
        w.rateLimits = { describe: { capacity: 1, refillPerSecond: 2 } };
      }),
      { wallClock: () => now },
    );
    await ec2.send(new DescribeVpcsCommand({}));
    expect((await rejection(ec2.send(new DescribeVpcsCommand({})))).name).toBe('RequestLimitExceeded');
    now += 499;
    expect((await rejection(ec2.send(new DescribeVpcsCommand({})))).name).toBe('RequestLimitExceeded');
    now += 1;
    await ec2.send(new DescribeVpcsCommand({}));
  });
});
