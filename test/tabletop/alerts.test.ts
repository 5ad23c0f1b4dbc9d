/**
 * Alert injects are the events AWS delivers, read by production's own parser; a second copy of a
 * finding is recorded and starts nothing.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAlertValue } from '../../src/triggers/parse.js';
import { runExercise } from '../../src/tabletop/exercise.js';
import { buildAlertEvent } from '../../src/tabletop/findings.js';
import { loadScenarioText } from '../../src/tabletop/load.js';
import { AlertSchema } from '../../src/tabletop/scenario.js';
import { CRYPTO_FINDING, ISOLATED_OBJECTIVE, ONE_INSTANCE_WORLD } from './helpers.js';

const ctx = {
  scenarioId: 's',
  injectKey: 'finding',
  accountId: '111122223333',
  region: 'us-east-1',
  now: new Date('2026-01-01T00:05:00Z'),
};

describe('alert events', () => {
  it('a GuardDuty finding becomes the EventBridge event production reads, with GuardDuty’s dedup key', () => {
    const alert = AlertSchema.parse({
      guardduty: {
        type: 'CryptoCurrency:EC2/BitcoinTool.B!DNS',
        severity: 8,
        resource: {
          resourceType: 'Instance',
          instanceDetails: { instanceId: 'i-0c0ffee0000000001', tags: [{ key: 'env', value: 'prod' }] },
        },
      },
      playbook: 'ec2-instance-compromise',
    });
    const ev = buildAlertEvent(alert, ctx);
    expect(ev.event).toMatchObject({
      'detail-type': 'GuardDuty Finding',
      source: 'aws.guardduty',
      account: '111122223333',
      time: '2026-01-01T00:05:00Z',
    });
    const [parsed] = parseAlertValue(ev.event, { deliveryId: 'test' });
    expect(parsed).toMatchObject({
      adapter: 'guardduty',
      type: 'CryptoCurrency:EC2/BitcoinTool.B!DNS',
      severity: 8,
      active: true,
      sample: false,
    });
    expect(parsed!.resources.instanceIds).toEqual(['i-0c0ffee0000000001']);
    expect(parsed!.tags['i-0c0ffee0000000001']).toEqual({ env: 'prod' });
    const id = (ev.event.detail as { id: string }).id;
    expect(parsed!.dedupKey).toBe(`guardduty:111122223333:us-east-1:${id}`);
    // The same finding later is the same finding (GuardDuty updates it rather than making a new one).
    expect(buildAlertEvent(alert, { ...ctx, injectKey: 'again', now: new Date('2026-01-01T00:09:00Z') }).dedupKey).toBe(ev.dedupKey);
  });

  it('a Security Hub finding becomes an ASFF "Findings - Imported" event', () => {
    const alert = AlertSchema.parse({
      securityhub: {
        Title: 'EC2 instance has a public SSH port',
        Types: ['Software and Configuration Checks/AWS Security Best Practices'],
        Severity: { Label: 'HIGH' },
        Resources: [{ Type: 'AwsEc2Instance', Id: 'arn:aws:ec2:us-east-1:111122223333:instance/i-0c0ffee0000000001' }],
      },
      playbook: 'ec2-instance-compromise',
    });
    const ev = buildAlertEvent(alert, ctx);
    expect(ev.event['detail-type']).toBe('Security Hub Findings - Imported');
    const [parsed] = parseAlertValue(ev.event, { deliveryId: 'test' });
    expect(parsed).toMatchObject({ adapter: 'securityhub', severityLabel: 'HIGH', account: '111122223333' });
    expect(parsed!.resources.instanceIds).toEqual(['i-0c0ffee0000000001']);
  });

  it('a repeated finding is recorded on the run it started and starts nothing', async () => {
    const text = `id: repeat
title: Repeat
duration: 20m
${ONE_INSTANCE_WORLD}
timeline:
  - at: 3m
    id: finding
    repeat: { every: 5m, times: 3 }
${CRYPTO_FINDING}
${ISOLATED_OBJECTIVE}
`;
    const scenario = await loadScenarioText(text, 'repeat.yaml');
    const r = await runExercise({ scenario, auto: true, seed: 1, dir: mkdtempSync(join(tmpdir(), 'fb-repeat-')) });
    expect(r.runs.map((x) => x.runId)).toEqual(['repeat-1']);
    const dups = r.timeline.filter((e) => e.kind === 'duplicate');
    expect(dups.map((e) => e.ref)).toEqual(['finding#2', 'finding#3']);
    expect(dups[0]!.text).toContain('recorded on run repeat-1; it starts nothing');
    expect(r.objectives[0]!.status).toBe('met');
  });
});
