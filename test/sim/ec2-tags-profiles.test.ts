import { describe, it, expect } from 'vitest';
import {
  CreateTagsCommand,
  DeleteTagsCommand,
  DescribeTagsCommand,
  DescribeIamInstanceProfileAssociationsCommand,
  AssociateIamInstanceProfileCommand,
  ReplaceIamInstanceProfileAssociationCommand,
  DisassociateIamInstanceProfileCommand,
} from '@aws-sdk/client-ec2';
import { harness, rejection, demoWorld, WEB, DB, SG_WEB, VOL_DATA, ASSOC } from './helpers.js';

describe('tags', () => {
  it('tags several kinds of resources at once and describes them', async () => {
    const { ec2, world } = harness();
    await ec2.send(new CreateTagsCommand({ Resources: [WEB, SG_WEB, VOL_DATA], Tags: [{ Key: 'firebreak:incident', Value: 'INC-9' }] }));
    expect(world.ec2.instances[0]!.tags['firebreak:incident']).toBe('INC-9');
    const r = await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'key', Values: ['firebreak:incident'] }] }));
    expect(r.Tags!.map((t) => [t.ResourceId, t.ResourceType, t.Value])).toEqual([
      [WEB, 'instance', 'INC-9'],
      [SG_WEB, 'security-group', 'INC-9'],
      [VOL_DATA, 'volume', 'INC-9'],
    ]);
    const byResource = await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [DB] }] }));
    expect(byResource.Tags!.map((t) => t.Key)).toEqual(['Name', 'env', 'firebreak:protected']);
  });

  it('deletes a tag only when a given value matches', async () => {
    const { ec2, world } = harness();
    await ec2.send(new DeleteTagsCommand({ Resources: [WEB], Tags: [{ Key: 'env', Value: 'staging' }] }));
    expect(world.ec2.instances[0]!.tags.env).toBe('prod');
    await ec2.send(new DeleteTagsCommand({ Resources: [WEB], Tags: [{ Key: 'env' }] }));
    expect(world.ec2.instances[0]!.tags).toEqual({ Name: 'web-1' });
  });

  it.each([
    [{ Resources: ['i-0000000000000000a'], Tags: [{ Key: 'a', Value: 'b' }] }, 'InvalidInstanceID.NotFound'],
    [{ Resources: ['bogus-123'], Tags: [{ Key: 'a', Value: 'b' }] }, 'InvalidID'],
    [{ Resources: [WEB], Tags: [{ Key: 'aws:thing', Value: 'b' }] }, 'InvalidParameterValue'],
    [{ Resources: [WEB, 'i-0000000000000000a'], Tags: [{ Key: 'a', Value: 'b' }] }, 'InvalidInstanceID.NotFound'],
    [{ Resources: [WEB], Tags: [{ Key: 'a', Value: 'b' }], DryRun: true }, 'DryRunOperation'],
  ])('CreateTags %j fails with %s and tags nothing', async (input, code) => {
    const { ec2, world } = harness();
    expect((await rejection(ec2.send(new CreateTagsCommand(input)))).name).toBe(code);
    expect(world.ec2.instances[0]!.tags).toEqual({ Name: 'web-1', env: 'prod' });
  });

  it('enforces 50 tags per resource', async () => {
    const { ec2, world } = harness();
    const Tags = Array.from({ length: 49 }, (_, n) => ({ Key: `k${n}`, Value: 'v' }));
    expect((await rejection(ec2.send(new CreateTagsCommand({ Resources: [WEB], Tags })))).name).toBe('TagLimitExceeded');
    expect(Object.keys(world.ec2.instances[0]!.tags)).toHaveLength(2);
  });
});

const profile = (name: string) => ({ name, path: '/', createDate: '2025-01-01T00:00:00Z', roles: [] });
const withProfiles = () =>
  demoWorld((w) => {
    w.iam.instanceProfiles.push(profile('quarantine'), profile('db'));
  });

