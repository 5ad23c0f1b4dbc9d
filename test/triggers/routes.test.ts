/**
 * The routing table: which alert starts which playbook, with which inputs and approvals; and a
 * bad table refused with file:line:col before any alert is read.
 */
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import type { Alert } from '../../src/triggers/alert.js';
import { globMatch } from '../../src/triggers/glob.js';
import { mapRouteInputs } from '../../src/triggers/route-inputs.js';
import { chooseRoute, loadRoutes, parseRoutes } from '../../src/triggers/routes.js';
import { parseAlertText, parseAlertValue } from '../../src/triggers/parse.js';
import { fixtureText, gdEvent } from './helpers.js';

const TABLE = `
routes:
  - name: crypto
    match: { source: [guardduty, securityhub], type: ['CryptoCurrency:EC2/*', 'TTPs/*CryptoCurrency:EC2-*'], minSeverity: 5 }
    playbook: ec2-instance-compromise
    inputs: { instanceId: '{% resources.instanceIds[0] %}' }
    approval: { preserve: auto, isolate: auto }
  - name: prod-account-only
    match: { type: 'Backdoor:EC2/*', account: '111122223333', region: [us-east-1, eu-west-1] }
    playbook: ec2-instance-compromise
    inputs: { instanceId: '{% resources.instanceIds[0] %}' }
  - name: prod-tagged
    match: { source: cloudwatch, type: 'CloudWatchAlarm:ALARM/*', tags: { env: prod } }
    playbook: ec2-instance-compromise
    inputs: { instanceId: '{% $alert.resources.instanceIds[0] %}' }
    approval: { isolate: required }
  - name: catch-all-generic
    match: { source: 'edr-*' }
    playbook: ec2-instance-compromise
    inputs: { instanceId: '{% resources.instanceIds[0] %}' }
`;
const table = parseRoutes(TABLE, 'routes.yaml');

const gd = (mut: (d: any) => void = () => {}) => {
  const e = gdEvent();
  mut(e.detail);
  return parseAlertValue(e, { deliveryId: 'd' })[0]!;
};
const alarm = parseAlertText(fixtureText('cloudwatch-alarm.sns.json'))[0]!;
const noTags = (a: Alert): Alert => ({ ...a, tags: {} });

