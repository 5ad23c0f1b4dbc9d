/**
 * A fleet over an organizational unit: `--accounts ou-…` is every active account under the OU
 * (nested OUs included, suspended accounts left out), listed through AWS Organizations with the
 * security account's own credentials once at the run's start, journaled, and kept by `resume`.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { chooseBackend } from '../../src/backend/backend.js';
import { autoHost } from '../../src/engine/auto-host.js';
import type { RunHost } from '../../src/engine/host.js';
import { resumeRun, startRun } from '../../src/engine/session.js';
import { loadWorld } from '../../src/sim/index.js';
import { memberAccounts, ORG_EXTERNAL_ID, ORG_ROLE_TEMPLATE, orgWorldDoc, SECURITY_ACCOUNT } from '../../bench/lib/org-world.js';
import { cli, journal, tempHome } from '../helpers/cli.js';

const [A, B, SUSPENDED, OUTSIDE, LATER] = memberAccounts(5) as [string, string, string, string, string];
const REGIONS = ['us-east-1', 'eu-west-1'];
const PER = 2;
const WORKLOADS = 'ou-7k2q-w0rk1oad';
const PROD = 'ou-7k2q-pr0d0001';
const OTHER = 'ou-7k2q-0ther001';

/** Workloads holds A directly, and B and a suspended account through the nested Prod; Other holds the rest. */
function organization() {
  return {
    id: 'o-7k2qexample',
    managementAccount: '123412341234',
    delegatedAdministrators: [SECURITY_ACCOUNT],
    root: {
      id: 'r-7k2q',
      accounts: [
        { id: '123412341234', name: 'management', email: 'm@example.com' },
        { id: SECURITY_ACCOUNT, name: 'security', email: 's@example.com' },
      ],
      units: [
        {
          id: WORKLOADS,
          name: 'Workloads',
          accounts: [{ id: A, name: 'a', email: 'a@example.com' }],
          units: [
            {
              id: PROD,
              name: 'Prod',
              accounts: [
                { id: B, name: 'b', email: 'b@example.com' },
                { id: SUSPENDED, name: 'old', email: 'old@example.com', state: 'SUSPENDED' },
              ],
            },
          ],
        },
        {
          id: OTHER,
          name: 'Other',
          accounts: [
            { id: OUTSIDE, name: 'outside', email: 'o@example.com' },
            { id: LATER, name: 'later', email: 'l@example.com' },
          ],
        },
      ],
    },
  };
}

function setup(config: Record<string, unknown> = {}) {
  const home = tempHome('fb-orgou-');
  const world = join(home, 'org.json');
  // STS sets Expiration by the world's clock and the SDK judges it by the machine's: the world starts now.
  const time = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const doc = orgWorldDoc({ accounts: [A, B, SUSPENDED, OUTSIDE, LATER], regions: REGIONS, perLocation: PER, time });
  writeFileSync(world, JSON.stringify({ ...doc, organizations: organization() }));
  const configFile = join(home, 'firebreak.config.yaml');
  writeFileSync(configFile, stringify({ roleArn: ORG_ROLE_TEMPLATE, externalId: ORG_EXTERNAL_ID, ...config }));
  return { home, world, configFile };
}

const approving: RunHost = {
  kind: 'auto',
  approve: async () => ({ decision: 'approve', by: 'alice', via: 'script' }),
  manual: async () => ({ decision: 'approve', by: 'alice', via: 'script' }),
};

function start(s: ReturnType<typeof setup>, host: RunHost, accounts = [WORKLOADS]) {
  return startRun({
    run: { playbook: 'ec2-fleet-compromise', inputs: { tags: ['role=web'] }, across: { accounts, regions: REGIONS } },
    backend: chooseBackend({ sim: s.world }),
    host,
    configFile: s.configFile,
    home: s.home,
  });
}

const worldOf = (s: { home: string }, runId: string) => JSON.parse(readFileSync(join(s.home, 'runs', runId, 'world.json'), 'utf8'));
const ec2In = (w: any, account: string, region: string) => w.accounts.find((a: any) => a.id === account).regions[region].ec2;
const isolated = (w: any, account: string, region: string) =>
  ec2In(w, account, region).securityGroups.some((g: any) => g.name === 'firebreak-isolation');

async function expectOnlyIn(s: { world: string; home: string }, runId: string, inside: string[]) {
  const start = JSON.parse(JSON.stringify(await loadWorld(s.world)));
  const after = worldOf(s, runId);
  for (const account of [A, B, SUSPENDED, OUTSIDE, LATER])
    for (const region of REGIONS) {
      if (inside.includes(account)) expect(isolated(after, account, region), `${account}/${region}`).toBe(true);
      else expect(ec2In(after, account, region), `${account}/${region}`).toEqual(ec2In(start, account, region));
    }
  expect(after.ec2).toEqual(start.ec2);
}

