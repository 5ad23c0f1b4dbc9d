/**
 * A fleet across the organization: `ec2-fleet-compromise` over 3 member accounts × 2 Regions on the
 * simulated cloud (bench/lib/org-world.ts: the same instance ids in every account×Region, in a
 * bystander account and in the security account). Each target is contained in its own account and
 * Region through the responder role assumed there; nothing else changes.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { chooseBackend, worldName } from '../../src/backend/backend.js';
import { targetLockId } from '../../src/engine/drive.js';
import { homeDir } from '../../src/engine/home.js';
import type { RunHost, StepView } from '../../src/engine/host.js';
import { lockResource } from '../../src/engine/lock.js';
import { startRun } from '../../src/engine/session.js';
import { loadWorld } from '../../src/sim/index.js';
import {
  memberAccounts,
  ORG_EXTERNAL_ID,
  ORG_ROLE_TEMPLATE,
  orgInstanceId,
  orgWorldDoc,
  SECURITY_ACCOUNT,
} from '../../bench/lib/org-world.js';
import { cli, journal, tempHome } from '../helpers/cli.js';
import { formatPlan } from '../../src/cli/display.js';

const ACCOUNTS = memberAccounts(3);
const BYSTANDER = memberAccounts(4)[3]!;
const REGIONS = ['us-east-1', 'eu-west-1'];
const PER = 3;
const FLEET_STEPS = ['isolate', 'preserve', 'detach', 'snapshot'];

function setup(config: Record<string, unknown> = {}) {
  const home = tempHome('fb-orgfleet-');
  const world = join(home, 'org.json');
  // STS sets Expiration by the world's clock and the SDK judges it by the machine's: the world starts now.
  const time = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  writeFileSync(
    world,
    JSON.stringify(orgWorldDoc({ accounts: ACCOUNTS, regions: REGIONS, perLocation: PER, bystanders: [BYSTANDER], time })),
  );
  const configFile = join(home, 'firebreak.config.yaml');
  writeFileSync(configFile, stringify({ roleArn: ORG_ROLE_TEMPLATE, externalId: ORG_EXTERNAL_ID, ...config }));
  return { home, world, configFile };
}

/** A person who approves every plan and keeps what was shown. */
function person(seen: StepView[]): RunHost {
  return {
    kind: 'auto',
    approve: async (view) => {
      seen.push(view);
      return { decision: 'approve', by: 'alice', via: 'script' };
    },
    manual: async () => ({ decision: 'approve', by: 'alice', via: 'script' }),
  };
}

async function runAcross(s: ReturnType<typeof setup>, o: { seen?: StepView[]; unattended?: boolean } = {}) {
  const handle = await startRun({
    run: {
      playbook: 'ec2-fleet-compromise',
      inputs: { tags: ['role=web'] },
      across: { accounts: ACCOUNTS, regions: REGIONS },
      ...(o.unattended ? { approvalOverrides: Object.fromEntries(FLEET_STEPS.map((st) => [st, 'auto' as const])) } : {}),
    },
    backend: chooseBackend({ sim: s.world }),
    host: o.unattended ? { ...person([]), approvesUnseen: (p: 'auto' | 'required') => p === 'auto' } : person(o.seen ?? []),
    configFile: s.configFile,
    home: s.home,
  });
  const out = await handle.result;
  const after = JSON.parse(readFileSync(join(s.home, 'runs', out.runId, 'world.json'), 'utf8'));
  return { out, events: journal(s.home, out.runId), after };
}

/** The world as the simulated cloud starts it (defaults filled in), to compare with the run's world.json. */
const before = async (s: { world: string }) => JSON.parse(JSON.stringify(await loadWorld(s.world)));
const ec2In = (w: any, account: string, region: string) =>
  account === SECURITY_ACCOUNT && region === w.region ? w.ec2 : w.accounts.find((a: any) => a.id === account).regions[region].ec2;

