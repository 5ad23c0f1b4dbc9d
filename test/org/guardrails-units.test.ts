/**
 * Guardrails by organizational unit: `guardrails.allowedAccounts` / `deniedAccounts` naming OUs of
 * the organization in worlds/organization.yaml, resolved through AWS Organizations with the
 * security account's own credentials (a delegated administrator), never a member's responder role.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { Journal } from '../../src/audit/journal.js';
import { accountsUnder } from '../../src/cloud/organizations.js';
import { loadConfig } from '../../src/config/config.js';
import { InputError } from '../../src/core/errors.js';
import { createSimCloud, loadWorld } from '../../src/sim/index.js';
import { handleAlert, type TriggerOutcome } from '../../src/triggers/dispatch.js';
import { parseAlertText } from '../../src/triggers/parse.js';
import { loadRoutes } from '../../src/triggers/routes.js';
import { TriggerLog } from '../../src/triggers/trigger-log.js';
import { cli, tempHome } from '../helpers/cli.js';

const ORG = resolve('worlds/organization.yaml');
const MEMBER = '222222222222';
const COMPROMISED = 'i-0c0ffee0000000001';
const PROD = 'ou-7k2q-pr0d0001';
const WORKLOADS = 'ou-7k2q-w0rk1oad';
const SANDBOX = 'ou-7k2q-sandb0x1';

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

function finding(account: string, region: string, instanceId: string): string {
  const e = JSON.parse(readFileSync('test/fixtures/alerts/guardduty-bitcoin-dns.eventbridge.json', 'utf8'));
  const id = `f-${account}-${region}`;
  Object.assign(e, { account, region, id: `evt-${id}` });
  Object.assign(e.detail, { accountId: account, region, id, arn: `arn:aws:guardduty:${region}:${account}:detector/d/finding/${id}` });
  e.detail.resource.instanceDetails.instanceId = instanceId;
  delete e.detail.resource.instanceDetails.iamInstanceProfile;
  e.detail.resource.instanceDetails.networkInterfaces = [];
  return JSON.stringify(e);
}

/** A home with the organization world (starting now: STS expirations are judged by the machine's clock), a route and a config. */
function setup(guardrails: Record<string, unknown>, edit?: (w: Record<string, any>) => void, route: Record<string, unknown> = {}) {
  const home = tempHome('fb-org-ou-');
  const w = parse(readFileSync(ORG, 'utf8'));
  w.time = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  edit?.(w);
  const world = join(home, 'organization.json');
  writeFileSync(world, JSON.stringify(w));
  const playbook = join(home, 'isolate-only.yaml');
  writeFileSync(playbook, stringify(ISOLATE_ONLY));
  const routes = join(home, 'routes.yaml');
  writeFileSync(
    routes,
    stringify({
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
    }),
  );
  const configFile = join(home, 'firebreak.config.yaml');
  writeFileSync(configFile, stringify({ guardrails }));
  return { home, world, routes, configFile };
}

function trigger(s: ReturnType<typeof setup>, text: string): Promise<TriggerOutcome> {
  const [alert] = parseAlertText(text);
  return handleAlert(alert!, {
    home: s.home,
    table: loadRoutes(s.routes),
    log: new TriggerLog(join(s.home, 'triggers.jsonl')),
    via: 'cli',
    sim: s.world,
    region: 'us-east-1',
    configFile: s.configFile,
    print: () => {},
    warn: () => {},
  });
}

const events = (home: string, runId: string) => Journal.read(join(home, 'runs', runId, 'journal.jsonl'));

