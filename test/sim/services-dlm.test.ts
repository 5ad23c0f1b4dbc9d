import { describe, expect, it } from 'vitest';
import {
  CreateLifecyclePolicyCommand,
  DeleteLifecyclePolicyCommand,
  DLMClient,
  GetLifecyclePoliciesCommand,
  GetLifecyclePolicyCommand,
  ListTagsForResourceCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateLifecyclePolicyCommand,
  type PolicyDetails,
} from '@aws-sdk/client-dlm';
import { DLM_INTERVALS, runDlmSchedules, schema } from '../../src/sim/services/dlm/index.js';
import { worldSchema } from '../../src/sim/index.js';
import { ACCOUNT, clientFor, createTestCloud, errorOf } from './services-harness.js';

const ROLE = `arn:aws:iam::${ACCOUNT}:role/AWSDataLifecycleManagerDefaultRole`;
const INSTANCE = 'i-0abc123def4567890';
const ROOT = 'vol-0a1b2c3d4e5f60711';
const DATA = 'vol-0a1b2c3d4e5f60712';
const OTHER = 'vol-0a1b2c3d4e5f60713';

function details(interval: number, extra: Partial<PolicyDetails> = {}, unit = 'HOURS'): PolicyDetails {
  return {
    PolicyType: 'EBS_SNAPSHOT_MANAGEMENT',
    ResourceTypes: ['VOLUME'],
    TargetTags: [{ Key: 'incident', Value: 'IR-7' }],
    Schedules: [
      {
        Name: 'forensic-hourly',
        CopyTags: true,
        TagsToAdd: [{ Key: 'purpose', Value: 'forensics' }],
        CreateRule: { Interval: interval, IntervalUnit: unit as 'HOURS', Times: ['00:00'] },
        RetainRule: { Count: 2 },
      },
    ],
    ...extra,
  };
}

function world() {
  return {
    ec2: {
      vpcs: [{ id: 'vpc-0a1b2c3d4e5f60718', cidrBlock: '10.0.0.0/16' }],
      subnets: [{ id: 'subnet-0a1b2c3d4e5f60718', vpcId: 'vpc-0a1b2c3d4e5f60718', cidrBlock: '10.0.1.0/24' }],
      instances: [
        {
          id: INSTANCE,
          subnetId: 'subnet-0a1b2c3d4e5f60718',
          tags: { incident: 'IR-7' },
          blockDevices: [
            { deviceName: '/dev/xvda', volumeId: ROOT },
            { deviceName: '/dev/sdf', volumeId: DATA },
          ],
        },
      ],
      volumes: [
        { id: ROOT, size: 8, tags: { role: 'root' } },
        { id: DATA, size: 100, tags: { incident: 'IR-7', role: 'data' } },
        { id: OTHER, size: 50, tags: { incident: 'IR-8' } },
      ],
      snapshots: [],
      snapshotCompletionSeconds: 120,
    },
  };
}

function setup() {
  const cloud = createTestCloud(world());
  return { cloud, dlm: clientFor(cloud, DLMClient) };
}

async function create(
  dlm: DLMClient,
  d: PolicyDetails = details(1),
  extra: { State?: 'ENABLED' | 'DISABLED'; Tags?: Record<string, string> } = {},
) {
  const out = await dlm.send(
    new CreateLifecyclePolicyCommand({
      ExecutionRoleArn: ROLE,
      Description: 'IR-7 forensic snapshots',
      State: 'ENABLED',
      PolicyDetails: d,
      ...extra,
    }),
  );
  return out.PolicyId!;
}