function expectContained(w: any, account: string, region: string) {
  const ec2 = ec2In(w, account, region);
  const isolation = ec2.securityGroups.find((g: any) => g.name === 'firebreak-isolation');
  expect(isolation, `${account}/${region}`).toBeTruthy();
  for (const n of ec2.networkInterfaces) expect(n.groups, `${account}/${region} ${n.id}`).toEqual([isolation.id]);
  for (const i of ec2.instances) expect([i.disableApiTermination, i.instanceInitiatedShutdownBehavior]).toEqual([true, 'stop']);
  expect(ec2.snapshots.filter((x: any) => x.tags?.['firebreak:purpose'] === 'forensic')).toHaveLength(PER);
}

describe('a fleet across accounts and Regions', () => {
  it('contains every target in its own account and Region, shows the plan grouped by them, leaves the rest unchanged', async () => {
    const s = setup();
    const seen: StepView[] = [];
    const { out, events, after } = await runAcross(s, { seen });
    expect(out.status, JSON.stringify(events.filter((e) => /failed/.test(e.type)).slice(0, 3))).toBe('succeeded');

    for (const account of ACCOUNTS) for (const region of REGIONS) expectContained(after, account, region);
    const start = await before(s);
    expect(ec2In(after, BYSTANDER, 'us-east-1')).toEqual(ec2In(start, BYSTANDER, 'us-east-1'));
    expect(ec2In(after, BYSTANDER, 'eu-west-1')).toEqual(ec2In(start, BYSTANDER, 'eu-west-1'));
    expect(after.ec2).toEqual(start.ec2);

    // The lookup ran in each account×Region; its output joins them, each keeps its own.
    const find = events.find((e) => e.type === 'step.completed' && e.step === 'find');
    expect(find.output.instanceIds).toHaveLength(ACCOUNTS.length * REGIONS.length * PER);
    expect(find.locations.map((l: any) => `${l.account}/${l.region}`)).toEqual(ACCOUNTS.flatMap((a) => REGIONS.map((r) => `${a}/${r}`)));

    // Every call went where its target lives, through the role assumed there.
    const calls = events.filter((e) => e.type === 'aws.call' && e.service === 'ec2');
    for (const c of calls) {
      expect(ACCOUNTS).toContain(c.account);
      expect(c.roleArn).toBe(`arn:aws:iam::${c.account}:role/FirebreakResponder`);
      expect(REGIONS).toContain(c.region);
    }
    const assumed = events.filter((e) => e.type === 'aws.call' && e.operation === 'AssumeRole');
    expect(assumed.map((e) => `${e.input.RoleArn} ${e.region}`).sort()).toEqual(
      ACCOUNTS.flatMap((a) => REGIONS.map((r) => `arn:aws:iam::${a}:role/FirebreakResponder ${r}`)).sort(),
    );
    // STS's answer in each account×Region is checked before the first change there.
    const identities = events.filter((e) => e.type === 'run.identity').map((e) => e.account);
    for (const a of ACCOUNTS) expect(identities).toContain(a);

    // The person approving saw each step's targets and changes by account and Region.
    const isolate = seen.find((v) => v.stepId === 'isolate')!;
    expect(isolate.groups?.map((g) => [g.account, g.region, g.targets])).toEqual(ACCOUNTS.flatMap((a) => REGIONS.map((r) => [a, r, PER])));
    for (const g of isolate.groups!) expect(g.changes).toBeGreaterThan(0);
    for (const c of isolate.plan.changes) expect([ACCOUNTS.includes(c.account!), REGIONS.includes(c.region!)]).toEqual([true, true]);
    const requested = events.find((e) => e.type === 'approval.requested' && e.step === 'isolate');
    expect(requested.groups).toHaveLength(ACCOUNTS.length * REGIONS.length);
    const items = events.filter((e) => e.type === 'item.completed' && e.step === 'isolate');
    expect(new Set(items.map((e) => `${e.account}/${e.region}`)).size).toBe(ACCOUNTS.length * REGIONS.length);

    // The terminal's plan, `audit show` and the report list the changes under account and Region headings.
    const shown = formatPlan(isolate.plan, '  ', isolate.groups).join('\n');
    const headings = (text: string, re: RegExp) => [...text.matchAll(re)].map((m) => m[1]);
    const everywhere = ACCOUNTS.flatMap((a) => REGIONS.map((r) => `${a}, ${r}`));
    expect(headings(shown, /account (\d{12}, [a-z0-9-]+) \(3 targets, \d+ changes\)/g)).toEqual(everywhere);
    const audit = await cli(['audit', 'show', out.runId], { home: s.home });
    expect(audit.code).toBe(0);
    for (const at of everywhere) expect(audit.stdout).toContain(`account ${at}: 3 targets`);
    const report = await cli(['report', out.runId], { home: s.home });
    expect(report.code).toBe(0);
    // One heading per account×Region in each fleet step with changes (isolate, preserve, snapshot: no instance is in an Auto Scaling group).
    expect(headings(report.stdout, /^\*\*account (\d{12}, [a-z0-9-]+)\*\*$/gm)).toHaveLength(everywhere.length * 3);
  }, 120_000);

  it('unattended: each account×Region has its own concurrency, and the same instance id in two accounts is two locks', async () => {
    const s = setup();
    // Another run holds one instance in the first account's us-east-1: only that target waits (and fails, lock wait 0).
    const held = await lockResource(
      homeDir({ home: s.home }),
      'instance',
      targetLockId(orgInstanceId(0), { account: ACCOUNTS[0], region: 'us-east-1' }),
      { runId: 'other-run', purpose: 'target' },
      { scope: worldName(resolve(s.world)) },
    );
    expect(held).toBeTruthy();
    const { out, events, after } = await runAcross(s, { unattended: true });
    await held!.release();
    expect(out.status).toBe('failed');
    const failed = events.filter((e) => e.type === 'item.failed' && e.step === 'isolate');
    expect(failed.map((e) => [e.account, e.region, e.error.message.includes('other-run')])).toEqual([[ACCOUNTS[0], 'us-east-1', true]]);
    // The same id elsewhere was contained.
    const completed = events.filter((e) => e.type === 'item.completed' && e.step === 'isolate');
    expect(completed).toHaveLength(ACCOUNTS.length * REGIONS.length * PER - 1);
    const same = ec2In(after, ACCOUNTS[1]!, 'us-east-1').networkInterfaces.find((n: any) => n.attachment.instanceId === orgInstanceId(0));
    expect(same.groups[0]).not.toBe('sg-0b000000000000001');
    const untouched = ec2In(after, ACCOUNTS[0]!, 'us-east-1').networkInterfaces.find(
      (n: any) => n.attachment.instanceId === orgInstanceId(0),
    );
    expect(untouched.groups).toEqual(['sg-0b000000000000001']);
  }, 120_000);
});

