import { describe, expect, it } from 'vitest';
import {
  AttachRolePolicyCommand,
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  DeleteRolePolicyCommand,
  DeleteUserPolicyCommand,
  DetachRolePolicyCommand,
  DetachUserPolicyCommand,
  GetAccessKeyLastUsedCommand,
  GetInstanceProfileCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListAttachedRolePoliciesCommand,
  ListAttachedUserPoliciesCommand,
  ListInstanceProfilesCommand,
  ListInstanceProfilesForRoleCommand,
  ListRolePoliciesCommand,
  ListUserPoliciesCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  UpdateAccessKeyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import {
  isKeyUsable,
  isSessionValid,
  recordKeyUse,
  recordRoleSession,
  schema,
  sessionStatus,
  trustPolicyAllows,
} from '../../src/sim/services/iam/index.js';
import { ACCOUNT, clientFor, createTestCloud, errorOf } from './services-harness.js';

const EC2_TRUST = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
};
const ACCOUNT_TRUST = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'sts:AssumeRole' }],
};
const READ_S3 = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] });
const KEY1 = 'AKIAIOSFODNN7EXAMPLE';
const KEY2 = 'AKIAI44QH8DHBEXAMPLE';
const SLR = 'AWSServiceRoleForAutoScaling';

function world() {
  return {
    iam: {
      users: [
        {
          name: 'deploy-bot',
          tags: { team: 'platform' },
          inlinePolicies: { 'read-artifacts': READ_S3 },
          accessKeys: [
            {
              id: KEY1,
              createDate: '2025-06-01T00:00:00Z',
              lastUsed: { date: '2025-12-31T23:00:00Z', service: 's3', region: 'us-east-1' },
            },
            { id: KEY2, createDate: '2025-09-01T00:00:00Z' },
          ],
        },
        { name: 'responder' },
      ],
      roles: [
        {
          name: 'web-app-role',
          trustPolicy: { ...ACCOUNT_TRUST, Statement: [...ACCOUNT_TRUST.Statement, ...EC2_TRUST.Statement] },
          inlinePolicies: { 'read-artifacts': READ_S3 },
        },
        {
          name: SLR,
          path: '/aws-service-role/autoscaling.amazonaws.com/',
          trustPolicy: {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Principal: { Service: 'autoscaling.amazonaws.com' }, Action: 'sts:AssumeRole' }],
          },
          inlinePolicies: { 'service-policy': READ_S3 },
          attachedPolicies: ['arn:aws:iam::aws:policy/AdministratorAccess'],
        },
      ],
      instanceProfiles: [{ name: 'web-app-profile', roles: ['web-app-role'] }],
    },
  };
}

function setup(caller?: string) {
  const cloud = createTestCloud(world(), caller ? { caller } : {});
  return { cloud, iam: clientFor(cloud, IAMClient) };
}

const decode = (doc: string | undefined) => JSON.parse(decodeURIComponent(doc!));

