import { describe, expect, it } from 'vitest';
import remove from '../../src/actions/ec2/remove-from-service.js';
import raise from '../../src/actions/ec2/raise-snapshot-frequency.js';
import describeContainment from '../../src/actions/ec2/describe-containment.js';
import findInstances from '../../src/actions/ec2/find-instances.js';
import isolate from '../../src/actions/ec2/isolate-instance.js';
import preserve from '../../src/actions/ec2/preserve-instance.js';
import { harness, mutating, WEB1, WEB1_VOLUMES } from './ec2-harness.js';

const PAYMENTS = ['i-0f1000000000000f1', 'i-0f2000000000000f2', 'i-0f3000000000000f3'];

describe('ec2.find-instances', () => {
  it.each([
    ['a tag', { tags: ['app=payments'] }, PAYMENTS],
    ['an AMI', { imageIds: ['ami-0bad0bad0bad0bad0'] }, PAYMENTS],
    ['a tag key and an AMI', { tags: ['app'], imageIds: ['ami-0bad0bad0bad0bad0'] }, PAYMENTS],
    ['two values of one tag', { tags: ['Name=pay-1', 'Name=web-1'] }, ['i-0b1000000000000b1', 'i-0f1000000000000f1']],
    ['stopped only', { tags: ['app=payments'], states: ['stopped'] }, []],
  ])('by %s: running and stopped instances, never terminated, protected ones listed apart', async (_what, input, expected) => {
    const h = harness();
    const r = await h.run(findInstances, input);
    expect(r.output.instanceIds).toEqual(expected);
    if (expected === PAYMENTS) expect(r.output.protected).toEqual(['i-0f4000000000000f4']);
    expect(mutating(r.calls)).toEqual([]);
    expect(findInstances.mutating).toBe(false);
  });

  it('refuses to select without a selector (that would be every instance of the Region)', () => {
    const parsed = findInstances.input.safeParse({});
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues[0]!.message).toBe('give at least one of tags, imageIds or vpcIds');
  });
});

describe('ec2.describe-containment', () => {
  it('reads nothing from an instance Firebreak never touched', async () => {
    const h = harness();
    const r = await h.run(describeContainment, { instanceId: WEB1, incident: 'IR-7' });
    expect(r.output).toMatchObject({ isolated: false, preserved: false, removedFromService: false, scheduled: false, interfaces: [] });
  });

  it("turns containment's records on the resources into the release actions' inputs", async () => {
    const h = harness();
    await h.run(preserve, { instanceId: WEB1 });
    const out = await h.run(remove, { instanceId: WEB1 });
    await h.run(isolate, { instanceId: WEB1 });
    await h.run(raise, { instanceId: WEB1, intervalHours: 1 });
    const r = await h.run(describeContainment, { instanceId: WEB1, incident: 'IR-7' });
    expect(mutating(r.calls)).toEqual([]);
    expect(r.output).toMatchObject({
      isolated: true,
      interfaces: [
        { networkInterfaceId: 'eni-0e1100000000000e1', groups: ['sg-0c1000000000000c1'] },
        { networkInterfaceId: 'eni-0e1200000000000e2', groups: ['sg-0c2000000000000c2'] },
      ],
      preserved: true,
      attributes: {
        disableApiTermination: false,
        instanceInitiatedShutdownBehavior: 'terminate',
        volumes: [{ deleteOnTermination: true }, { deleteOnTermination: true }, { deleteOnTermination: false }],
      },
      removedFromService: true,
      service: { autoScalingGroup: 'web-asg', mode: 'detach', targetGroups: out.output.targetGroups },
      scheduled: true,
      schedule: { incident: 'IR-7', volumeIds: WEB1_VOLUMES, deletePolicy: true },
    });
  });
});
