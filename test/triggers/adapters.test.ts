/**
 * Each adapter reads its fixture (shaped like AWS's published samples) into the normalized alert,
 * and bad input is refused with the field that is wrong.
 */
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { parseAlertText, parseAlertValue } from '../../src/triggers/parse.js';
import { fixture, fixtureText, gdEvent } from './helpers.js';

const parse = (name: string) => parseAlertText(fixtureText(name), { file: name });

describe('adapters', () => {
  it.each([
    {
      file: 'guardduty-bitcoin-dns.eventbridge.json',
      adapter: 'guardduty',
      source: 'guardduty',
      type: 'CryptoCurrency:EC2/BitcoinTool.B!DNS',
      severity: 8,
      label: 'HIGH',
      resources: { instanceIds: ['i-0abc123def4567890'], accessKeyIds: [], userNames: [], roleNames: [], remoteIps: [] },
      dedupKey: 'guardduty:111122223333:us-east-1:9cb7a1e3f2d84b6a8c0e5f1d2a3b4c5d',
      runIdPrefix: 'gd-',
      deliveryId: 'eventbridge:5a1e3b2c-7d4f-6a8b-9c0d-1e2f3a4b5c6d',
      count: 1,
    },
    {
      file: 'guardduty-credential-exfiltration.cli.json',
      adapter: 'guardduty',
      source: 'guardduty',
      type: 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS',
      severity: 8,
      label: 'HIGH',
      resources: {
        instanceIds: ['i-0abc123def4567890'],
        accessKeyIds: ['ASIAEXAMPLEEXFIL0001'],
        userNames: [],
        roleNames: ['web-app-role'],
        remoteIps: ['198.51.100.23'],
      },
      dedupKey: 'guardduty:111122223333:us-east-1:4e8d2c1b0a9f4e7d8c6b5a4f3e2d1c0b',
      runIdPrefix: 'gd-',
      count: 3,
    },
    {
      file: 'guardduty-ssh-brute-force.raw.json',
      adapter: 'guardduty',
      source: 'guardduty',
      type: 'UnauthorizedAccess:EC2/SSHBruteForce',
      severity: 2,
      label: 'LOW',
      resources: { instanceIds: ['i-0abc123def4567890'], accessKeyIds: [], userNames: [], roleNames: [], remoteIps: ['203.0.113.77'] },
      dedupKey: 'guardduty:111122223333:us-east-1:b2c4e6a8d0f24c6e8a0b2d4f6a8c0e21',
      runIdPrefix: 'gd-',
      count: 27,
    },
    {
      file: 'cloudwatch-alarm.sns.json',
      adapter: 'cloudwatch-alarm',
      source: 'cloudwatch',
      type: 'CloudWatchAlarm:ALARM/cpu-high-web-1',
      severity: 7,
      label: 'HIGH',
      resources: { instanceIds: ['i-0abc123def4567890'], accessKeyIds: [], userNames: [], roleNames: [], remoteIps: [] },
      dedupKey: 'cloudwatch:arn:aws:cloudwatch:us-east-1:111122223333:alarm:cpu-high-web-1:2026-01-01T03:10:44.637+0000',
      runIdPrefix: 'cw-',
      deliveryId: 'sns:0f4c2e8a-6b1d-5a3e-9c7f-2d4b6a8c0e1f',
    },
    {
      file: 'generic.json',
      adapter: 'generic',
      source: 'edr-falcon',
      type: 'Malware:EC2/ReverseShell',
      severity: 7,
      label: 'HIGH',
      resources: { instanceIds: ['i-0abc123def4567890'], accessKeyIds: [], userNames: [], roleNames: [], remoteIps: ['198.51.100.99'] },
      dedupKey: 'generic:edr-falcon:111122223333/us-east-1:det-2026-0001-7781',
      runIdPrefix: 'ev-',
    },
  ])('$file → a $adapter alert', (c) => {
    const [alert, ...rest] = parse(c.file);
    expect(rest).toEqual([]);
    expect(alert).toMatchObject({
      adapter: c.adapter,
      source: c.source,
      type: c.type,
      severity: c.severity,
      severityLabel: c.label,
      account: '111122223333',
      region: 'us-east-1',
      resources: c.resources,
      dedupKey: c.dedupKey,
      active: true,
      sample: false,
    });
    expect(alert!.runId).toMatch(new RegExp(`^${c.runIdPrefix}[0-9a-f]{12}$`));
    if (c.deliveryId) expect(alert!.deliveryId).toBe(c.deliveryId);
    if (c.count !== undefined) expect(alert!.count).toBe(c.count);
    expect(alert!.raw).toBeTruthy();
  });

  it('reads the tags a GuardDuty finding carries for its instance', () => {
    const [a] = parse('guardduty-bitcoin-dns.eventbridge.json');
    expect(a!.tags).toEqual({ 'i-0abc123def4567890': { Name: 'web-1', env: 'prod' } });
  });

  it('gives a GuardDuty finding forwarded by Security Hub the same run as the finding itself, one alert per ASFF finding', () => {
    const [direct] = parse('guardduty-bitcoin-dns.eventbridge.json');
    const [viaHub, control] = parse('securityhub-imported.eventbridge.json');
    expect(viaHub).toMatchObject({
      adapter: 'securityhub',
      source: 'securityhub',
      type: 'TTPs/Command and Control/CryptoCurrency:EC2-BitcoinTool.B!DNS',
      severityLabel: 'HIGH',
      count: 1,
    });
    expect(viaHub!.resources.instanceIds).toEqual(['i-0abc123def4567890']);
    expect(viaHub!.tags['i-0abc123def4567890']).toEqual({ Name: 'web-1', env: 'prod' });
    expect(viaHub!.dedupKey).toBe(direct!.dedupKey);
    expect(viaHub!.runId).toBe(direct!.runId);
    expect(viaHub!.deliveryId).toBe('eventbridge:8f2d6c4a-1b3e-5d7f-9a0c-2e4b6d8f0a1c#0');
    // A control finding about a security group names no resource Firebreak acts on: it parses, and routing ignores it.
    expect(control).toMatchObject({ severity: 9, severityLabel: 'CRITICAL', runId: expect.stringMatching(/^sh-/) });
    expect(control!.resources.instanceIds).toEqual([]);
  });

  it('the same finding in camelCase (EventBridge) and PascalCase (AWS CLI) reads the same', () => {
    const camel = gdEvent().detail;
    const pascal = JSON.parse(JSON.stringify(camel), function (this: unknown, _k, v) {
      if (v && typeof v === 'object' && !Array.isArray(v))
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k[0]!.toUpperCase() + k.slice(1), x]));
      return v;
    });
    const [a] = parseAlertValue(camel, { deliveryId: 'd' });
    const [b] = parseAlertValue({ Findings: [pascal] }, { deliveryId: 'd' });
    expect({ ...b, raw: null, deliveryId: null }).toEqual({ ...a, raw: null, deliveryId: null });
  });

  it('reads an SNS notification whose message is an EventBridge event, and Lambda SNS records', () => {
    const event = gdEvent({ eventId: 'ev-1' });
    const [viaSns] = parseAlertValue(
      { Type: 'Notification', MessageId: 'm-1', TopicArn: 'arn:aws:sns:us-east-1:111122223333:t', Message: JSON.stringify(event) },
      { deliveryId: 'x' },
    );
    // The EventBridge event's own id identifies the delivery, whichever way it came.
    expect(viaSns).toMatchObject({
      adapter: 'guardduty',
      deliveryId: 'eventbridge:ev-1',
      resources: { instanceIds: ['i-0abc123def4567890'] },
    });
    const alarm = fixture('cloudwatch-alarm.sns.json');
    const { Type: _t, ...sns } = alarm;
    const [viaLambda] = parseAlertValue(
      { Records: [{ EventSource: 'aws:sns', Sns: { Type: 'Notification', ...sns } }] },
      { deliveryId: 'x' },
    );
    expect(viaLambda).toMatchObject({ adapter: 'cloudwatch-alarm', type: 'CloudWatchAlarm:ALARM/cpu-high-web-1' });
  });

  it.each([
    { what: 'an archived GuardDuty finding', mutate: (e: any) => (e.detail.service.archived = true), reason: /archived/ },
    { what: 'a GuardDuty sample finding', mutate: (e: any) => (e.detail.service.additionalInfo = { sample: true }), sample: true },
  ])('marks $what', ({ mutate, reason, sample }) => {
    const e = gdEvent();
    mutate(e);
    const [a] = parseAlertValue(e, { deliveryId: 'd' });
    if (reason) expect(a).toMatchObject({ active: false, inactiveReason: expect.stringMatching(reason) });
    if (sample) expect(a!.sample).toBe(true);
  });

  it('an alarm back to OK is inactive', () => {
    const e = fixture('cloudwatch-alarm.sns.json');
    e.Message = e.Message.replace('"NewStateValue":"ALARM"', '"NewStateValue":"OK"');
    const [a] = parseAlertValue(e, { deliveryId: 'd' });
    expect(a).toMatchObject({ active: false, type: 'CloudWatchAlarm:OK/cpu-high-web-1', severity: 0 });
  });

  it.each([
    { file: 'bad/malformed.json', line: /malformed\.json:3:26: failed to parse JSON/ },
    { file: 'bad/unknown-shape.json', line: /unknown shape \(top-level fields: alert, host\)/ },
    {
      file: 'bad/guardduty-missing-instance.json',
      line: /detail\.resource\.instanceDetails\.instanceId: failed to read GuardDuty finding: missing required field 'instanceId'/,
    },
    {
      file: 'bad/generic-typo.json',
      line: /resources: failed to read generic alert: missing required field 'resources'/,
      more: /unknown field 'resouces'/,
    },
  ])('refuses $file naming what is wrong', ({ file, line, more }) => {
    let err: unknown;
    try {
      parse(file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).line).toMatch(line);
    if (more) expect((err as InputError).more.map((m) => m.line).join('\n')).toMatch(more);
  });

  it.each([
    ['an empty document', ''],
    ['a JSON list', '[1,2]'],
    [
      'an EventBridge event of another kind',
      JSON.stringify({ 'detail-type': 'EC2 Instance State-change Notification', source: 'aws.ec2', detail: {} }),
    ],
    ['an SNS message that is not JSON', JSON.stringify({ Type: 'Notification', MessageId: 'm', TopicArn: 't', Message: 'hello' })],
    ['a subscription confirmation', JSON.stringify({ Type: 'SubscriptionConfirmation', MessageId: 'm', Message: 'x' })],
    [
      'a Security Hub event without findings',
      JSON.stringify({ 'detail-type': 'Security Hub Findings - Imported', detail: { findings: [] } }),
    ],
    ['a GuardDuty severity out of range', JSON.stringify({ ...gdEvent(), detail: { ...gdEvent().detail, severity: 42 } })],
    ['a generic alert with no resources', JSON.stringify({ source: 's', id: 'i', type: 't', severity: 5, resources: {} })],
    [
      'a generic alert with a malformed instance id',
      JSON.stringify({ source: 's', id: 'i', type: 't', severity: 5, resources: { instanceIds: ['web-1'] } }),
    ],
  ])('refuses %s', (_what, text) => {
    expect(() => parseAlertText(text, { file: 'x.json' })).toThrow(InputError);
  });
});

describe('dedup keys name the account and Region', () => {
  it('the same generic alert id from two accounts is two alerts', () => {
    const base = fixture('generic.json');
    const [a] = parseAlertText(JSON.stringify(base));
    const [b] = parseAlertText(JSON.stringify({ ...base, account: '222222222222', region: 'eu-west-1' }));
    expect(a!.dedupKey).not.toBe(b!.dedupKey);
    expect(a!.runId).not.toBe(b!.runId);
  });
});