describe('accountsUnder', () => {
  const orgs = async (edit?: (w: any) => void) => {
    const w = await loadWorld(ORG);
    edit?.(w);
    const sim = createSimCloud(w);
    const client = new OrganizationsClient({ region: 'us-east-1', credentials: sim.credentials, maxAttempts: 1 });
    client.middlewareStack.use(sim.plugin as never);
    return { client, sim };
  };

  it.each([
    [PROD, [MEMBER, '333333333333']],
    // Nested OUs included, the suspended sandbox account left out.
    [WORKLOADS, [MEMBER, '333333333333', '555555555555']],
    [SANDBOX, ['555555555555']],
    ['r-7k2q', ['123412341234', '111122223333', MEMBER, '333333333333', '555555555555']],
  ])('%s → %j', async (unit, accounts) => {
    const { client } = await orgs();
    expect(await accountsUnder(client, unit)).toEqual(accounts);
  });

  it('pages through more accounts than one page holds', async () => {
    const many = Array.from({ length: 45 }, (_, i) => String(700000000000 + i));
    const { client, sim } = await orgs((w) => {
      w.organizations.root.units[1].units[1].accounts.push(...many);
    });
    expect(await accountsUnder(client, SANDBOX)).toEqual(['555555555555', ...many]);
    // 46 accounts at 20 a page: three pages, and one listing of the OU's (no) children.
    expect(sim.calls.filter((c) => c.operation === 'ListAccountsForParent')).toHaveLength(3);
  });

  it.each([
    ['a malformed id, before any call', 'ou-PROD', InputError, /not an organizational unit id/],
    ['an OU the organization does not have', 'ou-7k2q-n0th1ngh3re', Error, /ParentNotFoundException.*\n?/],
  ])('%s is refused', async (_what, unit, type, message) => {
    const { client, sim } = await orgs();
    const e = await accountsUnder(client, unit).catch((err: Error) => err);
    expect(e).toBeInstanceOf(type);
    expect((e as Error).message).toMatch(message);
    if (type === InputError) expect(sim.calls).toEqual([]);
  });

  it('a caller that is not a delegated administrator is told how to fix it', async () => {
    const { client } = await orgs((w) => {
      w.organizations.delegatedAdministrators = [];
    });
    const e = (await accountsUnder(client, PROD).catch((err) => err)) as Error & { hint?: string };
    expect(e.message).toMatch(/^failed to list the accounts of ou-7k2q-pr0d0001: AccessDeniedException/);
    expect(e.hint).toMatch(/delegated administrator/);
  });
});

describe('guardrails naming OUs', () => {
  it('an alert from an account under a denied OU starts nothing; the reason names the OU', async () => {
    const s = setup({ deniedAccounts: [WORKLOADS] });
    const out = await trigger(s, finding(MEMBER, 'eu-west-1', COMPROMISED));
    expect(out).toMatchObject({
      kind: 'ignored',
      reasons: [expect.stringMatching(new RegExp(`account ${MEMBER} is in guardrails.deniedAccounts through ${WORKLOADS}`))],
    });
    expect(existsSync(join(s.home, 'runs', out.alert.runId))).toBe(false);
  });

  it('an alert from an account outside every allowed OU starts nothing', async () => {
    const s = setup({ allowedAccounts: [SANDBOX, '333333333333'] });
    const out = await trigger(s, finding(MEMBER, 'eu-west-1', COMPROMISED));
    expect(out).toMatchObject({ kind: 'ignored', reasons: [expect.stringMatching(/not in guardrails.allowedAccounts/)] });
  });

  it('an alert from an account under an allowed OU is contained; the journal records the resolution', async () => {
    const s = setup({ allowedAccounts: [PROD] });
    const out = await trigger(s, finding(MEMBER, 'eu-west-1', COMPROMISED));
    expect(out.kind).toBe('started');
    if (out.kind !== 'started') return;
    expect(out.run.status).toBe('succeeded');
    const evs = events(s.home, out.runId);
    expect(evs.find((e) => e.type === 'guardrails.resolved')).toMatchObject({ units: { [PROD]: [MEMBER, '333333333333'] } });
    // Resolved before the first change, after STS named the account.
    const order = evs.map((e) => e.type);
    expect(order.indexOf('guardrails.resolved')).toBeGreaterThan(order.indexOf('run.identity'));
    const firstWrite = evs.findIndex((e) => e.type === 'aws.call' && e.operation === 'ModifyNetworkInterfaceAttribute');
    expect(order.indexOf('guardrails.resolved')).toBeLessThan(firstWrite);
    const after = JSON.parse(readFileSync(join(s.home, 'runs', out.runId, 'world.json'), 'utf8'));
    const eni = after.accounts[0].regions['eu-west-1'].ec2.networkInterfaces.find((n: { id: string }) => n.id === 'eni-0222e0000000000b1');
    expect(eni.groups).not.toEqual(['sg-0222e0000000000b1']);
  });

  it("the run checks STS's answer against the OUs: a role in an account outside them changes nothing", async () => {
    // The alert names an account of the allowed Sandbox OU; the route's role is payments-prod's, in Prod.
    const s = setup({ allowedAccounts: [SANDBOX] }, undefined, {
      roleArn: 'arn:aws:iam::222222222222:role/FirebreakResponder',
      externalId: 'firebreak-222222222222-7f3a9c',
    });
    const out = await trigger(s, finding('555555555555', 'eu-west-1', COMPROMISED));
    expect(out.kind).toBe('started');
    if (out.kind !== 'started') return;
    expect(out.run.status).toBe('failed');
    expect(out.run.error?.message).toMatch(/account 222222222222 is not in guardrails.allowedAccounts \(ou-7k2q-sandb0x1\)/);
    const calls = events(s.home, out.runId).filter((e) => e.type === 'aws.call');
    expect(calls.filter((c) => !/^(Describe|Get|AssumeRole|List)/.test(String(c.operation)))).toEqual([]);
  });

  it('Organizations refusing the security account stops the alert with the fix, and starts nothing', async () => {
    const s = setup({ allowedAccounts: [PROD] }, (w) => {
      w.organizations.delegatedAdministrators = [];
    });
    const [alert] = parseAlertText(finding(MEMBER, 'eu-west-1', COMPROMISED));
    const e = (await trigger(s, finding(MEMBER, 'eu-west-1', COMPROMISED)).catch((err) => err)) as Error & { hint?: string };
    expect(e.message).toMatch(/failed to list the accounts of ou-7k2q-pr0d0001: AccessDeniedException/);
    expect(e.hint).toMatch(/delegated administrator/);
    expect(existsSync(join(s.home, 'runs', alert!.runId))).toBe(false);
  });
});