describe('DLM lifecycle policies', () => {
  it('CreateLifecyclePolicy stores the policy; GetLifecyclePolicy returns it as given', async () => {
    const { cloud, dlm } = setup();
    const id = await create(dlm, details(1), { Tags: { incident: 'IR-7' } });
    expect(id).toMatch(/^policy-[0-9a-f]{17}$/);
    expect(cloud.world.dlm.policies.map((p: { id: string }) => p.id)).toEqual([id]);
    const { Policy } = await dlm.send(new GetLifecyclePolicyCommand({ PolicyId: id }));
    expect(Policy).toMatchObject({
      PolicyId: id,
      Description: 'IR-7 forensic snapshots',
      State: 'ENABLED',
      ExecutionRoleArn: ROLE,
      PolicyArn: `arn:aws:dlm:us-east-1:${ACCOUNT}:policy/${id}`,
      Tags: { incident: 'IR-7' },
      PolicyDetails: details(1),
    });
    expect(Policy!.DateCreated).toEqual(new Date('2026-01-01T00:00:00Z'));
  });

  it.each(DLM_INTERVALS.map((n) => [n]))('accepts an interval of %i hours', async (n) => {
    const { cloud, dlm } = setup();
    await create(dlm, details(n));
    expect(cloud.world.dlm.policies[0].policyDetails.Schedules[0].CreateRule.Interval).toBe(n);
  });

  it.each([
    ['5 HOURS', details(5)],
    ['48 HOURS', details(48)],
    ['0 HOURS', details(0)],
    ['24 DAYS', details(24, {}, 'DAYS')],
  ])('refuses an interval of %s with InvalidRequestException and stores nothing', async (_what, d) => {
    const { cloud, dlm } = setup();
    const err = await errorOf(create(dlm, d));
    expect([err.name, err.$metadata?.httpStatusCode]).toEqual(['InvalidRequestException', 400]);
    expect(err.message).toContain('the interval must be 1, 2, 3, 4, 6, 8, 12 or 24 HOURS');
    expect(cloud.world.dlm.policies).toEqual([]);
  });

  it.each([
    ['without ExecutionRoleArn', { Description: 'x', State: 'ENABLED', PolicyDetails: details(1) }, 'ExecutionRoleArn is required.'],
    [
      'without target tags',
      { ExecutionRoleArn: ROLE, Description: 'x', State: 'ENABLED', PolicyDetails: { ...details(1), TargetTags: [] } },
      'TargetTags is required for an EBS_SNAPSHOT_MANAGEMENT policy.',
    ],
    [
      'with a bad description',
      { ExecutionRoleArn: ROLE, Description: 'IR-7: snapshots!', State: 'ENABLED', PolicyDetails: details(1) },
      'Description may hold up to 500 letters, digits, spaces, underscores and hyphens.',
    ],
  ])('CreateLifecyclePolicy %s is InvalidRequestException', async (_what, input, message) => {
    const { cloud, dlm } = setup();
    const err = await errorOf(dlm.send(new CreateLifecyclePolicyCommand(input as any)));
    expect([err.name, err.message]).toEqual(['InvalidRequestException', message]);
    expect(cloud.world.dlm.policies).toEqual([]);
  });

  it('GetLifecyclePolicies filters by state, resource type and target tag', async () => {
    const { dlm } = setup();
    const a = await create(dlm);
    const b = await create(
      dlm,
      { ...details(12), TargetTags: [{ Key: 'backup', Value: 'daily' }], ResourceTypes: ['INSTANCE'] },
      { State: 'DISABLED' },
    );
    const ids = async (input: object) => (await dlm.send(new GetLifecyclePoliciesCommand(input))).Policies?.map((p) => p.PolicyId);
    expect(await ids({})).toEqual([a, b]);
    expect(await ids({ State: 'ENABLED' })).toEqual([a]);
    expect(await ids({ ResourceTypes: ['INSTANCE'] })).toEqual([b]);
    expect(await ids({ TargetTags: ['incident=IR-7'] })).toEqual([a]);
    expect(await ids({ TargetTags: ['incident=IR-9'] })).toEqual([]);
    const summary = (await dlm.send(new GetLifecyclePoliciesCommand({ PolicyIds: [b] }))).Policies![0];
    expect(summary).toMatchObject({ PolicyId: b, State: 'DISABLED', PolicyType: 'EBS_SNAPSHOT_MANAGEMENT' });
  });

  it('an unknown policy id is ResourceNotFoundException (404)', async () => {
    const { dlm } = setup();
    for (const call of [
      dlm.send(new GetLifecyclePolicyCommand({ PolicyId: 'policy-00000000000000000' })),
      dlm.send(new GetLifecyclePoliciesCommand({ PolicyIds: ['policy-00000000000000000'] })),
      dlm.send(new DeleteLifecyclePolicyCommand({ PolicyId: 'policy-00000000000000000' })),
      dlm.send(new UpdateLifecyclePolicyCommand({ PolicyId: 'policy-00000000000000000', State: 'DISABLED' })),
    ]) {
      const err = await errorOf(call);
      expect([err.name, err.$metadata?.httpStatusCode]).toEqual(['ResourceNotFoundException', 404]);
    }
  });

  it('UpdateLifecyclePolicy changes state and schedule; an invalid update changes nothing', async () => {
    const { cloud, dlm } = setup();
    const id = await create(dlm, details(12));
    cloud.clock.advance(60_000);
    await dlm.send(new UpdateLifecyclePolicyCommand({ PolicyId: id, PolicyDetails: details(1) }));
    await dlm.send(new UpdateLifecyclePolicyCommand({ PolicyId: id, State: 'DISABLED' }));
    const stored = cloud.world.dlm.policies[0];
    expect([stored.state, stored.policyDetails.Schedules[0].CreateRule.Interval, stored.modifiedAt]).toEqual([
      'DISABLED',
      1,
      '2026-01-01T00:01:00.000Z',
    ]);

    const before = structuredClone(cloud.world.dlm);
    const bad = await errorOf(dlm.send(new UpdateLifecyclePolicyCommand({ PolicyId: id, State: 'ENABLED', PolicyDetails: details(7) })));
    expect(bad.name).toBe('InvalidRequestException');
    const retype = await errorOf(
      dlm.send(new UpdateLifecyclePolicyCommand({ PolicyId: id, PolicyDetails: { ...details(1), ResourceTypes: ['INSTANCE'] } })),
    );
    expect([retype.name, retype.message]).toEqual(['InvalidRequestException', 'The resource type cannot be updated.']);
    expect(cloud.world.dlm).toEqual(before);
  });

  it('DeleteLifecyclePolicy removes the policy', async () => {
    const { cloud, dlm } = setup();
    const id = await create(dlm);
    await dlm.send(new DeleteLifecyclePolicyCommand({ PolicyId: id }));
    expect(cloud.world.dlm.policies).toEqual([]);
  });

  it('TagResource, ListTagsForResource and UntagResource manage policy tags by ARN', async () => {
    const { dlm } = setup();
    const id = await create(dlm);
    const arn = `arn:aws:dlm:us-east-1:${ACCOUNT}:policy/${id}`;
    await dlm.send(new TagResourceCommand({ ResourceArn: arn, Tags: { incident: 'IR-7', owner: 'sec' } }));
    await dlm.send(new UntagResourceCommand({ ResourceArn: arn, TagKeys: ['owner'] }));
    expect((await dlm.send(new ListTagsForResourceCommand({ ResourceArn: arn }))).Tags).toEqual({ incident: 'IR-7' });
    expect(
      (await errorOf(dlm.send(new ListTagsForResourceCommand({ ResourceArn: arn.replace(id, 'policy-00000000000000000') })))).name,
    ).toBe('ResourceNotFoundException');
  });
});

