/**
 * Organization-wide response: a finding from member account 222222222222 in eu-west-1, received
 * by Firebreak in the security account 111122223333 (us-east-1), is answered there, through the
 * member account's responder role, with the simulated cloud of worlds/organization.yaml.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { Journal, type JournalEvent } from '../../src/audit/journal.js';
import { handleAlert, type TriggerOutcome } from '../../src/triggers/dispatch.js';
import { targetLockId } from '../../src/engine/drive.js';
import { worldName } from '../../src/backend/backend.js';
import { homeDir } from '../../src/engine/home.js';
import { lockResource } from '../../src/engine/lock.js';
import { loadWorld } from '../../src/sim/index.js';
import { parseAlertText } from '../../src/triggers/parse.js';
import { loadRoutes } from '../../src/triggers/routes.js';
import { TriggerLog } from '../../src/triggers/trigger-log.js';
import { tempHome } from '../helpers/cli.js';

const ORG = resolve('worlds/organization.yaml');
const COMPROMISED = 'i-0c0ffee0000000001';
const DECOY = 'i-0deca0de000000001';
const MEMBER = '222222222222';
const RESPONDER = 'arn:aws:iam::222222222222:role/FirebreakResponder';

/** The organization world starting now: STS sets Expiration by the world's clock and the SDK judges it by the machine's. */
function orgWorld(dir: string): string {
  const w = parse(readFileSync(ORG, 'utf8'));
  w.time = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const file = join(dir, 'organization.json');
  writeFileSync(file, JSON.stringify(w));
  return file;
}

const ISOLATE_ONLY = {
  id: 'isolate-only',
  title: 'Isolate one instance',
  inputs: { instanceId: { type: 'string', required: true } },
  start: 'isolate',
  steps: {
    isolate: { action: 'ec2.isolate-instance', with: { instanceId: '{% $inputs.instanceId %}' }, approval: 'auto', next: 'done' },
    done: { type: 'end' },
  },
};

/** A GuardDuty finding (EventBridge) about an instance in the given account and Region. */
function finding(account: string, region: string, instanceId: string, id = `f-${account}-${region}`): string {
  const e = JSON.parse(readFileSync('test/fixtures/alerts/guardduty-bitcoin-dns.eventbridge.json', 'utf8'));
  e.account = account;
  e.region = region;
  e.id = `evt-${id}`;
  e.detail.accountId = account;
  e.detail.region = region;
  e.detail.id = id;
  e.detail.arn = `arn:aws:guardduty:${region}:${account}:detector/d/finding/${id}`;
  e.detail.resource.instanceDetails.instanceId = instanceId;
  delete e.detail.resource.instanceDetails.iamInstanceProfile;
  e.detail.resource.instanceDetails.networkInterfaces = [];
  return JSON.stringify(e);
}

interface Setup {
  home: string;
  world: string;
  routes: Record<string, unknown>;
  config?: Record<string, unknown>;
}

function setup(route: Record<string, unknown> = {}, config?: Record<string, unknown>): Setup {
  const home = tempHome('fb-org-');
  const playbook = join(home, 'isolate-only.yaml');
  writeFileSync(playbook, stringify(ISOLATE_ONLY));
  const routes = {
    routes: [
      {
        name: 'crypto',
        match: { source: 'guardduty' },
        playbook,
        inputs: { instanceId: '{% resources.instanceIds[0] %}' },
        roleArn: 'arn:aws:iam::{% account %}:role/FirebreakResponder',
        externalId: 'firebreak-{% account %}-7f3a9c',
        ...route,
      },
    ],
  };
  return { home, world: orgWorld(home), routes, ...(config ? { config } : {}) };
}

async function trigger(s: Setup, text: string, extra: { region?: string } = {}): Promise<TriggerOutcome> {
  const routesFile = join(s.home, 'routes.yaml');
  writeFileSync(routesFile, stringify(s.routes));
  let configFile: string | undefined;
  if (s.config) {
    configFile = join(s.home, 'firebreak.config.yaml');
    writeFileSync(configFile, stringify(s.config));
  }
  const [alert] = parseAlertText(text);
  return handleAlert(alert!, {
    home: s.home,
    table: loadRoutes(routesFile),
    log: new TriggerLog(join(s.home, 'triggers.jsonl')),
    via: 'cli',
    sim: s.world,
    region: 'us-east-1',
    ...(configFile ? { configFile } : {}),
    ...extra,
    print: () => {},
    warn: () => {},
  });
}

type WorldJson = {
  ec2: { instances: { id: string; tags?: Record<string, string> }[]; networkInterfaces: { id: string; groups: string[] }[] };
  accounts: {
    id: string;
    iam: unknown;
    regions: Record<string, { ec2: { networkInterfaces?: { id: string; groups: string[] }[]; securityGroups?: unknown[] } }>;
  }[];
};
const worldAfter = (home: string, runId: string) => JSON.parse(readFileSync(join(home, 'runs', runId, 'world.json'), 'utf8')) as WorldJson;
/** The start world as the simulated cloud holds it (defaults filled in), to compare with the run's copy. */
const worldBefore = async (s: Setup) => JSON.parse(JSON.stringify(await loadWorld(s.world))) as WorldJson;
const events = (home: string, runId: string) => Journal.read(join(home, 'runs', runId, 'journal.jsonl'));
const calls = (evs: JournalEvent[]) => evs.filter((e) => e.type === 'aws.call');
const member = (w: WorldJson, id: string) => w.accounts.find((a) => a.id === id)!;

