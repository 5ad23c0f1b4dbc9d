/**
 * Cross-account response: the clients act through a role assumed with the SDK's own provider,
 * from the --profile credentials, once per run; the CLI's --role-arn/--external-id end to end.
 */
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { ListUsersCommand } from '@aws-sdk/client-iam';
import { parse, stringify } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createClients } from '../../src/cloud/clients.js';
import { createSimCloud, worldSchema, type World } from '../../src/sim/index.js';
import { cli, journal, mutatingCalls, runIds, tempHome } from '../helpers/cli.js';
import { WORLD_YAML } from '../actions/iam-harness.js';

const ACCOUNT = '111122223333';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/ir-responder`;

/** The test world plus a responder role that the on-call user (or ci-bot, when said) may assume with an external id. */
function worldYaml(opts: { trust?: string; plan?: string } = {}): any {
  const w = parse(WORLD_YAML);
  w.iam.roles.push({
    name: 'ir-responder',
    trustPolicy: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: opts.trust ?? `arn:aws:iam::${ACCOUNT}:user/oncall-responder` },
          Action: 'sts:AssumeRole',
          Condition: { StringEquals: { 'sts:ExternalId': 'ir-7f3a' } },
        },
      ],
    },
  });
  if (opts.plan) w.support.plan = opts.plan;
  // STS sets Expiration by the world's clock and the SDK judges it by the machine's: start the world now.
  w.time = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return w;
}

describe('createClients with assumeRole', () => {
  let saved: NodeJS.ProcessEnv;
  beforeEach(() => {
    saved = { ...process.env };
  });
  afterEach(() => {
    process.env = saved;
  });

  it('assumes the role once with the --profile credentials, and every client signs as the role session', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fb-profile-'));
    // ci-bot's long-term key is the source profile; only ci-bot is trusted, so success proves which credentials signed AssumeRole.
    writeFileSync(
      join(dir, 'credentials'),
      '[ir-source]\naws_access_key_id = AKIAIOSFODNN7CIBOT01\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n',
    );
    writeFileSync(join(dir, 'config'), '[profile ir-source]\nregion = us-east-1\n');
    process.env.AWS_SHARED_CREDENTIALS_FILE = join(dir, 'credentials');
    process.env.AWS_CONFIG_FILE = join(dir, 'config');
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    delete process.env.AWS_PROFILE;

    const sim = createSimCloud(worldSchema.parse(worldYaml({ trust: `arn:aws:iam::${ACCOUNT}:user/ci-bot` })) as World);
    const aws = createClients({
      region: 'us-east-1',
      profile: 'ir-source',
      plugins: [sim.plugin],
      maxAttempts: 1,
      assumeRole: { roleArn: ROLE_ARN, externalId: 'ir-7f3a', sessionName: 'firebreak-20260101-000000-abcdef', plugins: [sim.plugin] },
    });
    const [id] = await Promise.all([
      aws.sts.send(new GetCallerIdentityCommand({})),
      aws.ec2.send(new DescribeInstancesCommand({})),
      aws.iam.send(new ListUsersCommand({})).catch(() => undefined), // not simulated; only its signature matters here
    ]);
    expect(id.Arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/ir-responder/firebreak-20260101-000000-abcdef`);
    const assumes = sim.calls.filter((c) => c.operation === 'AssumeRole');
    expect(assumes).toHaveLength(1);
    expect(assumes[0]!.input).toMatchObject({
      RoleArn: ROLE_ARN,
      RoleSessionName: 'firebreak-20260101-000000-abcdef',
      ExternalId: 'ir-7f3a',
    });
    expect((sim.world.iam.sessions as any[]).filter((s) => s.sessionName === 'firebreak-20260101-000000-abcdef')).toHaveLength(1);
  });

  it('asks for the MFA code of the given device and sends it with AssumeRole', async () => {
    const w = worldYaml();
    const sim = createSimCloud(worldSchema.parse(w) as World);
    const asked: string[] = [];
    const aws = createClients({
      region: 'us-east-1',
      credentials: sim.credentials,
      plugins: [sim.plugin],
      maxAttempts: 1,
      assumeRole: {
        roleArn: ROLE_ARN,
        externalId: 'ir-7f3a',
        sessionName: 'firebreak-mfa',
        mfaSerial: `arn:aws:iam::${ACCOUNT}:mfa/oncall`,
        mfaCode: async (serial) => {
          asked.push(serial);
          return '123456';
        },
        plugins: [sim.plugin],
      },
    });
    await aws.sts.send(new GetCallerIdentityCommand({}));
    expect(asked).toEqual([`arn:aws:iam::${ACCOUNT}:mfa/oncall`]);
    expect(sim.calls.find((c) => c.operation === 'AssumeRole')!.input).toMatchObject({
      SerialNumber: `arn:aws:iam::${ACCOUNT}:mfa/oncall`,
      TokenCode: '123456',
    });
  });
});

