/**
 * The alert server on loopback. In-process (with a certificate fetcher that serves the test's own
 * certificate): SNS deliveries verified and handled, forged and replayed requests refused with 4xx
 * and logged, nothing started by them. As a process: a load of 1,000 alerts with repeats, every
 * unique alert run exactly once; then SIGTERM stops it cleanly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cliEnv, journal, ROOT, runIds, tempHome } from '../helpers/cli.js';
import { loadRoutes } from '../../src/triggers/routes.js';
import { startAlertServer, type AlertServer } from '../../src/triggers/server.js';
import { TriggerLog } from '../../src/triggers/trigger-log.js';
import {
  CERT_URL,
  fixture,
  makeCert,
  PAUSING_PLAYBOOK,
  PRESERVE_PLAYBOOK as PLAYBOOK,
  routeAllTo,
  scratch,
  snsMessage,
  TOPIC,
  webhookHeaders,
} from './helpers.js';

const SECRET = 'serve-test-secret-0123456789';
const routesFor = (dir: string) => `routes:
  - name: any-instance-alert
    match: { minSeverity: 5 }
    playbook: ${join(dir, 'tiny-preserve.yaml')}
    inputs: { instanceId: '{% resources.instanceIds[0] %}' }
    lockTimeout: 10m
`;
const readLog = (home: string, name: string) =>
  existsSync(join(home, name))
    ? readFileSync(join(home, name), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
    : [];

describe('firebreak serve (in process)', () => {
  const cert = makeCert();
  const home = tempHome();
  const dir = scratch({ 'tiny-preserve.yaml': PLAYBOOK });
  writeFileSync(join(dir, 'routes.yaml'), routesFor(dir));
  const fetched: string[] = [];
  const confirmed: string[] = [];
  let srv: AlertServer;

  beforeAll(async () => {
    const log = new TriggerLog(join(home, 'serve.jsonl'));
    await log.hold('serve test');
    srv = await startAlertServer({
      host: '127.0.0.1',
      port: 0,
      base: { home, table: loadRoutes(join(dir, 'routes.yaml')), sim: join(ROOT, 'worlds/demo.yaml') },
      log,
      snsTopics: [TOPIC],
      webhookSecret: SECRET,
      fetchCert: async (url) => {
        fetched.push(url.href);
        return cert.pem;
      },
      confirmSubscription: async (url) => void confirmed.push(url.href),
      maxBodyBytes: 64 * 1024,
      print: () => {},
    });
  });
  afterAll(async () => {
    await srv.shutdown('test over');
  });

  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${srv.url}${path}`, { method: 'POST', body, headers: { 'content-type': 'text/plain; charset=UTF-8', ...headers } });

  it('handles a signed SNS notification carrying a CloudWatch alarm: one run, on the instance of the alarm', async () => {
    const alarm = fixture('cloudwatch-alarm.sns.json');
    const m = snsMessage(cert.privateKey, { Message: alarm.Message, Subject: alarm.Subject, SignatureVersion: '1' });
    const res = await post('/sns', JSON.stringify(m), { 'x-amz-sns-message-type': 'Notification' });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { results: Array<{ runId: string; status: string }> };
    expect(body.results[0]!.status).toBe('queued');
    await srv.idle();
    const id = body.results[0]!.runId;
    expect(runIds(home)).toContain(id);
    const events = journal(home, id);
    expect(events.find((e) => e.type === 'run.started')).toMatchObject({
      inputs: { instanceId: 'i-0abc123def4567890' },
      trigger: { via: 'serve', deliveryId: `sns:${m.MessageId}` },
    });
    expect(events.at(-1)).toMatchObject({ type: 'run.ended', status: 'succeeded' });
    expect(fetched).toContain(CERT_URL);
    // The same SNS message delivered again (SNS retries) is a duplicate: nothing new starts.
    expect((await post('/sns', JSON.stringify(m))).status).toBe(202);
    await srv.idle();
    expect(journal(home, id).filter((e) => e.type === 'run.started').length).toBe(1);
    expect(readLog(home, 'serve.jsonl').some((e) => e.type === 'alert.duplicate' && e.runId === id)).toBe(true);
  });

  it('confirms a verified subscription on its SNS SubscribeURL only', async () => {
    const m = snsMessage(cert.privateKey, { Type: 'SubscriptionConfirmation', Message: 'You have chosen to subscribe to the topic' });
    const res = await post('/sns', JSON.stringify(m));
    expect(res.status).toBe(200);
    expect(confirmed).toEqual([m.SubscribeURL]);
    const other = snsMessage(makeCert().privateKey, { Type: 'SubscriptionConfirmation', Message: 'x' });
    expect((await post('/sns', JSON.stringify(other))).status).toBe(403);
    expect(confirmed.length).toBe(1);
  });

  it.each([
    {
      what: 'a forged SNS message (body altered after signing)',
      path: '/sns',
      make: () => {
        const m = snsMessage(cert.privateKey, { Message: fixture('cloudwatch-alarm.sns.json').Message });
        m.Message = m.Message.replace('i-0abc123def4567890', 'i-0fedcba9876543210');
        return { body: JSON.stringify(m) };
      },
      status: 403,
      reason: /does not verify/,
    },
    {
      what: 'an SNS message whose certificate is on another host',
      path: '/sns',
      make: () => ({
        body: JSON.stringify(
          snsMessage(cert.privateKey, { Message: '{}', SigningCertURL: 'https://evil.example/SimpleNotificationService.pem' }),
        ),
      }),
      status: 403,
      reason: /not an SNS certificate URL/,
    },
    {
      what: 'a replayed (stale) SNS message',
      path: '/sns',
      make: () => ({
        body: JSON.stringify(
          snsMessage(cert.privateKey, {
            Message: fixture('cloudwatch-alarm.sns.json').Message,
            Timestamp: new Date(Date.now() - 2 * 3600_000).toISOString(),
          }),
        ),
      }),
      status: 400,
      reason: /stale/,
    },
    {
      what: 'an SNS message from a topic not allowed',
      path: '/sns',
      make: () => ({
        body: JSON.stringify(snsMessage(cert.privateKey, { Message: '{}', TopicArn: 'arn:aws:sns:us-east-1:999999999999:other' })),
      }),
      status: 403,
      reason: /not allowed/,
    },
    {
      what: 'an alert with a wrong HMAC',
      path: '/alerts',
      make: () => {
        const body = JSON.stringify(fixture('generic.json'));
        return { body, headers: webhookHeaders('wrong-secret-0123456789abc', body) };
      },
      status: 401,
      reason: /does not match/,
    },
    {
      what: 'an alert without a signature',
      path: '/alerts',
      make: () => ({ body: JSON.stringify(fixture('generic.json')) }),
      status: 401,
      reason: /missing x-firebreak-signature/,
    },
    {
      what: 'an oversized body',
      path: '/alerts',
      make: () => {
        const body = JSON.stringify({ ...fixture('generic.json'), details: 'x'.repeat(70 * 1024) });
        return { body, headers: webhookHeaders(SECRET, body) };
      },
      status: 413,
      reason: /limit/,
    },
    {
      what: 'malformed JSON, correctly signed',
      path: '/alerts',
      make: () => {
        const body = '{"source": "x",';
        return { body, headers: webhookHeaders(SECRET, body) };
      },
      status: 400,
      reason: /failed to parse JSON/,
    },
    {
      what: 'an event of an unknown shape, correctly signed',
      path: '/alerts',
      make: () => {
        const body = '{"hello":"world"}';
        return { body, headers: webhookHeaders(SECRET, body) };
      },
      status: 400,
      reason: /unknown shape/,
    },
    {
      what: 'an alert without the resource the route maps',
      path: '/alerts',
      make: () => {
        const body = JSON.stringify({ source: 'x', id: 'no-instance', type: 't', severity: 9, resources: { remoteIps: ['198.51.100.1'] } });
        return { body, headers: webhookHeaders(SECRET, body) };
      },
      status: 400,
      reason: /missing required input 'instanceId'/,
    },
  ])('refuses $what with a 4xx, logs it, starts nothing', async ({ path, make, status, reason }) => {
    const before = runIds(home);
    const { body, headers } = make() as { body: string; headers?: Record<string, string> };
    const res = await post(path, body, headers);
    expect(res.status).toBe(status);
    expect(((await res.json()) as { error: string }).error).toMatch(reason);
    await srv.idle();
    expect(runIds(home)).toEqual(before);
    const last = readLog(home, 'serve.jsonl')
      .filter((e) => e.type === 'request.rejected')
      .at(-1);
    expect(last).toMatchObject({ path, status });
    expect(last.reason).toMatch(reason);
  });

  it('answers GET /healthz and GET /runs, and 404/405 elsewhere', async () => {
    const health = await fetch(`${srv.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', queued: 0, inFlight: 0 });
    const runs = (await (await fetch(`${srv.url}/runs`)).json()) as Array<{ id: string; status: string }>;
    expect(runs.map((r) => r.id)).toEqual(runIds(home));
    expect(runs.every((r) => r.status === 'succeeded')).toBe(true);
    expect((await fetch(`${srv.url}/nope`)).status).toBe(404);
    expect((await fetch(`${srv.url}/alerts`)).status).toBe(405);
  });
});

/** A small world with many instances, so concurrent runs mostly act on different ones. */
function loadWorld(instances: number): string {
  return stringify({
    account: { id: '111122223333' },
    region: 'us-east-1',
    time: '2026-01-01T00:00:00Z',
    ec2: {
      vpcs: [{ id: 'vpc-0a1b2c3d4e5f60718', cidrBlock: '10.0.0.0/16' }],
      subnets: [
        { id: 'subnet-0aa11bb22cc33dd44', vpcId: 'vpc-0a1b2c3d4e5f60718', cidrBlock: '10.0.1.0/24', availabilityZone: 'us-east-1a' },
      ],
      instances: Array.from({ length: instances }, (_, i) => ({
        id: instanceId(i),
        imageId: 'ami-0c55b159cbfafe1f0',
        instanceType: 't3.micro',
        subnetId: 'subnet-0aa11bb22cc33dd44',
        privateIpAddress: `10.0.1.${10 + i}`,
        launchTime: '2025-11-20T09:00:00Z',
      })),
    },
  });
}
const instanceId = (i: number) => `i-${(0x1000000000 + i).toString(16).padStart(17, '0')}`;

