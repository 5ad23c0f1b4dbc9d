import { describe, it, expect } from 'vitest';
import { EC2Client, DescribeVpcsCommand } from '@aws-sdk/client-ec2';
import { STSClient, GetCallerIdentityCommand, AssumeRoleCommand } from '@aws-sdk/client-sts';
import { PutRolePolicyCommand, UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import type { AwsCredentialIdentity } from '@smithy/types';
import { SimClock } from '../../src/core/clock.js';
import { parseWorld } from '../../src/sim/index.js';
import { harness, rejection, DEMO_TEXT } from './helpers.js';

const RESPONDER = 'arn:aws:iam::111122223333:user/oncall-responder';
const ROLE = 'arn:aws:iam::111122223333:role/incident-responder';
const LEAKED = 'AKIAEXAMPLELEAKED001';

// The demo world's own identities are replaced by this test's.
const WORLD = `${DEMO_TEXT.slice(0, DEMO_TEXT.indexOf('\n# Identities.'))}
iam:
  users:
    - name: ci-deployer
      accessKeys: [{ id: ${LEAKED} }]
  roles:
    - name: incident-responder
      maxSessionDuration: 7200
      trustPolicy:
        Version: "2012-10-17"
        Statement: [{ Effect: Allow, Principal: { AWS: "${RESPONDER}" }, Action: "sts:AssumeRole" }]
    - name: ec2-only
      trustPolicy:
        Version: "2012-10-17"
        Statement: [{ Effect: Allow, Principal: { Service: ec2.amazonaws.com }, Action: "sts:AssumeRole" }]
`;

function setup() {
  const clock = new SimClock('2026-01-01T00:00:00Z');
  const h = harness(parseWorld(WORLD, 'sts-world.yaml'), { clock });
  const as = <C extends { middlewareStack: { use(p: never): void } }>(
    Ctor: new (cfg: object) => C,
    credentials: AwsCredentialIdentity,
  ): C => {
    const c = new Ctor({ region: h.sim.region, credentials, maxAttempts: 1 });
    c.middlewareStack.use(h.sim.plugin as never);
    return c;
  };
  return { ...h, clock, as };
}

async function assume(sts: STSClient, DurationSeconds?: number) {
  const r = await sts.send(
    new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'responder-1', ...(DurationSeconds ? { DurationSeconds } : {}) }),
  );
  const c = r.Credentials!;
  return { r, creds: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! } };
}