describe('IAM users and access keys', () => {
  it('GetUser returns the user with id, ARN and tags; an unknown user is NoSuchEntity (404)', async () => {
    const { iam } = setup();
    const { User } = await iam.send(new GetUserCommand({ UserName: 'deploy-bot' }));
    expect(User).toMatchObject({
      UserName: 'deploy-bot',
      Path: '/',
      Arn: `arn:aws:iam::${ACCOUNT}:user/deploy-bot`,
      Tags: [{ Key: 'team', Value: 'platform' }],
    });
    expect(User!.UserId).toMatch(/^AIDA[A-Z2-7]{17}$/);
    expect(User!.CreateDate).toBeInstanceOf(Date);

    const err = await errorOf(iam.send(new GetUserCommand({ UserName: 'ghost' })));
    expect(err.name).toBe('NoSuchEntityException');
    expect(err.message).toBe('The user with name ghost cannot be found.');
    expect(err.$metadata?.httpStatusCode).toBe(404);
  });

  it('GetUser without UserName describes the calling user; a role caller must name one', async () => {
    const { iam } = setup();
    expect((await iam.send(new GetUserCommand({}))).User?.UserName).toBe('responder');

    const asRole = setup(`arn:aws:sts::${ACCOUNT}:assumed-role/web-app-role/i-0abc123def4567890`).iam;
    const err = await errorOf(asRole.send(new GetUserCommand({})));
    expect(err.name).toBe('ValidationError');
  });

  it('ListAccessKeys lists both keys with status and creation date', async () => {
    const { iam } = setup();
    const out = await iam.send(new ListAccessKeysCommand({ UserName: 'deploy-bot' }));
    expect(out.IsTruncated).toBe(false);
    expect(out.AccessKeyMetadata?.map((k) => [k.AccessKeyId, k.Status, k.UserName])).toEqual([
      [KEY1, 'Active', 'deploy-bot'],
      [KEY2, 'Active', 'deploy-bot'],
    ]);
  });

  it('UpdateAccessKey deactivates a key, which then no longer works; repeating it changes nothing', async () => {
    const { cloud, iam } = setup();
    await iam.send(new UpdateAccessKeyCommand({ UserName: 'deploy-bot', AccessKeyId: KEY1, Status: 'Inactive' }));
    expect(cloud.world.iam.users[0].accessKeys[0].status).toBe('Inactive');
    expect(isKeyUsable(cloud.world, KEY1)).toBe(false);
    expect(isKeyUsable(cloud.world, KEY2)).toBe(true);
    const changes = cloud.changes;
    await iam.send(new UpdateAccessKeyCommand({ UserName: 'deploy-bot', AccessKeyId: KEY1, Status: 'Inactive' }));
    expect(cloud.changes).toBe(changes);
  });

  it.each([
    ['an unknown key', { UserName: 'deploy-bot', AccessKeyId: 'AKIAZZZZZZZZZZZZZZZZ', Status: 'Inactive' }, 'NoSuchEntityException', 404],
    ["another user's key", { UserName: 'responder', AccessKeyId: KEY1, Status: 'Inactive' }, 'NoSuchEntityException', 404],
    ['an unknown user', { UserName: 'ghost', AccessKeyId: KEY1, Status: 'Inactive' }, 'NoSuchEntityException', 404],
    ['a bad status', { UserName: 'deploy-bot', AccessKeyId: KEY1, Status: 'Disabled' }, 'ValidationError', 400],
  ] as const)('UpdateAccessKey on %s fails with %s and changes nothing', async (_what, input, code, status) => {
    const { cloud, iam } = setup();
    const before = structuredClone(cloud.world.iam);
    const err = await errorOf(iam.send(new UpdateAccessKeyCommand(input as any)));
    expect([err.name, err.$metadata?.httpStatusCode]).toEqual([code, status]);
    expect(cloud.world.iam).toEqual(before);
  });

  it('CreateAccessKey returns the secret once; a third key exceeds the quota (LimitExceeded, 409)', async () => {
    const { cloud, iam } = setup();
    const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ name: 'responder' }));
    expect(AccessKey).toMatchObject({ UserName: 'responder', Status: 'Active' });
    expect(AccessKey!.AccessKeyId).toMatch(/^AKIA[A-Z0-9]{16}$/);
    expect(AccessKey!.SecretAccessKey).toHaveLength(40);
    const stored = cloud.world.iam.users[1].accessKeys;
    expect(stored.map((k: { id: string }) => k.id)).toEqual([AccessKey!.AccessKeyId]);
    expect(JSON.stringify(cloud.world)).not.toContain(AccessKey!.SecretAccessKey);
    expect(isKeyUsable(cloud.world, AccessKey!.AccessKeyId!)).toBe(true);

    const err = await errorOf(iam.send(new CreateAccessKeyCommand({ UserName: 'deploy-bot' })));
    expect([err.name, err.message, err.$metadata?.httpStatusCode]).toEqual([
      'LimitExceededException',
      'Cannot exceed quota for AccessKeysPerUser: 2',
      409,
    ]);
    expect(cloud.world.iam.users[0].accessKeys).toHaveLength(2);
  });

  it('DeleteAccessKey removes the key; deleting it again is NoSuchEntity', async () => {
    const { cloud, iam } = setup();
    await iam.send(new DeleteAccessKeyCommand({ UserName: 'deploy-bot', AccessKeyId: KEY2 }));
    expect(cloud.world.iam.users[0].accessKeys.map((k: { id: string }) => k.id)).toEqual([KEY1]);
    expect(isKeyUsable(cloud.world, KEY2)).toBe(false);
    expect((await errorOf(iam.send(new DeleteAccessKeyCommand({ UserName: 'deploy-bot', AccessKeyId: KEY2 })))).name).toBe(
      'NoSuchEntityException',
    );
  });

  it('GetAccessKeyLastUsed names the owner from the key id alone and reports N/A for an unused key', async () => {
    const { cloud, iam } = setup();
    expect(await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: KEY1 }))).toMatchObject({
      UserName: 'deploy-bot',
      AccessKeyLastUsed: { LastUsedDate: new Date('2025-12-31T23:00:00Z'), ServiceName: 's3', Region: 'us-east-1' },
    });
    const unused = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: KEY2 }));
    expect(unused.AccessKeyLastUsed).toEqual({ ServiceName: 'N/A', Region: 'N/A' });

    recordKeyUse(cloud.world, KEY2, { at: new Date('2026-01-01T00:05:00Z'), service: 'ec2', region: 'eu-west-1' });
    const used = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: KEY2 }));
    expect(used.AccessKeyLastUsed).toEqual({ LastUsedDate: new Date('2026-01-01T00:05:00Z'), ServiceName: 'ec2', Region: 'eu-west-1' });

    expect((await errorOf(iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: 'AKIAZZZZZZZZZZZZZZZZ' })))).name).toBe(
      'NoSuchEntityException',
    );
  });
});