describe('routing', () => {
  it.each<{ what: string; alert: Alert; route: string | undefined; why?: RegExp }>([
    { what: 'a crypto finding', alert: gd(), route: 'crypto' },
    {
      what: 'a crypto finding forwarded by Security Hub',
      alert: parseAlertText(fixtureText('securityhub-imported.eventbridge.json'))[0]!,
      route: 'crypto',
    },
    {
      what: 'a crypto finding below the minimum severity',
      alert: gd((d) => (d.severity = 4.9)),
      route: undefined,
      why: /crypto: severity 4.9 is below 5/,
    },
    {
      what: 'another finding type',
      alert: gd((d) => (d.type = 'Recon:EC2/PortProbeUnprotectedPort')),
      route: undefined,
      why: /type 'Recon:EC2\/PortProbeUnprotectedPort' does not match/,
    },
    {
      what: 'a backdoor in the allowed account and region',
      alert: gd((d) => (d.type = 'Backdoor:EC2/C&CActivity.B!DNS')),
      route: 'prod-account-only',
    },
    {
      what: 'a backdoor in another account',
      alert: gd((d) => {
        d.type = 'Backdoor:EC2/C&CActivity.B';
        d.accountId = '444455556666';
      }),
      route: undefined,
      why: /account 444455556666 is not 111122223333/,
    },
    {
      what: 'a backdoor in another region',
      alert: gd((d) => {
        d.type = 'Backdoor:EC2/C&CActivity.B';
        d.region = 'ap-south-1';
      }),
      route: undefined,
      why: /region ap-south-1 is not us-east-1 or eu-west-1/,
    },
    { what: 'an archived finding', alert: gd((d) => (d.service.archived = true)), route: undefined, why: /archived/ },
    { what: 'a sample finding', alert: gd((d) => (d.service.additionalInfo = { sample: true })), route: undefined, why: /sample finding/ },
    { what: 'an alarm on a prod-tagged instance (tags looked up)', alert: alarm, route: 'prod-tagged' },
    {
      what: 'a generic alert matched by a source pattern',
      alert: parseAlertText(fixtureText('generic.json'))[0]!,
      route: 'catch-all-generic',
    },
  ])('$what → $route', async ({ alert, route, why }) => {
    const lookups: string[] = [];
    const d = await chooseRoute(alert, table, async (a) => {
      lookups.push(...a.resources.instanceIds);
      return { 'i-0abc123def4567890': { env: 'prod' } };
    });
    expect(d.route?.name).toBe(route);
    if (why) expect(d.reasons.join('\n')).toMatch(why);
    // Only an otherwise matching route with a tag criterion may look tags up.
    expect(lookups).toEqual(route === 'prod-tagged' ? ['i-0abc123def4567890'] : []);
  });

  it('a tag criterion the resource does not meet does not match, and says why', async () => {
    const d = await chooseRoute(alarm, table, async () => ({ 'i-0abc123def4567890': { env: 'staging' } }));
    expect(d.route).toBeUndefined();
    expect(d.reasons.join('\n')).toMatch(/prod-tagged: no resource of the alert carries env=prod/);
  });

  it('reads tags the alert carries without looking them up', async () => {
    let asked = 0;
    const a: Alert = { ...alarm, tags: { 'i-0abc123def4567890': { env: 'prod' } } };
    const d = await chooseRoute(a, table, async () => {
      asked++;
      return {};
    });
    expect(d).toMatchObject({ route: { name: 'prod-tagged' }, tagsFrom: 'alert' });
    expect(asked).toBe(0);
    expect((await chooseRoute(noTags(a), table)).route).toBeUndefined();
  });

  it('the first matching route wins', async () => {
    const t = parseRoutes(
      TABLE.replace(
        'routes:\n',
        "routes:\n  - name: first\n    playbook: ec2-instance-compromise\n    inputs: { instanceId: '{% resources.instanceIds[0] %}' }\n",
      ),
      'r.yaml',
    );
    expect((await chooseRoute(gd(), t)).route?.name).toBe('first');
  });

  it('maps inputs with JSONata over the alert and checks them against the playbook', async () => {
    const route = table.routes.find((r) => r.name === 'crypto')!;
    expect(
      await mapRouteInputs(route.inputs, gd(), route.loaded, { route: route.name, posOf: table.posOf, index: route.index }),
    ).toMatchObject({ instanceId: 'i-0abc123def4567890' });
    expect(route.approval).toEqual({ preserve: 'auto', isolate: 'auto' });
    // An alert that lacks the resource the route maps: refused, naming the route and the input.
    const noInstance = parseAlertValue(
      { source: 'edr-x', id: '1', type: 't', severity: 5, resources: { remoteIps: ['198.51.100.1'] } },
      { deliveryId: 'd' },
    )[0]!;
    await expect(mapRouteInputs(route.inputs, noInstance, route.loaded, { route: 'crypto', posOf: table.posOf, index: 0 })).rejects.toThrow(
      /route 'crypto' cannot start ec2-instance-compromise for this alert: missing required input 'instanceId'/,
    );
  });

  it('the example routes.yaml at the repository root loads', () => {
    const t = loadRoutes('routes.yaml');
    expect(t.routes.map((r) => r.name)).toContain('crypto-mining');
  });

  it.each([
    {
      what: 'an unknown playbook',
      text: 'routes:\n  - name: a\n    playbook: no-such-playbook\n',
      line: /^r\.yaml:3:15: .*unknown playbook 'no-such-playbook'/,
    },
    {
      what: 'an unknown input',
      text: 'routes:\n  - name: a\n    playbook: ec2-instance-compromise\n    inputs: { instanceID: x }\n',
      line: /^r\.yaml:4:15: .*unknown input 'instanceID' of playbook ec2-instance-compromise \(did you mean 'instanceId'\?\)/,
    },
    {
      what: 'an unknown step in approval',
      text: 'routes:\n  - name: a\n    playbook: ec2-instance-compromise\n    approval:\n      isolat: auto\n',
      line: /^r\.yaml:5:7: .*unknown step 'isolat'.*did you mean 'isolate'/,
    },
    {
      what: 'a bad approval value',
      text: 'routes:\n  - name: a\n    playbook: ec2-instance-compromise\n    approval: { isolate: yes }\n',
      line: /^r\.yaml:4:26: routes\[0\]\.approval\.isolate: expected one of auto, required/,
    },
    {
      what: 'a bad JSONata expression',
      text: "routes:\n  - name: a\n    playbook: ec2-instance-compromise\n    inputs: { instanceId: '{% resources.[ %}' }\n",
      line: /^r\.yaml:4:27: .*invalid JSONata expression/,
    },
    {
      what: 'an unknown match field',
      text: 'routes:\n  - name: a\n    match: { severity: 5 }\n    playbook: ec2-instance-compromise\n',
      line: /^r\.yaml:3:14: routes\[0\]\.match\.severity: unknown field 'severity'/,
    },
    {
      what: 'a duplicate route name',
      text: 'routes:\n  - name: a\n    playbook: ec2-instance-compromise\n  - name: a\n    playbook: ec2-instance-compromise\n',
      line: /^r\.yaml:4:11: .*duplicate route name 'a'/,
    },
    {
      what: 'a severity out of range',
      text: 'routes:\n  - name: a\n    match: { minSeverity: 11 }\n    playbook: ec2-instance-compromise\n',
      line: /^r\.yaml:3:27: .*must be at most 10/,
    },
    { what: 'no routes', text: 'routes: []\n', line: /needs at least 1 item/ },
  ])('refuses $what with file:line:col', ({ text, line }) => {
    let err: unknown;
    try {
      parseRoutes(text, 'r.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).line).toMatch(line);
  });
});

describe('type patterns', () => {
  it.each([
    ['CryptoCurrency:EC2/*', 'CryptoCurrency:EC2/BitcoinTool.B!DNS', true],
    ['CryptoCurrency:EC2/*', 'CryptoCurrency:Lambda/BitcoinTool.B', false],
    ['*:EC2/*', 'Backdoor:EC2/C&CActivity.B!DNS', true],
    ['UnauthorizedAccess:EC2/SSHBruteForce', 'UnauthorizedAccess:EC2/SSHBruteForce', true],
    ['UnauthorizedAccess:EC2/SSHBruteForce', 'UnauthorizedAccess:EC2/SSHBruteForce.X', false],
    ['Trojan:EC2/DNSDataExfiltration!DNS', 'Trojan:EC2/DNSDataExfiltration!DNS', true],
    ['Backdoor:EC2/C&CActivity.?', 'Backdoor:EC2/C&CActivity.B', true],
    ['Backdoor:EC2/C&CActivity.?', 'Backdoor:EC2/C&CActivity.B!DNS', false],
    ['Recon:EC2/Port[Probe]', 'Recon:EC2/PortP', false],
    ['TTPs/*', 'TTPs/Command and Control/CryptoCurrency:EC2-BitcoinTool.B!DNS', true],
  ])('%s vs %s → %s', (pattern, type, expected) => {
    expect(globMatch(pattern, type)).toBe(expected);
  });
});