describe('STS', () => {
  it('GetCallerIdentity names the world caller', async () => {
    const { sts } = setup();
    const r = await sts.send(new GetCallerIdentityCommand({}));
    expect([r.Arn, r.Account, r.UserId]).toEqual([RESPONDER, '111122223333', 'AIDAEXAMPLEONCALL0001']);
  });

  it('AssumeRole issues ASIA credentials for the role, recorded as a session in IAM', async () => {
    const { sts, world } = setup();
    const { r } = await assume(sts, 1800);
    expect(r.Credentials!.AccessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(r.Credentials!.SecretAccessKey).toHaveLength(40);
    expect(r.Credentials!.Expiration).toEqual(new Date('2026-01-01T00:30:00Z'));
    expect(r.AssumedRoleUser!.Arn).toBe('arn:aws:sts::111122223333:assumed-role/incident-responder/responder-1');
    expect(r.AssumedRoleUser!.AssumedRoleId).toMatch(/^AROA[A-Z2-7]+:responder-1$/);
    expect(world.iam.sessions).toMatchObject([
      { roleArn: ROLE, accessKeyId: r.Credentials!.AccessKeyId, sessionName: 'responder-1', expiresAt: '2026-01-01T00:30:00.000Z' },
    ]);
  });

  it.each([
    [
      'an unknown role',
      { RoleArn: 'arn:aws:iam::111122223333:role/nope', RoleSessionName: 's1' },
      'AccessDenied',
      /is not authorized to perform: sts:AssumeRole on resource/,
    ],
    [
      'a role in another account',
      { RoleArn: 'arn:aws:iam::999999999999:role/incident-responder', RoleSessionName: 's1' },
      'AccessDenied',
      /not authorized/,
    ],
    [
      'a role whose trust policy does not name the caller',
      { RoleArn: 'arn:aws:iam::111122223333:role/ec2-only', RoleSessionName: 's1' },
      'AccessDenied',
      /not authorized/,
    ],
    ['a bad session name', { RoleArn: ROLE, RoleSessionName: 'has space' }, 'ValidationError', /roleSessionName/],
    [
      'a duration over the role maximum',
      { RoleArn: ROLE, RoleSessionName: 's1', DurationSeconds: 7201 },
      'ValidationError',
      /MaxSessionDuration/,
    ],
  ])('AssumeRole refuses %s and issues nothing', async (_n, input, code, message) => {
    const { sts, world } = setup();
    const err = await rejection(sts.send(new AssumeRoleCommand(input)));
    expect(err.name).toBe(code);
    expect(err.message).toMatch(message);
    expect(world.iam.sessions).toEqual([]);
  });

  it('calls signed with session credentials act as the assumed role, until the session expires', async () => {
    const { sts, as, clock } = setup();
    const { creds } = await assume(sts, 900);
    const roleSts = as(STSClient, creds);
    expect((await roleSts.send(new GetCallerIdentityCommand({}))).Arn).toBe(
      'arn:aws:sts::111122223333:assumed-role/incident-responder/responder-1',
    );
    clock.advance(900_000);
    const err = await rejection(roleSts.send(new GetCallerIdentityCommand({})));
    expect([err.name, err.$metadata.httpStatusCode]).toEqual(['ExpiredToken', 400]);
    expect((await rejection(as(EC2Client, creds).send(new DescribeVpcsCommand({})))).name).toBe('RequestExpired');
  });

  it("revoking the role's older sessions stops the session (but GetCallerIdentity still answers)", async () => {
    const { sts, iam, as, clock } = setup();
    const { creds } = await assume(sts);
    const ec2 = as(EC2Client, creds);
    await ec2.send(new DescribeVpcsCommand({}));
    clock.advance(60_000);
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: 'incident-responder',
        PolicyName: 'AWSRevokeOlderSessions',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Deny',
              Action: ['*'],
              Resource: ['*'],
              Condition: { DateLessThan: { 'aws:TokenIssueTime': clock.now().toISOString() } },
            },
          ],
        }),
      }),
    );
    const err = await rejection(ec2.send(new DescribeVpcsCommand({})));
    expect([err.name, err.$metadata.httpStatusCode]).toEqual(['UnauthorizedOperation', 403]);
    expect(err.message).toMatch(
      /assumed-role\/incident-responder\/responder-1 is not authorized to perform: ec2:DescribeVpcs with an explicit deny/,
    );
    expect((await as(STSClient, creds).send(new GetCallerIdentityCommand({}))).Arn).toMatch(/assumed-role/);
  });

  it('long-term keys act as their user; a deactivated or unknown key is refused', async () => {
    const { iam, as, world } = setup();
    const leaked = { accessKeyId: LEAKED, secretAccessKey: 'x' };
    expect((await as(STSClient, leaked).send(new GetCallerIdentityCommand({}))).Arn).toBe('arn:aws:iam::111122223333:user/ci-deployer');
    expect(world.iam.users[0]!.accessKeys[0]!.lastUsed).toMatchObject({ service: 'sts', region: 'us-east-1' });
    await iam.send(new UpdateAccessKeyCommand({ UserName: 'ci-deployer', AccessKeyId: LEAKED, Status: 'Inactive' }));
    const err = await rejection(as(STSClient, leaked).send(new GetCallerIdentityCommand({})));
    expect([err.name, err.$metadata.httpStatusCode]).toEqual(['InvalidClientTokenId', 403]);
    const unknown = await rejection(
      as(EC2Client, { accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: 'x' }).send(new DescribeVpcsCommand({})),
    );
    expect([unknown.name, unknown.$metadata.httpStatusCode]).toEqual(['AuthFailure', 401]);
  });
});