/** Deterministic shuffle (no test depends on chance). */
function shuffle<T>(xs: T[], seed = 7): T[] {
  const out = [...xs];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('firebreak serve (as a process, under load)', () => {
  const UNIQUE = 100;
  const COPIES = 10;
  const INSTANCES = 60;

  it(`1,000 alerts (${UNIQUE} unique, each sent ${COPIES} times with a rising count): every unique alert runs exactly once; SIGTERM stops cleanly`, {
    timeout: 180_000,
  }, async () => {
    const home = tempHome();
    const dir = scratch({ 'tiny-preserve.yaml': PLAYBOOK, 'world.yaml': loadWorld(INSTANCES) });
    writeFileSync(join(dir, 'routes.yaml'), routesFor(dir));
    const { child, url } = await startServe(home, [
      '--sim',
      join(dir, 'world.yaml'),
      '--routes',
      join(dir, 'routes.yaml'),
      '--max-runs',
      '4',
    ]);
    try {
      const deliveries = shuffle(
        Array.from({ length: UNIQUE }, (_, u) =>
          Array.from({ length: COPIES }, (_, c) => ({
            source: 'load-test',
            id: `alert-${u}`,
            type: 'Test:EC2/Load',
            severity: 7,
            count: c + 1,
            resources: { instanceIds: [instanceId(u % INSTANCES)] },
          })),
        ).flat(),
      );
      expect(deliveries.length).toBe(1000);
      const statuses: number[] = [];
      let next = 0;
      // 16 clients at once, each posting until the list is done.
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < deliveries.length) {
            const body = JSON.stringify(deliveries[next++]);
            const res = await fetch(`${url}/alerts`, { method: 'POST', body, headers: webhookHeaders(SECRET, body) });
            statuses.push(res.status);
            await res.arrayBuffer();
          }
        }),
      );
      expect(statuses.length).toBe(1000);
      expect(statuses.every((s) => s === 202)).toBe(true);
      await waitUntilDrained(url);

      const ids = runIds(home);
      expect(ids.length).toBe(UNIQUE);
      let repeats = 0;
      for (const id of ids) {
        const events = journal(home, id);
        expect(events.filter((e) => e.type === 'run.started').length).toBe(1);
        expect(events.find((e) => e.type === 'run.ended')).toMatchObject({ status: 'succeeded' });
        repeats += events.filter((e) => e.type === 'alert.repeated').length;
      }
      // Every copy after the first is recorded on its run (the server handles a run's alerts in turn).
      expect(repeats).toBe(UNIQUE * (COPIES - 1));
      const health = (await (await fetch(`${url}/healthz`)).json()) as {
        maxInFlightSeen: number;
        started: number;
        repeated: number;
        failed: number;
      };
      expect(health).toMatchObject({ started: UNIQUE, repeated: UNIQUE * (COPIES - 1), failed: 0 });
      expect(health.maxInFlightSeen).toBeLessThanOrEqual(4);
    } finally {
      const exit = await stopServe(child);
      expect(exit).toBe(0);
    }
    const log = readLog(home, 'serve.jsonl');
    expect(log.at(-1)).toMatchObject({ type: 'serve.stopped', reason: 'SIGTERM', leftInSpool: 0 });
  });
});