describe('--accounts naming an organizational unit', () => {
  it("contains the fleet in exactly the OU's active accounts and journals what the OU resolved to", async () => {
    const s = setup();
    const handle = await start(s, approving);
    const out = await handle.result;
    const events = journal(s.home, out.runId);
    expect(out.status, JSON.stringify(events.filter((e) => /failed/.test(e.type)).slice(0, 3))).toBe('succeeded');
    await expectOnlyIn(s, out.runId, [A, B]);

    expect(events[0].type).toBe('run.started');
    expect(events[0].across).toEqual({ accounts: [WORKLOADS], regions: REGIONS });
    const resolved = events.filter((e) => e.type === 'across.resolved');
    expect(resolved).toEqual([expect.objectContaining({ units: { [WORKLOADS]: [A, B] }, accounts: [A, B] })]);
    // Listed with the security account's own credentials, before the first step.
    const listed = events.filter((e) => e.type === 'aws.call' && e.service === 'organizations');
    expect(listed.length).toBeGreaterThan(0);
    for (const c of listed) expect(c.roleArn).toBeUndefined();
    const firstStep = events.findIndex((e) => e.type === 'step.started');
    expect(events.findIndex((e) => e.type === 'across.resolved')).toBeLessThan(firstStep);
    for (const c of events.filter((e) => e.type === 'aws.call' && e.service === 'ec2')) expect([A, B]).toContain(c.account);
  }, 120_000);

  it('a resumed run acts in the accounts recorded at its start, though the OU changed meanwhile', async () => {
    const s = setup();
    // Unattended with no wait: the run stops at the first approval, after the lookup.
    const first = await (await start(s, autoHost({ waitMs: 0 }))).result;
    expect(first.status).toBe('waiting');
    expect(isolated(worldOf(s, first.runId), A, 'us-east-1')).toBe(false);

    // Meanwhile LATER moves into Workloads and B leaves it.
    const file = join(s.home, 'runs', first.runId, 'world.json');
    const w = JSON.parse(readFileSync(file, 'utf8'));
    const [workloads, other] = w.organizations.root.units;
    workloads.accounts.push(other.accounts.pop());
    workloads.units[0].accounts.shift();
    writeFileSync(file, JSON.stringify(w));

    const resumed = await (
      await resumeRun({ runId: first.runId, backend: chooseBackend({}), host: approving, configFile: s.configFile, home: s.home })
    ).result;
    const events = journal(s.home, first.runId);
    expect(resumed.status, JSON.stringify(events.filter((e) => /failed/.test(e.type)).slice(0, 3))).toBe('succeeded');
    expect(events.filter((e) => e.type === 'across.resolved')).toHaveLength(1);
    await expectOnlyIn(s, first.runId, [A, B]);
  }, 120_000);

  it('an OU resolving to a denied account refuses the run before any change, naming the account and how to leave it out', async () => {
    const s = setup({ guardrails: { deniedAccounts: [B] } });
    const out = await (await start(s, approving)).result;
    expect(out.status).toBe('failed');
    expect(out.error?.message).toMatch(new RegExp(`account ${B} is in guardrails.deniedAccounts`));
    expect(out.error?.hint).toContain(`--accounts ${A}`);
    const events = journal(s.home, out.runId);
    expect(events.some((e) => e.type === 'step.started')).toBe(false);
    await expectOnlyIn(s, out.runId, []);
  }, 120_000);

  it('an OU with no active account runs nothing', async () => {
    const s = setup();
    const w = JSON.parse(readFileSync(s.world, 'utf8'));
    w.organizations.root.units[0].units.push({ id: 'ou-7k2q-empty001', name: 'Empty', accounts: [] });
    writeFileSync(s.world, JSON.stringify(w));
    const out = await (await start(s, approving, ['ou-7k2q-empty001'])).result;
    expect(out.status).toBe('failed');
    expect(out.error?.message).toMatch(/--accounts names ou-7k2q-empty001, which has no active account/);
    expect(journal(s.home, out.runId).some((e) => e.type === 'step.started')).toBe(false);
  }, 120_000);
});

describe('the command line', () => {
  it('an OU resolving to a denied account: the responder reads the account and the --accounts that leaves it out', async () => {
    const s = setup({ guardrails: { deniedAccounts: [B] } });
    const r = await cli(
      ['run', 'ec2-fleet-compromise', '--sim', s.world, '--auto', '--config', s.configFile, '-i', 'tags=role=web'].concat([
        '--accounts',
        WORKLOADS,
        '--regions',
        REGIONS.join(','),
      ]),
      { home: s.home },
    );
    expect(r.code).toBe(1);
    const shown = r.stdout + r.stderr;
    expect(shown).toContain(`refusing to start: account ${B} is in guardrails.deniedAccounts`);
    expect(shown).toContain(`name the other accounts by id instead of the OU (--accounts ${A})`);
  }, 120_000);
});

describe('a malformed OU id in --accounts', () => {
  it.each([['ou-x'], ['ou-7k2q-W0RK'], ['r-']])('%s is refused naming --accounts (exit 2), with no run folder', async (id) => {
    const s = setup();
    const r = await cli(
      ['run', 'ec2-fleet-compromise', '--sim', s.world, '--auto', '--config', s.configFile, '-i', 'tags=role=web', '--accounts', id],
      { home: s.home },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--accounts/);
    expect(r.stderr).toMatch(/OU id/);
    expect(existsSync(join(s.home, 'runs'))).toBe(false);
  });
});