describe('firebreak run --role-arn', () => {
  const setup = (opts: { trust?: string } = {}) => {
    const home = tempHome();
    const world = join(home, 'world.yaml');
    writeFileSync(world, stringify(worldYaml({ ...opts, plan: 'business' })));
    return { home, world };
  };
  const args = (world: string, ...extra: string[]) => [
    'run',
    'iam-credential-compromise',
    '--sim',
    world,
    '--auto',
    '--input',
    'roleName=web-app-role',
    ...extra,
  ];

  it('acts as the assumed role: the journal names the role session, and the AssumeRole call is journaled with the run id as session name', async () => {
    const { home, world } = setup();
    const r = await cli(args(world, '--role-arn', ROLE_ARN, '--external-id', 'ir-7f3a'), { home });
    expect(r.code, r.stderr).toBe(3); // waits at the CloudTrail review, a manual task
    const [runId] = runIds(home);
    const events = journal(home, runId!);
    expect(events.find((e) => e.type === 'run.identity')).toMatchObject({
      arn: `arn:aws:sts::${ACCOUNT}:assumed-role/ir-responder/firebreak-${runId}`,
    });
    const assume = events.filter((e) => e.type === 'aws.call' && e.operation === 'AssumeRole');
    expect(assume).toHaveLength(1);
    expect(assume[0]!.input).toMatchObject({ RoleArn: ROLE_ARN, RoleSessionName: `firebreak-${runId}`, ExternalId: 'ir-7f3a' });
    expect(mutatingCalls(events)).toEqual(['sts:AssumeRole', 'iam:PutRolePolicy', 'support:CreateCase']);
    expect(events.at(-1)).toMatchObject({ type: 'run.waiting', step: 'reviewCloudTrail' });
  });

  it('a wrong external id fails the run before any change', async () => {
    const { home, world } = setup();
    const r = await cli(args(world, '--role-arn', ROLE_ARN, '--external-id', 'wrong-id'), { home });
    expect(r.code).toBe(1);
    const [runId] = runIds(home);
    const events = journal(home, runId!);
    expect(events.find((e) => e.type === 'aws.call' && e.operation === 'AssumeRole')).toMatchObject({ error: { code: 'AccessDenied' } });
    expect(mutatingCalls(events).filter((c) => c !== 'sts:AssumeRole')).toEqual([]);
  });

  it.each([
    ['a malformed role ARN', ['--role-arn', 'ir-responder'], /is not a role ARN/],
    ['--external-id without --role-arn', ['--external-id', 'ir-7f3a'], /only applies with --role-arn/],
    [
      '--mfa-serial in --auto',
      ['--role-arn', ROLE_ARN, '--mfa-serial', `arn:aws:iam::${ACCOUNT}:mfa/oncall`],
      /needs a person at the terminal/,
    ],
  ])('rejects %s with exit 2 and no run', async (_name, extra, message) => {
    const { home, world } = setup();
    const r = await cli(args(world, ...extra), { home });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(existsSync(join(home, 'runs'))).toBe(false);
  });
});