describe('an alert from a member account in another Region', () => {
  it('is contained there, through the account’s responder role; the decoy and every other account are unchanged', async () => {
    const s = setup();
    const out = await trigger(s, finding(MEMBER, 'eu-west-1', COMPROMISED));
    expect(out.kind).toBe('started');
    if (out.kind !== 'started') return;
    expect(out.run.status).toBe('succeeded');

    const before = await worldBefore(s);
    const after = worldAfter(s.home, out.runId);
    const eni = (w: WorldJson, id: string) => member(w, MEMBER).regions['eu-west-1']!.ec2.networkInterfaces!.find((n) => n.id === id)!;
    // The finding's instance moved to an isolation group; its neighbour (the decoy's twin) did not.
    expect(eni(before, 'eni-0222e0000000000b1').groups).toEqual(['sg-0222e0000000000b1']);
    expect(eni(after, 'eni-0222e0000000000b1').groups).not.toEqual(['sg-0222e0000000000b1']);
    expect(eni(after, 'eni-0222e0000000000b2')).toEqual(eni(before, 'eni-0222e0000000000b2'));
    // The security account (the decoy with the same id in us-east-1) and the other accounts and Regions are unchanged.
    expect(after.ec2).toEqual(before.ec2);
    expect(member(after, '333333333333')).toEqual(member(before, '333333333333'));
    expect(member(after, MEMBER).regions['us-east-1']).toEqual(member(before, MEMBER).regions['us-east-1']);

    const evs = events(s.home, out.runId);
    const started = evs.find((e) => e.type === 'run.started')!;
    expect(started).toMatchObject({ region: 'eu-west-1', account: MEMBER, roleArn: RESPONDER });
    expect(evs.find((e) => e.type === 'run.identity')).toMatchObject({
      account: MEMBER,
      arn: `arn:aws:sts::${MEMBER}:assumed-role/FirebreakResponder/firebreak-${out.runId}`,
    });
    // Every call records where it went: the role's session answered in the member account, in eu-west-1.
    const ec2Calls = calls(evs).filter((c) => c.service === 'ec2');
    expect(ec2Calls.length).toBeGreaterThan(3);
    for (const c of ec2Calls) expect(c).toMatchObject({ account: MEMBER, region: 'eu-west-1', roleArn: RESPONDER });
    expect(ec2Calls.some((c) => c.operation === 'ModifyNetworkInterfaceAttribute' && !c.error)).toBe(true);
    const assume = calls(evs).find((c) => c.operation === 'AssumeRole')!;
    expect(assume.input).toMatchObject({
      RoleArn: RESPONDER,
      SourceIdentity: 'firebreak-route-crypto',
      RoleSessionName: `firebreak-${out.runId}`,
    });
  });

  it('a route without a role acts with the process credentials in the alert’s Region, not the process’s', async () => {
    const s = setup({ roleArn: undefined, externalId: undefined });
    // The security account's own finding about its collector, raised in us-east-1, received by a process set for eu-west-1.
    const out = await trigger(s, finding('111122223333', 'us-east-1', DECOY), { region: 'eu-west-1' });
    expect(out.kind).toBe('started');
    if (out.kind !== 'started') return;
    expect(out.run.status).toBe('succeeded');
    const evs = events(s.home, out.runId);
    expect(evs.find((e) => e.type === 'run.started')).toMatchObject({ region: 'us-east-1', account: '111122223333' });
    expect(evs.find((e) => e.type === 'run.started')).not.toHaveProperty('roleArn');
    for (const c of calls(evs)) expect(c).toMatchObject({ region: 'us-east-1' });
    const after = worldAfter(s.home, out.runId);
    expect(after.ec2.networkInterfaces.find((n) => n.id === 'eni-0511c0000000000a1')!.groups).not.toEqual(['sg-0511c0000000000a1']);
    // The member account's instance with the same id is untouched.
    expect(member(after, MEMBER)).toEqual(member(await worldBefore(s), MEMBER));
  });

  it.each([
    [
      'a wrong external id',
      { externalId: 'not-the-agreed-id' },
      MEMBER,
      /AccessDenied.*not authorized to perform: sts:AssumeRole|AccessDenied/,
    ],
    [
      'a role whose trust does not name the caller',
      { roleArn: 'arn:aws:iam::{% account %}:role/LegacyAudit' },
      '333333333333',
      /AccessDenied/,
    ],
  ])('%s fails with a clear error and changes nothing', async (_name, route, account, message) => {
    const s = setup(route);
    const region = account === MEMBER ? 'eu-west-1' : 'us-east-1';
    const instance = account === MEMBER ? COMPROMISED : 'i-0333a0000000000d1';
    const out = await trigger(s, finding(account, region, instance));
    expect(out.kind).toBe('started');
    if (out.kind !== 'started') return;
    expect(out.run.status).toBe('failed');
    expect(`${out.run.error?.code}: ${out.run.error?.message}`).toMatch(message);
    const evs = events(s.home, out.runId);
    const assume = calls(evs).filter((c) => c.operation === 'AssumeRole');
    expect(assume.length).toBeGreaterThan(0);
    for (const c of assume) expect(c.error?.code).toBe('AccessDenied');
    // No call was answered: without the role's credentials nothing could be sent.
    expect(calls(evs).filter((c) => !c.error)).toEqual([]);
    const before = await worldBefore(s);
    const after = worldAfter(s.home, out.runId);
    expect(after.ec2).toEqual(before.ec2);
    expect(after.accounts).toEqual(before.accounts);
  });
});

