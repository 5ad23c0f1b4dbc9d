import { describe, it, expect } from 'vitest';
import {
  EC2Client,
  EC2ServiceException,
  DescribeInstancesCommand,
  DescribeImagesCommand,
  CreateTagsCommand,
  DescribeVpcsCommand,
} from '@aws-sdk/client-ec2';
import { GetRoleCommand, NoSuchEntityException } from '@aws-sdk/client-iam';
import { SimClock } from '../../src/core/clock.js';
import { awsErrorCode, isAwsError } from '../../src/core/errors.js';
import { harness, rejection, demoWorld, WEB } from './helpers.js';

describe('the simulated cloud behind real SDK clients', () => {
  it('refuses commands it does not implement, naming them, and logs the call', async () => {
    const { ec2, sim, world } = harness();
    const before = structuredClone(world);
    await expect(ec2.send(new DescribeImagesCommand({}))).rejects.toThrow('the simulated cloud does not implement ec2:DescribeImages');
    expect(sim.calls.at(-1)).toMatchObject({ service: 'ec2', operation: 'DescribeImages', error: 'NotImplemented' });
    expect(world).toEqual(before);
  });

  it('logs every call with a copy of its input and the request id the SDK reports', async () => {
    const { ec2, sim } = harness();
    const input = { InstanceIds: [WEB] };
    const r = await ec2.send(new DescribeInstancesCommand(input));
    input.InstanceIds.push('i-0000000000000000a');
    expect(sim.calls).toEqual([
      {
        seq: 1,
        service: 'ec2',
        operation: 'DescribeInstances',
        action: 'ec2:DescribeInstances',
        account: '111122223333',
        region: 'us-east-1',
        input: { InstanceIds: [WEB] },
        dryRun: false,
        requestId: r.$metadata.requestId,
        at: '2026-01-01T00:00:00.000Z',
      },
    ]);
    expect(r.$metadata.httpStatusCode).toBe(200);
    // Same scenario, same request ids.
    const again = harness();
    expect((await again.ec2.send(new DescribeInstancesCommand({ InstanceIds: [WEB] }))).$metadata.requestId).toBe(r.$metadata.requestId);
  });

  it('calls onChange after mutating calls only, with the world time brought up to the clock', async () => {
    const clock = new SimClock('2026-01-01T00:00:00Z');
    const seen: string[] = [];
    const { ec2, world } = harness(demoWorld(), { clock, onChange: (w) => seen.push(w.time) });
    await ec2.send(new DescribeInstancesCommand({}));
    expect(seen).toEqual([]);
    clock.advance(90_000);
    await ec2.send(new CreateTagsCommand({ Resources: [WEB], Tags: [{ Key: 'incident', Value: 'INC-1' }] }));
    expect(seen).toEqual(['2026-01-01T00:01:30.000Z']);
    expect(world.time).toBe('2026-01-01T00:01:30.000Z');
    await rejection(ec2.send(new CreateTagsCommand({ Resources: ['i-0000000000000000a'], Tags: [{ Key: 'a', Value: 'b' }] })));
    expect(seen).toHaveLength(1);
  });

  it('hands out copies: changing a response does not change the world', async () => {
    const { ec2, world } = harness();
    const r = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [WEB] }));
    r.Reservations![0]!.Instances![0]!.Tags!.push({ Key: 'x', Value: 'y' });
    r.Reservations![0]!.Instances![0]!.NetworkInterfaces![0]!.Groups = [];
    expect(world.ec2.instances[0]!.tags).toEqual({ Name: 'web-1', env: 'prod' });
    expect(world.ec2.networkInterfaces[0]!.groups).toHaveLength(1);
  });

  it("raises the SDK's own exception shapes", async () => {
    const { ec2 } = harness();
    const err = await rejection(ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-0000000000000000a'] })));
    expect(err).toBeInstanceOf(EC2ServiceException);
    expect(err.$fault).toBe('client');
    expect(err.Code).toBe('InvalidInstanceID.NotFound');
    expect(awsErrorCode(err)).toBe('InvalidInstanceID.NotFound');
    expect(isAwsError(err, 'InvalidInstanceID.NotFound')).toBe(true);
  });

  it('raises the modeled exception class where the SDK has one (IAM NoSuchEntity → NoSuchEntityException)', async () => {
    const { iam, sim } = harness();
    sim.faults.add({ operation: 'iam:GetRole', error: 'NoSuchEntity', status: 404, message: 'The role with name x cannot be found.' });
    const err = await rejection(iam.send(new GetRoleCommand({ RoleName: 'x' })));
    expect(err).toBeInstanceOf(NoSuchEntityException);
    expect([err.name, err.message, err.Code, err.$metadata.httpStatusCode]).toEqual([
      'NoSuchEntityException',
      'The role with name x cannot be found.',
      'NoSuchEntity',
      404,
    ]);
  });

  it('refuses a client built for another Region', async () => {
    const { sim } = harness();
    const other = new EC2Client({ region: 'eu-west-1', credentials: sim.credentials, maxAttempts: 1 });
    other.middlewareStack.use(sim.plugin);
    await expect(other.send(new DescribeVpcsCommand({}))).rejects.toThrow(
      'the simulated cloud holds Region us-east-1 only; this EC2Client was built for eu-west-1',
    );
  });

  it('gives the options createClients needs', () => {
    const { sim } = harness();
    expect(sim.clientOptions).toEqual({ region: 'us-east-1', credentials: sim.credentials, plugins: [sim.plugin] });
  });
});
