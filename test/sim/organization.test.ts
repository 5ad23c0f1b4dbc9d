/**
 * A world of several accounts and Regions (worlds/organization.yaml), through the real SDK
 * clients: each request is answered by the account of its credentials in its client's Region,
 * and AssumeRole across accounts checks what AWS checks.
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EC2Client, CreateTagsCommand, DescribeInstancesCommand, DescribeVpcsCommand } from '@aws-sdk/client-ec2';
import { IAMClient, GetRoleCommand } from '@aws-sdk/client-iam';
import { STSClient, AssumeRoleCommand, GetCallerIdentityCommand, type AssumeRoleCommandInput } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@smithy/types';
import { createSimCloud, issueRoleSession, loadWorld, parseWorld, type SimCloud, type World } from '../../src/sim/index.js';
import { scopesOf } from '../../src/sim/scopes.js';
import { changeLogPath } from '../../src/sim/change-log.js';
import { InputError } from '../../src/core/errors.js';
import { DEMO_FILE, DEMO_TEXT, rejection } from './helpers.js';

const ORG_FILE = fileURLToPath(new URL('../../worlds/organization.yaml', import.meta.url));
const ORG_TEXT = readFileSync(ORG_FILE, 'utf8');

const FIREBREAK = 'arn:aws:sts::111122223333:assumed-role/Firebreak/firebreak-serve';
const RESPONDER_A = 'arn:aws:iam::222222222222:role/FirebreakResponder';
const RESPONDER_B = 'arn:aws:iam::333333333333:role/FirebreakResponder';
const EXTERNAL_A = 'firebreak-222222222222-7f3a9c';
const EXTERNAL_B = 'firebreak-333333333333-0b41d2';
const COMPROMISED = 'i-0c0ffee0000000001';
const DECOY = 'i-0deca0de000000001';

const orgWorld = (edit?: (w: World) => void) => {
  const w = parseWorld(ORG_TEXT, ORG_FILE);
  edit?.(w);
  return w;
};
const json = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;
const member = (w: World, id: string) => w.accounts!.find((a) => a.id === id)!;

function clients(sim: SimCloud, region: string, credentials: AwsCredentialIdentity = sim.credentials) {
  const ec2 = new EC2Client({ region, credentials, maxAttempts: 1 });
  const sts = new STSClient({ region, credentials, maxAttempts: 1 });
  for (const c of [ec2, sts]) c.middlewareStack.use(sim.plugin as never);
  return { ec2, sts };
}

async function assume(sim: SimCloud, input: Partial<AssumeRoleCommandInput> = {}) {
  const { sts } = clients(sim, 'us-east-1');
  const r = await sts.send(new AssumeRoleCommand({ RoleArn: RESPONDER_A, RoleSessionName: 'run-1', ExternalId: EXTERNAL_A, ...input }));
  const c = r.Credentials!;
  return { r, creds: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! } };
}

async function instanceIds(ec2: EC2Client): Promise<string[]> {
  const r = await ec2.send(new DescribeInstancesCommand({}));
  return (r.Reservations ?? []).flatMap((res) => res.Instances ?? []).map((i) => i.InstanceId!);
}

describe('an organization world', () => {
  it('declares its accounts and Regions; a single-account world gains no field', () => {
    expect(scopesOf(orgWorld())).toEqual([
      { account: '111122223333', region: 'us-east-1' },
      { account: '222222222222', region: 'eu-west-1' },
      { account: '222222222222', region: 'us-east-1' },
      { account: '333333333333', region: 'us-east-1' },
    ]);
    const demo = parseWorld(DEMO_TEXT, DEMO_FILE);
    expect(Object.keys(demo)).not.toContain('accounts');
    expect(Object.keys(demo)).not.toContain('regions');
    expect(scopesOf(demo)).toEqual([{ account: '111122223333', region: 'us-east-1' }]);
  });

  it.each([
    ['the home account listed again', 'accounts:\n  - id: "111122223333"\n', 'accounts.0.id', /is the home account/],
    [
      'an account listed twice',
      'accounts:\n  - id: "222222222222"\n  - id: "222222222222"\n',
      'accounts.1.id',
      /duplicate account 222222222222/,
    ],
    ['the home Region under regions', 'regions:\n  us-east-1: {}\n', 'regions.us-east-1', /is the home Region/],
    [
      'a slice in the wrong scope',
      'accounts:\n  - id: "222222222222"\n    regions:\n      eu-west-1:\n        iam: {}\n',
      'accounts.0.regions.eu-west-1.iam',
      /unknown field 'iam'/,
    ],
  ])('refuses %s, naming the field', (_, extra, field, message) => {
    let err: unknown;
    try {
      parseWorld(`account: { id: "111122223333" }\n${extra}`, 'org.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toMatch(message);
    expect((err as InputError & { field?: string }).field).toBe(field);
  });
});

describe('requests answered by their account and Region', () => {
  it("answers with the credentials' account in the client's Region", async () => {
    const sim = createSimCloud(orgWorld());
    const { creds } = await assume(sim);
    expect(await instanceIds(clients(sim, 'us-east-1').ec2)).toEqual([DECOY]);
    expect(await instanceIds(clients(sim, 'eu-west-1', creds).ec2)).toEqual([COMPROMISED, DECOY]);
    expect(await instanceIds(clients(sim, 'us-east-1', creds).ec2)).toEqual(['i-0222a0000000000c1']);
    expect(sim.calls.slice(-3).map((c) => [c.account, c.region])).toEqual([
      ['111122223333', 'us-east-1'],
      ['222222222222', 'eu-west-1'],
      ['222222222222', 'us-east-1'],
    ]);
  });

  it('does not find an instance of another account or Region (InvalidInstanceID.NotFound)', async () => {
    const sim = createSimCloud(orgWorld());
    const { creds } = await assume(sim);
    for (const ec2 of [clients(sim, 'us-east-1').ec2, clients(sim, 'us-east-1', creds).ec2]) {
      const err = await rejection(ec2.send(new DescribeInstancesCommand({ InstanceIds: [COMPROMISED] })));
      expect([err.name, err.message, err.$metadata.httpStatusCode]).toEqual([
        'InvalidInstanceID.NotFound',
        `The instance ID '${COMPROMISED}' does not exist`,
        400,
      ]);
    }
  });

  it("changes the instance of the request's own account when the same id exists in another", async () => {
    const sim = createSimCloud(orgWorld());
    const { creds } = await assume(sim);
    const security = json(sim.world.ec2);
    await clients(sim, 'eu-west-1', creds).ec2.send(
      new CreateTagsCommand({ Resources: [DECOY], Tags: [{ Key: 'quarantine', Value: 'INC-7' }] }),
    );
    const tagged = member(sim.world, '222222222222').regions['eu-west-1']!.ec2.instances.find((i) => i.id === DECOY)!;
    expect(tagged.tags).toMatchObject({ quarantine: 'INC-7' });
    expect(json(sim.world.ec2)).toEqual(security);
  });

  it('refuses a client for a Region the world does not declare for the account, naming what to add', async () => {
    const sim = createSimCloud(orgWorld());
    await expect(clients(sim, 'eu-west-1').ec2.send(new DescribeVpcsCommand({}))).rejects.toThrow(
      "the simulated cloud holds Region us-east-1 only in account 111122223333; this EC2Client was built for eu-west-1 (declare it under the world's top-level 'regions')",
    );
  });

  it('answers account-wide services (IAM, STS) from any Region, in the account of the credentials', async () => {
    const sim = createSimCloud(orgWorld());
    const { creds } = await assume(sim);
    // STS has regional endpoints; the security account declares no eu-west-1 resources, and need not.
    const who = await clients(sim, 'eu-west-1').sts.send(new GetCallerIdentityCommand({}));
    expect(who.Account).toBe('111122223333');
    const iamAs = (credentials: AwsCredentialIdentity) => {
      const { plugins, ...cfg } = sim.clientOptionsFor({ region: 'eu-west-1', credentials });
      const iam = new IAMClient({ ...cfg, maxAttempts: 1 });
      for (const p of plugins) iam.middlewareStack.use(p);
      return iam;
    };
    const role = await iamAs(creds).send(new GetRoleCommand({ RoleName: 'FirebreakResponder' }));
    expect(role.Role!.Arn).toBe(RESPONDER_A);
    const err = await rejection(iamAs(sim.credentials).send(new GetRoleCommand({ RoleName: 'FirebreakResponder' })));
    expect([err.name, err.message]).toEqual(['NoSuchEntityException', 'The role with name FirebreakResponder cannot be found.']);
  });

  it('answers a home-account client of another declared Region from that Region', async () => {
    const sim = createSimCloud(
      orgWorld((w) => {
        w.regions = { 'eu-west-1': member(w, '333333333333').regions['us-east-1']! };
      }),
    );
    expect(await instanceIds(clients(sim, 'eu-west-1').ec2)).toEqual(['i-0333a0000000000d1']);
    expect(await instanceIds(clients(sim, 'us-east-1').ec2)).toEqual([DECOY]);
  });
});

describe('AssumeRole across accounts', () => {
  it("issues credentials that act in the role's account, and GetCallerIdentity names the assumed role", async () => {
    const sim = createSimCloud(orgWorld());
    const before = await clients(sim, 'us-east-1').sts.send(new GetCallerIdentityCommand({}));
    expect([before.Arn, before.Account]).toEqual([FIREBREAK, '111122223333']);
    const { r, creds } = await assume(sim, { SourceIdentity: 'alice' });
    expect(r.AssumedRoleUser!.Arn).toBe('arn:aws:sts::222222222222:assumed-role/FirebreakResponder/run-1');
    expect(r.SourceIdentity).toBe('alice');
    const who = await clients(sim, 'eu-west-1', creds).sts.send(new GetCallerIdentityCommand({}));
    expect([who.Arn, who.Account]).toEqual(['arn:aws:sts::222222222222:assumed-role/FirebreakResponder/run-1', '222222222222']);
    expect(who.UserId).toMatch(/^AROA[A-Z2-7]{17}:run-1$/);
    // The session lives in the role's account, with its source identity; the security account holds none.
    expect(member(sim.world, '222222222222').iam.sessions).toMatchObject([
      { roleArn: RESPONDER_A, accessKeyId: creds.accessKeyId, sessionName: 'run-1', sourceIdentity: 'alice' },
    ]);
    expect(sim.world.iam.sessions).toEqual([]);
  });

  it('honours an aws:PrincipalArn condition and a trust policy naming the account root', async () => {
    const sim = createSimCloud(orgWorld());
    const { r } = await assume(sim, { RoleArn: RESPONDER_B, ExternalId: EXTERNAL_B });
    expect(r.AssumedRoleUser!.Arn).toBe('arn:aws:sts::333333333333:assumed-role/FirebreakResponder/run-1');
  });

  const denied = (role: string, action = 'sts:AssumeRole') =>
    `User: ${FIREBREAK} is not authorized to perform: ${action} on resource: ${role}`;

  it.each<[string, Partial<AssumeRoleCommandInput>, string, ((w: World) => void)?]>([
    ['a wrong external id', { ExternalId: 'firebreak-guess' }, denied(RESPONDER_A)],
    ['no external id', { ExternalId: undefined }, denied(RESPONDER_A)],
    ["another account's external id", { ExternalId: EXTERNAL_B }, denied(RESPONDER_A)],
    [
      'a role whose trust does not name the caller',
      { RoleArn: 'arn:aws:iam::333333333333:role/LegacyAudit' },
      denied('arn:aws:iam::333333333333:role/LegacyAudit'),
    ],
    ['a role that does not exist', { RoleArn: 'arn:aws:iam::222222222222:role/Nope' }, denied('arn:aws:iam::222222222222:role/Nope')],
    [
      'an account the world does not hold',
      { RoleArn: 'arn:aws:iam::999999999999:role/FirebreakResponder' },
      denied('arn:aws:iam::999999999999:role/FirebreakResponder'),
    ],
    [
      'a caller whose own policies do not allow it (across accounts, both must)',
      {},
      denied(RESPONDER_A),
      (w) => {
        w.iam.roles.find((r) => r.name === 'Firebreak')!.inlinePolicies = {};
      },
    ],
    [
      'a source identity the trust policy does not let it set',
      { SourceIdentity: 'alice' },
      denied(RESPONDER_A, 'sts:SetSourceIdentity'),
      (w) => {
        const role = member(w, '222222222222').iam.roles[0]!;
        role.trustPolicy = JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: 'arn:aws:iam::111122223333:role/Firebreak' },
              Action: 'sts:AssumeRole',
              Condition: { StringEquals: { 'sts:ExternalId': EXTERNAL_A } },
            },
          ],
        });
      },
    ],
  ])('refuses %s with AccessDenied and changes nothing', async (_, input, message, edit) => {
    const world = orgWorld(edit);
    const sim = createSimCloud(world);
    const before = json(world);
    const err = await rejection(assume(sim, input));
    expect([err.name, err.message, err.$metadata.httpStatusCode, err.$fault]).toEqual(['AccessDenied', message, 403, 'client']);
    expect(json(world)).toEqual(before);
  });

  it.each([
    ['a one-character session name', 'r'],
    ['a session name with a space', 'run 1'],
    ['a session name longer than 64 characters', 'r'.repeat(65)],
  ])('refuses %s with ValidationError', async (_, RoleSessionName) => {
    const sim = createSimCloud(orgWorld());
    const err = await rejection(assume(sim, { RoleSessionName }));
    expect([err.name, err.message]).toEqual([
      'ValidationError',
      `1 validation error detected: Value '${RoleSessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`,
    ]);
    expect(member(sim.world, '222222222222').iam.sessions).toEqual([]);
  });

  it('keeps a source identity through a chained session, and refuses to change it', async () => {
    const sim = createSimCloud(
      orgWorld((w) => {
        // 222222222222's responder may go on to 333333333333's (role chaining).
        const b = member(w, '333333333333').iam.roles[0]!;
        b.trustPolicy = JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { AWS: RESPONDER_A }, Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'] }],
        });
        member(w, '222222222222').iam.roles[0]!.inlinePolicies.chain = {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'], Resource: RESPONDER_B }],
        };
      }),
    );
    const { creds } = await assume(sim, { SourceIdentity: 'alice' });
    const { sts } = clients(sim, 'us-east-1', creds);
    const err = await rejection(
      sts.send(new AssumeRoleCommand({ RoleArn: RESPONDER_B, RoleSessionName: 'run-1b', SourceIdentity: 'mallory' })),
    );
    expect([err.name, err.message]).toEqual([
      'AccessDenied',
      `User: arn:aws:sts::222222222222:assumed-role/FirebreakResponder/run-1 is not authorized to perform: sts:SetSourceIdentity on resource: ${RESPONDER_B}`,
    ]);
    const r = await sts.send(new AssumeRoleCommand({ RoleArn: RESPONDER_B, RoleSessionName: 'run-1b' }));
    expect(r.SourceIdentity).toBe('alice');
    expect(member(sim.world, '333333333333').iam.sessions).toMatchObject([{ sessionName: 'run-1b', sourceIdentity: 'alice' }]);
  });
});

describe('tabletop moves', () => {
  it("records a session the metadata service hands out in its role's account, acting there", async () => {
    const sim = createSimCloud(orgWorld());
    const { accessKeyId } = issueRoleSession(sim.world, {
      roleArn: RESPONDER_B,
      issuedAt: new Date('2026-01-01T00:00:00Z'),
      expiresAt: new Date('2026-01-01T06:00:00Z'),
      sessionName: 'i-0333a0000000000d1',
    });
    expect(member(sim.world, '333333333333').iam.sessions.map((x) => x.accessKeyId)).toEqual([accessKeyId]);
    const who = await clients(sim, 'us-east-1', { accessKeyId, secretAccessKey: 'x', sessionToken: 'y' }).sts.send(
      new GetCallerIdentityCommand({}),
    );
    expect([who.Arn, who.Account]).toEqual([
      'arn:aws:sts::333333333333:assumed-role/FirebreakResponder/i-0333a0000000000d1',
      '333333333333',
    ]);
  });
});

describe('request-rate budgets', () => {
  it('gives every account×Region its own EC2 budget', async () => {
    const now = 0;
    const sim = createSimCloud(
      orgWorld((w) => {
        w.rateLimits = { describe: { capacity: 2, refillPerSecond: 0 } };
      }),
      { wallClock: () => now },
    );
    const { creds } = await assume(sim);
    const scopes = [clients(sim, 'us-east-1').ec2, clients(sim, 'eu-west-1', creds).ec2, clients(sim, 'us-east-1', creds).ec2];
    for (const ec2 of scopes) {
      await ec2.send(new DescribeVpcsCommand({}));
      await ec2.send(new DescribeVpcsCommand({}));
    }
    for (const ec2 of scopes) {
      const err = await rejection(ec2.send(new DescribeVpcsCommand({})));
      expect([err.name, err.$metadata.httpStatusCode]).toEqual(['RequestLimitExceeded', 503]);
    }
    const limited = sim.calls.filter((c) => c.error === 'RequestLimitExceeded').map((c) => `${c.account}/${c.region}`);
    expect(limited).toEqual(['111122223333/us-east-1', '222222222222/eu-west-1', '222222222222/us-east-1']);
  });
});

describe('a persisted organization world', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'firebreak-org-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('logs each change with its account and Region, and replays it there', async () => {
    const file = join(dir, 'world.json');
    const sim = createSimCloud(orgWorld(), { persistTo: file });
    const { creds } = await assume(sim, { SourceIdentity: 'alice' });
    await clients(sim, 'eu-west-1', creds).ec2.send(
      new CreateTagsCommand({ Resources: [DECOY], Tags: [{ Key: 'quarantine', Value: 'INC-7' }] }),
    );
    await clients(sim, 'us-east-1').ec2.send(new CreateTagsCommand({ Resources: [DECOY], Tags: [{ Key: 'checked', Value: 'yes' }] }));

    const changes = readFileSync(changeLogPath(file), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(changes.map((c) => [c.operation, c.account, c.region])).toEqual([
      ['AssumeRole', '111122223333', 'us-east-1'],
      ['CreateTags', '222222222222', 'eu-west-1'],
      ['CreateTags', '111122223333', 'us-east-1'],
    ]);
    const replayed = await loadWorld(file);
    expect(json(replayed)).toEqual(json(sim.world));
    expect(member(replayed, '222222222222').regions['eu-west-1']!.ec2.instances.find((i) => i.id === DECOY)!.tags).toEqual({
      Name: 'payments-api-2',
      env: 'prod',
      quarantine: 'INC-7',
    });
    expect(replayed.ec2.instances[0]!.tags).toEqual({ Name: 'siem-collector', env: 'security', checked: 'yes' });
    await sim.close();
    expect(json(await loadWorld(file))).toEqual(json(sim.world));
  });
});