describe('IAM instance profile associations', () => {
  it('describes, replaces and removes the association', async () => {
    const { ec2, world } = harness(withProfiles());
    const d = await ec2.send(new DescribeIamInstanceProfileAssociationsCommand({ Filters: [{ Name: 'instance-id', Values: [WEB] }] }));
    expect(d.IamInstanceProfileAssociations).toMatchObject([
      {
        AssociationId: ASSOC,
        InstanceId: WEB,
        State: 'associated',
        IamInstanceProfile: { Arn: 'arn:aws:iam::111122223333:instance-profile/web-app-profile' },
      },
    ]);
    const r = await ec2.send(
      new ReplaceIamInstanceProfileAssociationCommand({ AssociationId: ASSOC, IamInstanceProfile: { Name: 'quarantine' } }),
    );
    expect(r.IamInstanceProfileAssociation).toMatchObject({
      InstanceId: WEB,
      State: 'associating',
      IamInstanceProfile: { Arn: 'arn:aws:iam::111122223333:instance-profile/quarantine' },
    });
    expect(world.ec2.iamInstanceProfileAssociations.map((a) => a.instanceProfileArn)).toEqual([
      'arn:aws:iam::111122223333:instance-profile/quarantine',
    ]);
    const gone = await ec2.send(
      new DisassociateIamInstanceProfileCommand({ AssociationId: r.IamInstanceProfileAssociation!.AssociationId! }),
    );
    expect(gone.IamInstanceProfileAssociation!.State).toBe('disassociating');
    expect(world.ec2.iamInstanceProfileAssociations).toEqual([]);
  });

  it('associates a profile with an instance that has none, and refuses a second one (IncorrectState)', async () => {
    const { ec2, world } = harness(withProfiles());
    const r = await ec2.send(
      new AssociateIamInstanceProfileCommand({
        InstanceId: DB,
        IamInstanceProfile: { Arn: 'arn:aws:iam::111122223333:instance-profile/db' },
      }),
    );
    expect(r.IamInstanceProfileAssociation!.AssociationId).toMatch(/^iip-assoc-[0-9a-f]{17}$/);
    // The profile id is the one IAM reports for the profile.
    expect(r.IamInstanceProfileAssociation!.IamInstanceProfile!.Id).toMatch(/^AIPA[A-Z2-7]{17}$/);
    expect(world.ec2.iamInstanceProfileAssociations).toHaveLength(2);
    const err = await rejection(ec2.send(new AssociateIamInstanceProfileCommand({ InstanceId: WEB, IamInstanceProfile: { Name: 'db' } })));
    expect([err.name, err.message]).toEqual(['IncorrectState', `There is an existing association for instance ${WEB}`]);
  });

  it('refuses an instance profile IAM does not have, by name or by ARN', async () => {
    const { ec2, world } = harness(withProfiles());
    for (const IamInstanceProfile of [
      { Name: 'nope' },
      { Arn: 'arn:aws:iam::111122223333:instance-profile/nope' },
      { Arn: 'arn:aws:iam::111122223333:instance-profile/other-path/quarantine' },
    ]) {
      const err = await rejection(ec2.send(new ReplaceIamInstanceProfileAssociationCommand({ AssociationId: ASSOC, IamInstanceProfile })));
      expect(err.name).toBe('InvalidParameterValue');
    }
    expect(world.ec2.iamInstanceProfileAssociations[0]!.id).toBe(ASSOC);
    await ec2.send(new ReplaceIamInstanceProfileAssociationCommand({ AssociationId: ASSOC, IamInstanceProfile: { Name: 'quarantine' } }));
    expect(world.ec2.iamInstanceProfileAssociations[0]!.instanceProfileArn).toBe('arn:aws:iam::111122223333:instance-profile/quarantine');
  });

  it('fails on unknown associations', async () => {
    const { ec2 } = harness();
    const err = await rejection(ec2.send(new DisassociateIamInstanceProfileCommand({ AssociationId: 'iip-assoc-0000000000000000a' })));
    expect(err.name).toBe('InvalidAssociationID.NotFound');
  });
});