describe('--accounts and --regions are checked before anything runs', () => {
  it.each([
    [['--accounts', '12345'], /--accounts/, /12 digits/],
    [['--accounts', '111111111111,22222222222x', '--regions', 'us-east-1'], /--accounts/, /12 digits/],
    [['--accounts', '111111111111', '--regions', 'mars-1'], /--regions/, /Region/],
    [['--regions', 'us-east-1'], /--regions/, /--accounts/],
  ])('%j is refused naming the option (exit 2)', async (args, field, why) => {
    const s = setup();
    const r = await cli(
      ['run', 'ec2-fleet-compromise', '--sim', s.world, '--auto', '--config', s.configFile, '-i', 'tags=role=web', ...args],
      {
        home: s.home,
      },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(field);
    expect(r.stderr).toMatch(why);
  });

  it('a denied account in --accounts starts nothing and makes no AWS call', async () => {
    const s = setup({ guardrails: { deniedAccounts: [ACCOUNTS[1]] } });
    const r = await cli(
      [
        'run',
        'ec2-fleet-compromise',
        '--sim',
        s.world,
        '--auto',
        '--config',
        s.configFile,
        '-i',
        'tags=role=web',
        '--accounts',
        ACCOUNTS.join(','),
        '--regions',
        REGIONS.join(','),
      ],
      { home: s.home },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`${ACCOUNTS[1]} is in guardrails.deniedAccounts`));
    expect(r.stderr).toMatch(/--accounts/);
    expect(existsSync(join(s.home, 'runs'))).toBe(false);
  });
});