describe('IAM user policies', () => {
  it('GetUserPolicy returns the document URL-encoded, as IAM does and the SDK leaves it', async () => {
    const { iam } = setup();
    expect((await iam.send(new ListUserPoliciesCommand({ UserName: 'deploy-bot' }))).PolicyNames).toEqual(['read-artifacts']);
    const out = await iam.send(new GetUserPolicyCommand({ UserName: 'deploy-bot', PolicyName: 'read-artifacts' }));
    expect(out.PolicyDocument).toMatch(/^%7B/);
    expect(decode(out.PolicyDocument)).toEqual(JSON.parse(READ_S3));
  });

  it('PutUserPolicy stores the document; DeleteUserPolicy removes it', async () => {
    const { cloud, iam } = setup();
    const deny = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: '*', Resource: '*' }] });
    await iam.send(new PutUserPolicyCommand({ UserName: 'deploy-bot', PolicyName: 'quarantine', PolicyDocument: deny }));
    expect(cloud.world.iam.users[0].inlinePolicies.quarantine).toBe(deny);
    expect(isKeyUsable(cloud.world, KEY1)).toBe(false);
    await iam.send(new DeleteUserPolicyCommand({ UserName: 'deploy-bot', PolicyName: 'quarantine' }));
    expect(Object.keys(cloud.world.iam.users[0].inlinePolicies)).toEqual(['read-artifacts']);
    expect(isKeyUsable(cloud.world, KEY1)).toBe(true);
  });

  it.each([
    ['not JSON', '{"Version": "2012-10-17", "Statement": [', 'MalformedPolicyDocumentException', 'Syntax errors in policy.'],
    [
      'no Effect',
      JSON.stringify({ Version: '2012-10-17', Statement: [{ Action: '*', Resource: '*' }] }),
      'MalformedPolicyDocumentException',
      'Syntax errors in policy.',
    ],
    [
      'a Principal',
      JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: '*', Action: '*', Resource: '*' }] }),
      'MalformedPolicyDocumentException',
      'Policy document should not specify a principal.',
    ],
    [
      'too large for a user',
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: Array.from({ length: 200 }, (_, i) => `s3:Action${i}`), Resource: '*' }],
      }),
      'LimitExceededException',
      'Maximum policy size of 2048 bytes exceeded for user deploy-bot',
    ],
  ])('PutUserPolicy with %s is refused (%s) and changes nothing', async (_what, doc, code, message) => {
    const { cloud, iam } = setup();
    const before = structuredClone(cloud.world.iam);
    const err = await errorOf(iam.send(new PutUserPolicyCommand({ UserName: 'deploy-bot', PolicyName: 'p', PolicyDocument: doc })));
    expect([err.name, err.message]).toEqual([code, message]);
    expect(cloud.world.iam).toEqual(before);
  });

  it('Get/DeleteUserPolicy of an absent policy is NoSuchEntity', async () => {
    const { iam } = setup();
    const get = await errorOf(iam.send(new GetUserPolicyCommand({ UserName: 'deploy-bot', PolicyName: 'nope' })));
    expect([get.name, get.message]).toEqual(['NoSuchEntityException', 'The user policy with name nope cannot be found.']);
    expect((await errorOf(iam.send(new DeleteUserPolicyCommand({ UserName: 'deploy-bot', PolicyName: 'nope' })))).name).toBe(
      'NoSuchEntityException',
    );
  });

  it('AttachUserPolicy of AWSDenyAll contains the user; attaching twice is a no-op; DetachUserPolicy undoes it', async () => {
    const { cloud, iam } = setup();
    const arn = 'arn:aws:iam::aws:policy/AWSDenyAll';
    await iam.send(new AttachUserPolicyCommand({ UserName: 'deploy-bot', PolicyArn: arn }));
    await iam.send(new AttachUserPolicyCommand({ UserName: 'deploy-bot', PolicyArn: arn }));
    expect((await iam.send(new ListAttachedUserPoliciesCommand({ UserName: 'deploy-bot' }))).AttachedPolicies).toEqual([
      { PolicyName: 'AWSDenyAll', PolicyArn: arn },
    ]);
    expect(isKeyUsable(cloud.world, KEY1)).toBe(false);

    await iam.send(new DetachUserPolicyCommand({ UserName: 'deploy-bot', PolicyArn: arn }));
    expect(cloud.world.iam.users[0].attachedPolicies).toEqual([]);
    expect(isKeyUsable(cloud.world, KEY1)).toBe(true);
    const again = await errorOf(iam.send(new DetachUserPolicyCommand({ UserName: 'deploy-bot', PolicyArn: arn })));
    expect([again.name, again.message]).toEqual(['NoSuchEntityException', `Policy ${arn} was not found.`]);
  });

  it('AttachUserPolicy of a policy that does not exist is NoSuchEntity and attaches nothing', async () => {
    const { cloud, iam } = setup();
    const arn = 'arn:aws:iam::aws:policy/NoSuchPolicy';
    const err = await errorOf(iam.send(new AttachUserPolicyCommand({ UserName: 'deploy-bot', PolicyArn: arn })));
    expect([err.name, err.message]).toEqual(['NoSuchEntityException', `Policy ${arn} does not exist or is not attachable.`]);
    expect(cloud.world.iam.users[0].attachedPolicies).toEqual([]);
  });
});