describe('account guardrails', () => {
  it('an alert from an account outside guardrails.allowedAccounts starts nothing; the trigger log says why', async () => {
    const s = setup({}, { guardrails: { allowedAccounts: ['333333333333'] } });
    const out = await trigger(s, finding(MEMBER, 'eu-west-1', COMPROMISED));
    expect(out).toMatchObject({
      kind: 'ignored',
      reasons: [expect.stringMatching(/account 222222222222 is not in guardrails.allowedAccounts/)],
    });
    expect(existsSync(join(s.home, 'runs', out.alert.runId))).toBe(false);
    const log = readFileSync(join(s.home, 'triggers.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(log).toEqual([
      expect.objectContaining({ type: 'alert.ignored', reasons: [expect.stringContaining('guardrails.allowedAccounts (333333333333)')] }),
    ]);
  });

  it('an alert from a denied account starts nothing', async () => {
    const s = setup({}, { guardrails: { deniedAccounts: [MEMBER] } });
    const out = await trigger(s, finding(MEMBER, 'eu-west-1', COMPROMISED));
    expect(out).toMatchObject({
      kind: 'ignored',
      reasons: [expect.stringMatching(/account 222222222222 is in guardrails.deniedAccounts/)],
    });
    expect(existsSync(join(s.home, 'runs', out.alert.runId))).toBe(false);
  });

  it("the run checks STS's answer for the assumed role before any change: a role in a denied account changes nothing", async () => {
    // The alert names an allowed account, but the route's role is in a denied one.
    const s = setup(
      { roleArn: 'arn:aws:iam::222222222222:role/FirebreakResponder', externalId: 'firebreak-222222222222-7f3a9c' },
      { guardrails: { deniedAccounts: [MEMBER] } },
    );
    const out = await trigger(s, finding('333333333333', 'eu-west-1', COMPROMISED));
    expect(out.kind).toBe('started');
    if (out.kind !== 'started') return;
    expect(out.run.status).toBe('failed');
    expect(out.run.error?.message).toMatch(/credentials belong to account 222222222222 is in guardrails.deniedAccounts/);
    const evs = events(s.home, out.runId);
    expect(evs.find((e) => e.type === 'run.identity')).toMatchObject({ account: MEMBER });
    const writes = calls(evs).filter((c) => !/^(Describe|Get|AssumeRole)/.test(String(c.operation)));
    expect(writes).toEqual([]);
    // Only the role session AssumeRole issued is new in the world: no account's Regions changed.
    const before = await worldBefore(s);
    const after = worldAfter(s.home, out.runId);
    for (const a of before.accounts) expect(member(after, a.id).regions).toEqual(a.regions);
  });
});

describe('target locks', () => {
  it("are keyed by account and Region: a run holding the security account's instance does not block the member's same id", async () => {
    const s = setup();
    const owner = { runId: 'other-run', purpose: 'target' };
    const security = await lockResource(
      homeDir({ home: s.home }),
      'instance',
      targetLockId(DECOY, { account: '111122223333', region: 'us-east-1' }),
      owner,
    );
    expect(security).toBeTruthy();
    const out = await trigger(s, finding(MEMBER, 'eu-west-1', DECOY));
    expect(out.kind === 'started' && out.run.status).toBe('succeeded');
    await security!.release();
  });

  it('the same instance in the same account and Region is held: the run fails without a change', async () => {
    const s = setup({ lockTimeout: '0s' });
    const owner = { runId: 'other-run', purpose: 'target' };
    const held = await lockResource(
      homeDir({ home: s.home }),
      'instance',
      targetLockId(DECOY, { account: MEMBER, region: 'eu-west-1' }),
      owner,
      { scope: worldName(resolve(s.world)) }, // the run's simulated world is its own cloud
    );
    expect(held).toBeTruthy();
    const out = await trigger(s, finding(MEMBER, 'eu-west-1', DECOY));
    expect(out.kind === 'started' && out.run.status).toBe('failed');
    expect(out.kind === 'started' && out.run.error?.message).toMatch(/other-run/);
    if (out.kind === 'started')
      expect(member(worldAfter(s.home, out.runId), MEMBER).regions).toEqual(member(await worldBefore(s), MEMBER).regions);
    await held!.release();
  });
});
