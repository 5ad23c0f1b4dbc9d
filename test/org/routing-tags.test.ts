/**
 * Routing's tag lookup in the alert's account and Region: a finding that carries no tags about
 * i-0deca0de000000001 in member account 222222222222 (eu-west-1, env=prod) is routed by that
 * instance's tags, read through the member's responder role — never by the security account's
 * collector with the same id in us-east-1 (env=security).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { handleAlert } from '../../src/triggers/dispatch.js';
import { parseAlertText } from '../../src/triggers/parse.js';
import { loadRoutes } from '../../src/triggers/routes.js';
import { routingTagLookup, type RoutingCallRecord } from '../../src/triggers/routing-clients.js';
import { TriggerLog } from '../../src/triggers/trigger-log.js';
import { tempHome } from '../helpers/cli.js';

const ORG = resolve('worlds/organization.yaml');
const MEMBER = '222222222222';
const TWIN = 'i-0deca0de000000001';
const RESPONDER = 'arn:aws:iam::222222222222:role/FirebreakResponder';

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

/** A GuardDuty finding about the instance, without the instance's tags (routing must read them). */
function untaggedFinding(account: string, region: string, instanceId: string): string {
  const e = JSON.parse(readFileSync('test/fixtures/alerts/guardduty-bitcoin-dns.eventbridge.json', 'utf8'));
  const id = `f-tags-${account}-${region}`;
  Object.assign(e, { account, region, id: `evt-${id}` });
  Object.assign(e.detail, { accountId: account, region, id, arn: `arn:aws:guardduty:${region}:${account}:detector/d/finding/${id}` });
  const inst = e.detail.resource.instanceDetails;
  inst.instanceId = instanceId;
  delete inst.tags;
  delete inst.iamInstanceProfile;
  inst.networkInterfaces = [];
  return JSON.stringify(e);
}

async function route(env: string) {
  const home = tempHome('fb-org-tags-');
  const w = parse(readFileSync(ORG, 'utf8'));
  w.time = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const world = join(home, 'organization.json');
  writeFileSync(world, JSON.stringify(w));
  const playbook = join(home, 'isolate-only.yaml');
  writeFileSync(playbook, stringify(ISOLATE_ONLY));
  const routesFile = join(home, 'routes.yaml');
  writeFileSync(
    routesFile,
    stringify({
      routes: [
        {
          name: `only-${env}`,
          match: { source: 'guardduty', tags: { env } },
          playbook,
          inputs: { instanceId: '{% resources.instanceIds[0] %}' },
          roleArn: 'arn:aws:iam::{% account %}:role/FirebreakResponder',
          externalId: 'firebreak-{% account %}-7f3a9c',
        },
      ],
    }),
  );
  const calls: RoutingCallRecord[] = [];
  const [alert] = parseAlertText(untaggedFinding(MEMBER, 'eu-west-1', TWIN));
  expect(alert!.tags).toEqual({});
  const out = await handleAlert(alert!, {
    home,
    table: loadRoutes(routesFile),
    log: new TriggerLog(join(home, 'triggers.jsonl')),
    via: 'cli',
    sim: world,
    region: 'us-east-1',
    lookupTags: routingTagLookup({ sim: world, region: 'us-east-1' }, calls),
    print: () => {},
    warn: () => {},
  });
  return { out, calls };
}

describe("routing's tag lookup", () => {
  it("reads the member account's tags in the alert's Region, through the responder role: env=prod matches", async () => {
    const { out, calls } = await route('prod');
    expect(out.kind).toBe('started');
    if (out.kind !== 'started') return;
    expect(out.route).toBe('only-prod');
    expect(out.run.status).toBe('succeeded');
    const describe = calls.find((c) => c.operation === 'DescribeInstances')!;
    expect(describe).toMatchObject({ service: 'ec2', region: 'eu-west-1', account: MEMBER, roleArn: RESPONDER, step: 'routing' });
    expect(describe.input).toEqual({ InstanceIds: [TWIN] });
    expect(describe.error).toBeUndefined();
    // The role was assumed with the run's template and external id, the route as source identity.
    const assume = calls.find((c) => c.operation === 'AssumeRole')!;
    expect(assume.input).toMatchObject({
      RoleArn: RESPONDER,
      ExternalId: 'firebreak-222222222222-7f3a9c',
      SourceIdentity: 'firebreak-route-only-prod',
      RoleSessionName: expect.stringMatching(/^firebreak-route-/),
    });
    expect(assume.error).toBeUndefined();
  });

  it("the security account's instance with the same id (env=security) does not decide the route", async () => {
    const { out, calls } = await route('security');
    expect(out).toMatchObject({ kind: 'ignored', reasons: [expect.stringMatching(/^only-security: .*env/)] });
    expect(calls.filter((c) => c.operation === 'DescribeInstances').map((c) => [c.account, c.region])).toEqual([[MEMBER, 'eu-west-1']]);
  });
});