describe('IAM roles and instance profiles', () => {
  it('GetRole returns the trust policy URL-encoded and the role ARN with its path', async () => {
    const { iam } = setup();
    const { Role } = await iam.send(new GetRoleCommand({ RoleName: SLR }));
    expect(Role).toMatchObject({ RoleName: SLR, Path: '/aws-service-role/autoscaling.amazonaws.com/', MaxSessionDuration: 3600 });
    expect(Role!.Arn).toBe(`arn:aws:iam::${ACCOUNT}:role/aws-service-role/autoscaling.amazonaws.com/${SLR}`);
    expect(Role!.RoleId).toMatch(/^AROA/);
    expect(decode(Role!.AssumeRolePolicyDocument).Statement[0].Principal).toEqual({ Service: 'autoscaling.amazonaws.com' });
    const err = await errorOf(iam.send(new GetRoleCommand({ RoleName: 'ghost' })));
    expect([err.name, err.message, err.$metadata?.httpStatusCode]).toEqual([
      'NoSuchEntityException',
      'The role with name ghost cannot be found.',
      404,
    ]);
  });

  it('IAM and STS name the same entities by the same unique ids', async () => {
    const { cloud, iam } = setup();
    const sts = clientFor(cloud, STSClient);
    const { Role } = await iam.send(new GetRoleCommand({ RoleName: 'web-app-role' }));
    const assumed = await sts.send(new AssumeRoleCommand({ RoleArn: Role!.Arn!, RoleSessionName: 'check' }));
    expect(assumed.AssumedRoleUser?.AssumedRoleId).toBe(`${Role!.RoleId}:check`);
    const { User } = await iam.send(new GetUserCommand({ UserName: 'responder' }));
    expect((await sts.send(new GetCallerIdentityCommand({}))).UserId).toBe(User!.UserId);
  });

  it('PutRolePolicy, GetRolePolicy, ListRolePolicies and DeleteRolePolicy work on an ordinary role', async () => {
    const { cloud, iam } = setup();
    const doc = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 's3:*', Resource: '*' }] });
    await iam.send(new PutRolePolicyCommand({ RoleName: 'web-app-role', PolicyName: 'no-s3', PolicyDocument: doc }));
    expect((await iam.send(new ListRolePoliciesCommand({ RoleName: 'web-app-role' }))).PolicyNames).toEqual(['no-s3', 'read-artifacts']);
    const got = await iam.send(new GetRolePolicyCommand({ RoleName: 'web-app-role', PolicyName: 'no-s3' }));
    expect(got).toMatchObject({ RoleName: 'web-app-role', PolicyName: 'no-s3' });
    expect(decodeURIComponent(got.PolicyDocument!)).toBe(doc);
    await iam.send(new DeleteRolePolicyCommand({ RoleName: 'web-app-role', PolicyName: 'no-s3' }));
    expect(Object.keys(cloud.world.iam.roles[0].inlinePolicies)).toEqual(['read-artifacts']);
    const gone = await errorOf(iam.send(new GetRolePolicyCommand({ RoleName: 'web-app-role', PolicyName: 'no-s3' })));
    expect([gone.name, gone.message]).toEqual(['NoSuchEntityException', 'The role policy with name no-s3 cannot be found.']);
  });

  it('Attach/Detach/ListAttachedRolePolicies manage an ordinary role', async () => {
    const { cloud, iam } = setup();
    await iam.send(new AttachRolePolicyCommand({ RoleName: 'web-app-role', PolicyArn: 'arn:aws:iam::aws:policy/AWSDenyAll' }));
    expect((await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: 'web-app-role' }))).AttachedPolicies).toEqual([
      { PolicyName: 'AWSDenyAll', PolicyArn: 'arn:aws:iam::aws:policy/AWSDenyAll' },
    ]);
    await iam.send(new DetachRolePolicyCommand({ RoleName: 'web-app-role', PolicyArn: 'arn:aws:iam::aws:policy/AWSDenyAll' }));
    expect(cloud.world.iam.roles[0].attachedPolicies).toEqual([]);
  });

  const deny = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: '*', Resource: '*' }] });
  it.each([
    ['PutRolePolicy', () => new PutRolePolicyCommand({ RoleName: SLR, PolicyName: 'AWSRevokeOlderSessions', PolicyDocument: deny })],
    ['DeleteRolePolicy', () => new DeleteRolePolicyCommand({ RoleName: SLR, PolicyName: 'service-policy' })],
    ['AttachRolePolicy', () => new AttachRolePolicyCommand({ RoleName: SLR, PolicyArn: 'arn:aws:iam::aws:policy/AWSDenyAll' })],
    ['DetachRolePolicy', () => new DetachRolePolicyCommand({ RoleName: SLR, PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' })],
    ['UpdateAssumeRolePolicy', () => new UpdateAssumeRolePolicyCommand({ RoleName: SLR, PolicyDocument: JSON.stringify(ACCOUNT_TRUST) })],
  ])('%s on a service-linked role is UnmodifiableEntity (400) and changes nothing', async (_op, command) => {
    const { cloud, iam } = setup();
    const before = structuredClone(cloud.world.iam);
    const err = await errorOf(iam.send(command() as any));
    expect(err.name).toBe('UnmodifiableEntityException');
    expect(err.message).toBe(`Cannot perform the operation on the protected role '${SLR}' - this role is only modifiable by AWS`);
    expect(err.$metadata?.httpStatusCode).toBe(400);
    expect(cloud.world.iam).toEqual(before);
  });

  it('UpdateAssumeRolePolicy replaces the trust policy and so who may assume the role', async () => {
    const { cloud, iam } = setup();
    const caller = `arn:aws:iam::${ACCOUNT}:user/deploy-bot`;
    expect(trustPolicyAllows(cloud.world, 'web-app-role', caller)).toBe(true);
    await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'web-app-role', PolicyDocument: JSON.stringify(EC2_TRUST) }));
    expect(trustPolicyAllows(cloud.world, 'web-app-role', caller)).toBe(false);
    expect(trustPolicyAllows(cloud.world, 'web-app-role', 'ec2.amazonaws.com')).toBe(true);
  });

  it('UpdateAssumeRolePolicy refuses a trust policy without a Principal and keeps the old one', async () => {
    const { cloud, iam } = setup();
    const before = cloud.world.iam.roles[0].trustPolicy;
    const err = await errorOf(iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'web-app-role', PolicyDocument: READ_S3 })));
    expect([err.name, err.message]).toEqual(['MalformedPolicyDocumentException', 'Missing required field Principal']);
    expect(cloud.world.iam.roles[0].trustPolicy).toEqual(before);
  });

  it('GetInstanceProfile, ListInstanceProfiles and ListInstanceProfilesForRole show the profile and its role', async () => {
    const { iam } = setup();
    const { InstanceProfile } = await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: 'web-app-profile' }));
    expect(InstanceProfile).toMatchObject({
      InstanceProfileName: 'web-app-profile',
      Arn: `arn:aws:iam::${ACCOUNT}:instance-profile/web-app-profile`,
    });
    expect(InstanceProfile!.InstanceProfileId).toMatch(/^AIPA/);
    expect(InstanceProfile!.Roles?.map((r) => r.RoleName)).toEqual(['web-app-role']);
    expect((await iam.send(new ListInstanceProfilesCommand({}))).InstanceProfiles?.map((p) => p.InstanceProfileName)).toEqual([
      'web-app-profile',
    ]);
    expect(
      (await iam.send(new ListInstanceProfilesForRoleCommand({ RoleName: 'web-app-role' }))).InstanceProfiles?.map(
        (p) => p.InstanceProfileName,
      ),
    ).toEqual(['web-app-profile']);
    expect((await iam.send(new ListInstanceProfilesForRoleCommand({ RoleName: SLR }))).InstanceProfiles).toEqual([]);
    const err = await errorOf(iam.send(new GetInstanceProfileCommand({ InstanceProfileName: 'ghost' })));
    expect([err.name, err.message]).toEqual(['NoSuchEntityException', 'Instance Profile ghost cannot be found.']);
  });
});

