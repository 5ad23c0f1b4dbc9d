/**
 * The attacker acts through the simulated cloud with its own credentials: what the defence did
 * shows as AWS's own answers, and the attacker falls back on what still works.
 */
import { UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import { createClients } from '../../src/cloud/clients.js';
import { SimClock } from '../../src/core/clock.js';
import { createSimCloud, parseWorld } from '../../src/sim/index.js';
import { Attacker } from '../../src/tabletop/attacker.js';
import { seededRng } from '../../src/tabletop/rng.js';
import { AttackerSchema, AttackerActionSchema } from '../../src/tabletop/scenario.js';

const WORLD = `
account: { id: "111122223333" }
time: "2026-01-01T00:00:00Z"
iam:
  users:
    - name: ci-bot
      accessKeys: [{ id: AKIAIOSFODNN7CIBOT01 }]
  roles:
    - name: deployer
      trustPolicy:
        Version: "2012-10-17"
        Statement: [{ Effect: Allow, Principal: { AWS: "arn:aws:iam::111122223333:user/ci-bot" }, Action: "sts:AssumeRole" }]
`;

function setup() {
  const clock = new SimClock('2026-01-01T00:00:00Z');
  const sim = createSimCloud(parseWorld(WORLD, 'world.yaml'), { clock });
  const attacker = new Attacker(
    sim,
    AttackerSchema.parse({ addresses: ['203.0.113.66'], credentials: { leaked: { accessKeyId: 'AKIAIOSFODNN7CIBOT01' } } }),
    seededRng(1),
  );
  const responder = createClients({ region: sim.region, credentials: sim.credentials, plugins: [sim.plugin] });
  const act = (a: unknown) => attacker.perform(AttackerActionSchema.parse(a));
  return { sim, clock, attacker, responder, act };
}

describe('Attacker', () => {
  it('creates a second key for persistence, and falls back on it once the leaked key is deactivated', async () => {
    const { sim, attacker, responder, act } = setup();
    const [made] = await act({ 'create-access-key': { user: 'ci-bot', with: 'leaked', as: 'backdoor' } });
    expect(made!.ok).toBe(true);
    expect(made!.lesson).toContain('persistence');
    const backdoor = attacker.credentials.get('backdoor')!.accessKeyId;
    expect(sim.world.iam.users[0]!.accessKeys.map((k) => k.id)).toEqual(['AKIAIOSFODNN7CIBOT01', backdoor]);

    await responder.iam.send(new UpdateAccessKeyCommand({ UserName: 'ci-bot', AccessKeyId: 'AKIAIOSFODNN7CIBOT01', Status: 'Inactive' }));
    const tries = await act({
      call: { with: 'leaked', service: 'sts', operation: 'GetCallerIdentity' },
      otherwise: [{ call: { with: 'backdoor', service: 'sts', operation: 'GetCallerIdentity' } }],
    });
    expect(tries.map((t) => t.ok)).toEqual([false, true]);
    expect(tries[0]!.text).toContain('InvalidClientTokenId: The security token included in the request is invalid.');
    expect(tries[0]!.lesson).toContain('AWS no longer accepts AKIAIOSFODNN7CIBOT01');
    expect(attacker.usableCredentials().map((c) => c.name)).toEqual(['backdoor']);
  });

  it('a credential it failed to obtain is a failed move, not a crash', async () => {
    const { responder, act } = setup();
    await responder.iam.send(new UpdateAccessKeyCommand({ UserName: 'ci-bot', AccessKeyId: 'AKIAIOSFODNN7CIBOT01', Status: 'Inactive' }));
    const tries = await act({
      'create-access-key': { user: 'ci-bot', with: 'leaked', as: 'backdoor' },
      otherwise: [{ call: { with: 'backdoor', service: 'sts', operation: 'GetCallerIdentity' } }],
    });
    expect(tries.map((t) => [t.ok, t.text])).toEqual([
      [false, expect.stringContaining('create an access key for IAM user ci-bot with leaked (AKIAIOSFODNN7CIBOT01): InvalidClientTokenId')],
      [false, 'call with backdoor: the attacker never obtained backdoor'],
    ]);
  });

  it("assumes a role its user is trusted by; revoking the role's sessions stops that session, not a new AssumeRole", async () => {
    const { sim, clock, attacker, act } = setup();
    const [first] = await act({ 'assume-role': { role: 'deployer', with: 'leaked', as: 'deployer-session' } });
    expect(first!.ok).toBe(true);
    const old = attacker.credentials.get('deployer-session')!.accessKeyId;
    expect(old).toMatch(/^ASIA/);

    clock.advance(60_000);
    // What the IAM console's "Revoke active sessions" writes.
    sim.world.iam.roles[0]!.inlinePolicies.AWSRevokeOlderSessions = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Deny',
          Action: ['*'],
          Resource: ['*'],
          Condition: { DateLessThan: { 'aws:TokenIssueTime': clock.now().toISOString() } },
        },
      ],
    };
    const [denied] = await act({ call: { with: 'deployer-session', service: 'sts', operation: 'GetCallerIdentity' } });
    // GetCallerIdentity answers even under an explicit deny, as AWS does; any other call is refused.
    expect(denied!.ok).toBe(true);
    const [refused] = await act({
      call: { with: 'deployer-session', service: 'iam', operation: 'GetRole', input: { RoleName: 'deployer' } },
    });
    expect(refused!.ok).toBe(false);
    expect(refused!.text).toMatch(/AccessDenied/);

    clock.advance(60_000);
    const [again] = await act({ 'assume-role': { role: 'deployer', with: 'leaked', as: 'deployer-session' } });
    expect(again!.ok).toBe(true);
    expect(again!.lesson).toContain('AssumeRole keeps working until the trust policy');
    expect(attacker.credentials.get('deployer-session')!.accessKeyId).not.toBe(old);
    expect(
      attacker
        .usableCredentials()
        .map((c) => c.name)
        .sort(),
    ).toEqual(['deployer-session', 'leaked']);
  });
});