describe('firebreak serve: a run interrupted by SIGTERM', () => {
  it('keeps its alert in the spool, and the next server resumes the run without redoing a completed step', {
    timeout: 120_000,
  }, async () => {
    const home = tempHome();
    const dir = scratch({ 'pausing.yaml': PAUSING_PLAYBOOK });
    writeFileSync(join(dir, 'routes.yaml'), routeAllTo(join(dir, 'pausing.yaml')));
    const args = ['--sim', join(ROOT, 'worlds/demo.yaml'), '--routes', join(dir, 'routes.yaml')];
    const body = JSON.stringify({
      source: 'test',
      id: 'interrupted-1',
      type: 'Test:EC2/Pause',
      severity: 7,
      resources: { instanceIds: ['i-0abc123def4567890'] },
    });

    const first = await startServe(home, args);
    let id: string | undefined;
    try {
      const res = await fetch(`${first.url}/alerts`, { method: 'POST', body, headers: webhookHeaders(SECRET, body) });
      expect(res.status).toBe(202);
      // SIGTERM while the run waits (bounded polling, no timing assertion; the wait is long enough
      // for a busy machine to deliver the signal before it ends).
      const waiting = () =>
        !!id && existsSync(join(home, 'runs', id, 'journal.jsonl')) && journal(home, id).some((e) => e.type === 'wait.started');
      for (let i = 0; i < 600 && !waiting(); i++) {
        await new Promise((r) => setTimeout(r, 50));
        id ??= runIds(home)[0];
      }
    } finally {
      expect(await stopServe(first.child)).toBe(0);
    }
    expect(id).toBeDefined();
    expect(journal(home, id!).at(-1)).toMatchObject({ type: 'run.interrupted' });
    expect(readLog(home, 'serve.jsonl').at(-1)).toMatchObject({ type: 'serve.stopped', reason: 'SIGTERM', leftInSpool: 1 });

    const second = await startServe(home, args);
    try {
      await waitUntilDrained(second.url);
      const health = (await (await fetch(`${second.url}/healthz`)).json()) as Record<string, number>;
      expect(health).toMatchObject({ resumed: 1, started: 0, repeated: 0, failed: 0 });
    } finally {
      expect(await stopServe(second.child)).toBe(0);
    }
    const events = journal(home, id!);
    expect(events.filter((e) => e.type === 'run.started')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'run.resumed')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'step.completed').map((e) => e.step)).toEqual(['preserve', 'pause', 'again']);
    expect(events.filter((e) => e.type === 'aws.call' && e.operation === 'ModifyInstanceAttribute')).toHaveLength(1); // "again" found it done
    expect(events.at(-1)).toMatchObject({ type: 'run.ended', status: 'succeeded' });
    expect(readLog(home, 'serve.jsonl').at(-1)).toMatchObject({ type: 'serve.stopped', leftInSpool: 0 });
    expect(readLog(home, 'serve.jsonl').some((e) => e.type === 'alert.resumed' && e.runId === id)).toBe(true);
  });
});

async function startServe(home: string, args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], {
    cwd: ROOT,
    env: cliEnv(home, { FIREBREAK_WEBHOOK_SECRET: SECRET }),
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
  return { child, url };
}

function stopServe(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.on('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

/** Poll /healthz until nothing is queued or running (bounded count, no timing assertion). */
async function waitUntilDrained(url: string): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    const h = (await (await fetch(`${url}/healthz`)).json()) as { queued: number; inFlight: number; pending: number };
    if (h.queued === 0 && h.inFlight === 0 && h.pending === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the server did not drain');
}