describe('role sessions and "revoke active sessions"', () => {
  const roleArn = `arn:aws:iam::${ACCOUNT}:role/web-app-role`;
  const revokeBefore = (iso: string) =>
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Deny', Action: ['*'], Resource: ['*'], Condition: { DateLessThan: { 'aws:TokenIssueTime': iso } } }],
    });

  it('a session issued before the revocation time is refused; one issued after it stays valid', async () => {
    const { cloud, iam } = setup();
    const old = recordRoleSession(cloud.world, {
      roleArn,
      accessKeyId: 'ASIAOLDSESSION000001',
      issuedAt: '2026-01-01T00:00:00Z',
      sessionName: 'i-0abc123def4567890',
    });
    expect(cloud.world.iam.sessions).toHaveLength(1);
    expect(isSessionValid(cloud.world, old, new Date('2026-01-01T00:10:00Z'))).toBe(true);

    await iam.send(
      new PutRolePolicyCommand({
        RoleName: 'web-app-role',
        PolicyName: 'AWSRevokeOlderSessions',
        PolicyDocument: revokeBefore('2026-01-01T00:10:00.000Z'),
      }),
    );
    const fresh = recordRoleSession(cloud.world, { roleArn, accessKeyId: 'ASIANEWSESSION000001', issuedAt: '2026-01-01T00:11:00Z' });

    const now = new Date('2026-01-01T00:12:00Z');
    expect(isSessionValid(cloud.world, old, now)).toBe(false);
    expect(sessionStatus(cloud.world, old, now).reason).toBe('denied by inline policy AWSRevokeOlderSessions of role web-app-role');
    expect(isSessionValid(cloud.world, fresh, now)).toBe(true);
    expect(isKeyUsable(cloud.world, 'ASIAOLDSESSION000001', now)).toBe(false);
    expect(isKeyUsable(cloud.world, 'ASIANEWSESSION000001', now)).toBe(true);
    // The revocation does not stop AssumeRole: the trust policy still lets the account in.
    expect(trustPolicyAllows(cloud.world, roleArn, `arn:aws:iam::${ACCOUNT}:user/deploy-bot`)).toBe(true);
    // Nor does it touch long-term keys: they carry no token issue time.
    expect(isKeyUsable(cloud.world, KEY1, now)).toBe(true);
  });

  it('a session ends when it expires, when its role is deleted, or when AWSDenyAll is attached to the role', async () => {
    const { cloud, iam } = setup();
    const s = recordRoleSession(cloud.world, {
      roleArn,
      accessKeyId: 'ASIASESSION000000001',
      issuedAt: '2026-01-01T00:00:00Z',
      expiresAt: '2026-01-01T01:00:00Z',
    });
    expect(isSessionValid(cloud.world, s, new Date('2026-01-01T00:59:59Z'))).toBe(true);
    expect(sessionStatus(cloud.world, s, new Date('2026-01-01T01:00:00Z'))).toEqual({ valid: false, reason: 'session expired' });

    await iam.send(new AttachRolePolicyCommand({ RoleName: 'web-app-role', PolicyArn: 'arn:aws:iam::aws:policy/AWSDenyAll' }));
    expect(isSessionValid(cloud.world, s, new Date('2026-01-01T00:30:00Z'))).toBe(false);

    cloud.world.iam.roles.splice(0, 1);
    expect(sessionStatus(cloud.world, 'ASIASESSION000000001', new Date('2026-01-01T00:30:00Z')).reason).toBe(
      'role web-app-role no longer exists',
    );
  });

  it('a trust policy changed to deny the principal stops new sessions', () => {
    const { cloud } = setup();
    const who = `arn:aws:sts::${ACCOUNT}:assumed-role/web-app-role/attacker`;
    expect(trustPolicyAllows(cloud.world, 'web-app-role', who)).toBe(true);
    cloud.world.iam.roles[0].trustPolicy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [...ACCOUNT_TRUST.Statement, { Effect: 'Deny', Principal: { AWS: roleArn }, Action: 'sts:AssumeRole' }],
    });
    expect(trustPolicyAllows(cloud.world, 'web-app-role', who)).toBe(false);
    expect(trustPolicyAllows(cloud.world, 'web-app-role', `arn:aws:iam::${ACCOUNT}:user/deploy-bot`)).toBe(true);
  });
});

describe('IAM slice schema', () => {
  it('fills defaults so a world may omit the slice', () => {
    expect(schema.parse(undefined)).toEqual({ users: [], roles: [], instanceProfiles: [], policies: [], sessions: [] });
  });

  it.each([
    ['duplicate user names', { users: [{ name: 'a' }, { name: 'A' }] }, 'duplicate user name'],
    ['a malformed access key id', { users: [{ name: 'a', accessKeys: [{ id: 'not-a-key' }] }] }, 'AKIA followed by 16'],
    ['an unknown field', { users: [{ name: 'a', Accesskeys: [] }] }, 'Unrecognized key'],
    ['a profile naming a missing role', { instanceProfiles: [{ name: 'p', roles: ['nope'] }] }, "no role named 'nope'"],
    ['three access keys', { users: [{ name: 'a', accessKeys: [{ id: KEY1 }, { id: KEY2 }, { id: 'AKIAAAAAAAAAAAAAAAAB' }] }] }, 'Too big'],
  ])('rejects %s', (_what, slice, message) => {
    const r = schema.safeParse(slice);
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain(message);
  });
});