describe('runDlmSchedules', () => {
  const snaps = (cloud: { world: any }) =>
    cloud.world.ec2.snapshots.map((s: { volumeId: string; startTime: string; state: string }) => [s.volumeId, s.startTime, s.state]);

  it('takes a snapshot of each targeted volume at every interval, tagged as DLM tags it, and keeps RetainRule.Count', async () => {
    const { cloud, dlm } = setup();
    const id = await create(dlm);
    expect(runDlmSchedules(cloud.world, new Date('2026-01-01T00:59:59Z'))).toEqual({ created: [], deleted: [] });

    const first = runDlmSchedules(cloud.world, new Date('2026-01-01T01:01:00Z'));
    expect(first.created).toHaveLength(1);
    expect(snaps(cloud)).toEqual([[DATA, '2026-01-01T01:00:00.000Z', 'pending']]);
    const snap = cloud.world.ec2.snapshots[0];
    expect(snap.id).toMatch(/^snap-[0-9a-f]{17}$/);
    expect(snap.completesAt).toBe('2026-01-01T01:02:00.000Z');
    expect(snap.tags).toEqual({
      incident: 'IR-7',
      role: 'data',
      purpose: 'forensics',
      'aws:dlm:lifecycle-policy-id': id,
      'aws:dlm:lifecycle-schedule-name': 'forensic-hourly',
      'dlm:managed': 'true',
    });

    // Three hours later: two more slots were due, and Count 2 retires the oldest.
    const later = runDlmSchedules(cloud.world, new Date('2026-01-01T03:30:00Z'));
    expect(later.created).toHaveLength(2);
    expect(later.deleted).toEqual([first.created[0]]);
    expect(snaps(cloud)).toEqual([
      [DATA, '2026-01-01T02:00:00.000Z', 'completed'],
      [DATA, '2026-01-01T03:00:00.000Z', 'completed'],
    ]);
    expect(worldSchema.safeParse(cloud.world).error?.issues).toBeUndefined();
    // Running again at the same time owes nothing.
    expect(runDlmSchedules(cloud.world, new Date('2026-01-01T03:30:00Z'))).toEqual({ created: [], deleted: [] });
  });

  it('an INSTANCE policy snapshots the volumes attached to tagged instances; a disabled policy takes none', async () => {
    const { cloud, dlm } = setup();
    await create(dlm, { ...details(4), ResourceTypes: ['INSTANCE'] });
    await create(dlm, { ...details(1), TargetTags: [{ Key: 'incident', Value: 'IR-8' }] }, { State: 'DISABLED' });
    runDlmSchedules(cloud.world, new Date('2026-01-01T04:00:00Z'));
    expect(
      snaps(cloud)
        .map((s: string[]) => s[0])
        .sort(),
    ).toEqual([ROOT, DATA].sort());
  });
});

describe('DLM slice schema', () => {
  it('rejects a world policy with an interval DLM does not accept', () => {
    const r = schema.safeParse({
      policies: [{ id: 'policy-0123456789abcdef0', description: 'x', executionRoleArn: ROLE, policyDetails: details(5) }],
    });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain('the interval must be 1, 2, 3, 4, 6, 8, 12 or 24 HOURS');
  });
});