describe('the config', () => {
  it.each([
    ['allowedAccounts', 'ou-PROD'],
    ['deniedAccounts', 'r-'],
    ['allowedAccounts', '22222222222'],
  ])('refuses a malformed id in guardrails.%s with its file, line and field', (field, id) => {
    const home = tempHome('fb-org-cfg-');
    const file = join(home, 'firebreak.config.yaml');
    writeFileSync(file, `guardrails:\n  ${field}:\n    - "${PROD}"\n    - "${id}"\n`);
    const e = (() => {
      try {
        loadConfig(file);
      } catch (err) {
        return err as InputError;
      }
      throw new Error('the config was accepted');
    })();
    expect(e).toBeInstanceOf(InputError);
    expect(e.exitCode).toBe(2);
    expect(e.line).toContain(`${file}:4`);
    expect(e.line).toContain(`guardrails.${field}[1]`);
    expect(e.message).toMatch(/organizational unit id/);
  });

  it('firebreak iam-policy adds the Organizations reads only when the guardrails name an OU', async () => {
    const home = tempHome('fb-org-iam-');
    const withUnits = join(home, 'with.yaml');
    writeFileSync(withUnits, stringify({ guardrails: { allowedAccounts: [PROD, '111122223333'] } }));
    const withoutUnits = join(home, 'without.yaml');
    writeFileSync(withoutUnits, stringify({ guardrails: { allowedAccounts: ['111122223333'] } }));
    const [a, b] = await Promise.all([
      cli(['iam-policy', 'ec2-instance-compromise', '--config', withUnits], { home }),
      cli(['iam-policy', 'ec2-instance-compromise', '--config', withoutUnits], { home }),
    ]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    const statement = (out: string) =>
      (JSON.parse(out).Statement as { Sid: string; Action: string[] }[]).find((s) => s.Sid === 'FirebreakResolveGuardrailUnits');
    expect(statement(a.stdout)?.Action).toEqual(['organizations:ListAccountsForParent', 'organizations:ListOrganizationalUnitsForParent']);
    expect(a.stderr).toContain(PROD);
    expect(statement(b.stdout)).toBeUndefined();
    expect(JSON.stringify(JSON.parse(b.stdout))).not.toContain('organizations:');
  });
});
