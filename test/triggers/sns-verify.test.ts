/**
 * SNS signature verification against a certificate the test generates, and the webhook HMAC.
 * Each refusal asserts its status and reason; the certificate fetcher records what it was asked.
 */
import { describe, expect, it } from 'vitest';
import { Rejected, verifySnsMessage, subscribeUrlOf, type SnsMessage } from '../../src/triggers/sns-verify.js';
import { signWebhook, WebhookVerifier } from '../../src/triggers/webhook-auth.js';
import { CERT_URL, makeCert, snsMessage, TOPIC } from './helpers.js';

const cert = makeCert();
const other = makeCert();
const fetched: string[] = [];
const fetchCert = async (url: URL) => {
  fetched.push(url.href);
  return cert.pem;
};
const verify = (body: unknown, extra: Partial<Parameters<typeof verifySnsMessage>[1]> = {}) =>
  verifySnsMessage(body, { fetchCert, topics: [TOPIC], ...extra });

async function rejection(p: Promise<unknown>): Promise<Rejected> {
  try {
    await p;
  } catch (e) {
    if (e instanceof Rejected) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

describe('SNS message signatures', () => {
  it.each(['1', '2'] as const)('accepts a notification signed with SignatureVersion %s, with and without Subject', async (v) => {
    for (const subject of [undefined, 'ALARM: "cpu" in US East']) {
      const m = snsMessage(cert.privateKey, { Message: '{"a":1}', SignatureVersion: v, ...(subject ? { Subject: subject } : {}) });
      const ok: SnsMessage = await verify(m);
      expect(ok.MessageId).toBe(m.MessageId);
    }
  });

  it('accepts a subscription confirmation and allows only an SNS SubscribeURL', async () => {
    const m = await verify(snsMessage(cert.privateKey, { Type: 'SubscriptionConfirmation', Message: 'You have chosen to subscribe…' }));
    expect(subscribeUrlOf(m).hostname).toBe('sns.us-east-1.amazonaws.com');
    const evil = await verify(
      snsMessage(cert.privateKey, {
        Type: 'SubscriptionConfirmation',
        Message: 'x',
        SubscribeURL: 'https://evil.example/?Action=ConfirmSubscription',
      }),
    );
    expect(() => subscribeUrlOf(evil)).toThrow(/is not on https:\/\/sns/);
  });

  it.each([
    {
      what: 'a tampered message body',
      mutate: (m: any) => (m.Message = m.Message.replace('i-0abc', 'i-0bad')),
      status: 403,
      reason: /does not verify/,
    },
    { what: 'a tampered subject', mutate: (m: any) => (m.Subject = 'other'), status: 403, reason: /does not verify/ },
    { what: 'a message signed with another key', sign: other, status: 403, reason: /does not verify/ },
    {
      what: 'a signature version changed after signing',
      mutate: (m: any) => (m.SignatureVersion = '1'),
      status: 403,
      reason: /does not verify/,
    },
    {
      what: 'a certificate on another host',
      fields: { SigningCertURL: 'https://sns.us-east-1.amazonaws.com.evil.example/cert.pem' },
      status: 403,
      reason: /not an SNS certificate URL/,
      fetches: 0,
    },
    {
      what: 'a certificate over plain HTTP',
      fields: { SigningCertURL: 'http://sns.us-east-1.amazonaws.com/cert.pem' },
      status: 403,
      reason: /not an SNS certificate URL/,
      fetches: 0,
    },
    {
      what: 'a certificate on an SNS host with a port',
      fields: { SigningCertURL: 'https://sns.us-east-1.amazonaws.com:8443/cert.pem' },
      status: 403,
      reason: /not an SNS certificate URL/,
      fetches: 0,
    },
    {
      what: 'a certificate URL with credentials',
      fields: { SigningCertURL: 'https://a:b@sns.us-east-1.amazonaws.com/cert.pem' },
      status: 403,
      reason: /not an SNS certificate URL/,
      fetches: 0,
    },
    {
      what: 'a certificate that is not a .pem',
      fields: { SigningCertURL: 'https://sns.us-east-1.amazonaws.com/?redirect=x' },
      status: 403,
      reason: /not an SNS certificate URL/,
      fetches: 0,
    },
    {
      what: 'a stale message (older than an hour)',
      fields: { Timestamp: new Date(Date.now() - 61 * 60_000).toISOString() },
      status: 400,
      reason: /stale SNS message/,
      fetches: 0,
    },
    {
      what: 'a message from the future',
      fields: { Timestamp: new Date(Date.now() + 30 * 60_000).toISOString() },
      status: 400,
      reason: /in the future/,
      fetches: 0,
    },
    {
      what: 'a topic not allowed here',
      fields: { TopicArn: 'arn:aws:sns:us-east-1:999999999999:attacker' },
      status: 403,
      reason: /not allowed/,
      fetches: 0,
    },
    {
      what: 'an unknown signature version',
      mutate: (m: any) => (m.SignatureVersion = '3'),
      status: 400,
      reason: /unsupported SignatureVersion/,
      fetches: 0,
    },
    { what: 'a missing signature', mutate: (m: any) => delete m.Signature, status: 400, reason: /lacks Signature/, fetches: 0 },
    {
      what: 'an unknown message type',
      mutate: (m: any) => (m.Type = 'Other'),
      status: 400,
      reason: /unknown SNS message Type/,
      fetches: 0,
    },
  ])('refuses $what', async ({ mutate, fields, sign, status, reason, fetches }) => {
    const m: any = snsMessage((sign ?? cert).privateKey, {
      Message: '{"instance":"i-0abc123def4567890"}',
      ...(fields ?? {}),
      ...(mutate ? { Subject: 's' } : {}),
    });
    mutate?.(m);
    const before = fetched.length;
    const r = await rejection(verify(m));
    expect(r.status).toBe(status);
    expect(r.reason).toMatch(reason);
    if (fetches === 0) expect(fetched.length).toBe(before);
  });

  it('refuses every topic when none is allowed', async () => {
    const r = await rejection(verify(snsMessage(cert.privateKey, { Message: 'x' }), { topics: [] }));
    expect(r).toMatchObject({ status: 403, reason: expect.stringMatching(/no SNS topic is allowed/) });
  });

  it('accepts topic patterns', async () => {
    await expect(
      verify(snsMessage(cert.privateKey, { Message: 'x', TopicArn: 'arn:aws:sns:eu-west-1:111122223333:alerts-prod' }), {
        topics: ['arn:aws:sns:*:111122223333:alerts-*'],
      }),
    ).resolves.toBeTruthy();
  });

  it('refuses an expired signing certificate and one that fails to download', async () => {
    const expired = makeCert({ notBefore: new Date(Date.now() - 10 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) });
    const m = snsMessage(expired.privateKey, { Message: 'x' });
    expect((await rejection(verify(m, { fetchCert: async () => expired.pem }))).reason).toMatch(/is not valid now/);
    expect(
      (
        await rejection(
          verify(m, {
            fetchCert: async () => {
              throw new Error('HTTP 404');
            },
          }),
        )
      ).reason,
    ).toMatch(/failed to fetch the signing certificate .*HTTP 404/);
    expect((await rejection(verify(m, { fetchCert: async () => 'not a certificate' }))).reason).toMatch(
      /failed to read the signing certificate/,
    );
  });

  it('fetches the certificate only from the URL in the message, after the cheap checks', async () => {
    const before = fetched.length;
    await verify(snsMessage(cert.privateKey, { Message: 'x' }));
    expect(fetched.slice(before)).toEqual([CERT_URL]);
  });
});

describe('webhook HMAC', () => {
  const secret = 'test-secret-0123456789abcdef';
  const body = Buffer.from('{"source":"s"}');
  const now = 1_780_000_000_000;
  const headersAt = (ts: number, sig?: string) => ({
    'x-firebreak-timestamp': String(ts),
    'x-firebreak-signature': sig ?? signWebhook(secret, ts, body),
  });
  const ts = Math.floor(now / 1000);

  it('accepts a correctly signed body once, and refuses its replay', () => {
    const v = new WebhookVerifier(secret, () => now);
    expect(() => v.verify(headersAt(ts), body)).not.toThrow();
    expect(() => v.verify(headersAt(ts), body)).toThrow(expect.objectContaining({ status: 409 }));
  });

  it.each([
    {
      what: 'a wrong signature',
      headers: headersAt(ts, signWebhook('another-secret-0123456789', ts, body)),
      status: 401,
      reason: /does not match/,
    },
    {
      what: 'a signature of another body',
      headers: headersAt(ts, signWebhook(secret, ts, '{"source":"t"}')),
      status: 401,
      reason: /does not match/,
    },
    {
      what: 'a signature with another timestamp',
      headers: { 'x-firebreak-timestamp': String(ts), 'x-firebreak-signature': signWebhook(secret, ts - 1, body) },
      status: 401,
      reason: /does not match/,
    },
    {
      what: 'a truncated signature',
      headers: headersAt(ts, signWebhook(secret, ts, body).slice(0, 20)),
      status: 401,
      reason: /does not match/,
    },
    { what: 'a stale timestamp', headers: headersAt(ts - 600), status: 401, reason: /more than 5 minutes/ },
    { what: 'no signature', headers: { 'x-firebreak-timestamp': String(ts) }, status: 401, reason: /missing x-firebreak-signature/ },
    {
      what: 'no timestamp',
      headers: { 'x-firebreak-signature': signWebhook(secret, ts, body) },
      status: 401,
      reason: /missing or malformed x-firebreak-timestamp/,
    },
  ])('refuses $what', ({ headers, status, reason }) => {
    const v = new WebhookVerifier(secret, () => now);
    let err: Rejected | undefined;
    try {
      v.verify(headers, body);
    } catch (e) {
      err = e as Rejected;
    }
    expect(err).toBeInstanceOf(Rejected);
    expect(err!.status).toBe(status);
    expect(err!.reason).toMatch(reason);
  });

  it('refuses everything when no secret is configured', () => {
    expect(() => new WebhookVerifier(undefined, () => now).verify(headersAt(ts), body)).toThrow(/FIREBREAK_WEBHOOK_SECRET is not set/);
  });
});

describe('SNS certificate hosts by partition', () => {
  const CN_TOPIC = 'arn:aws-cn:sns:cn-north-1:111122223333:security-alerts';
  const CN_CERT = 'https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem';

  it('accepts a China-partition topic signed from sns.<region>.amazonaws.com.cn, and its SubscribeURL there', async () => {
    const before = fetched.length;
    const m = await verify(snsMessage(cert.privateKey, { Message: 'x', TopicArn: CN_TOPIC, SigningCertURL: CN_CERT }), {
      topics: [CN_TOPIC],
    });
    expect(m.TopicArn).toBe(CN_TOPIC);
    expect(fetched.slice(before)).toEqual([CN_CERT]);
    const confirm = await verify(
      snsMessage(cert.privateKey, {
        Type: 'SubscriptionConfirmation',
        Message: 'x',
        TopicArn: CN_TOPIC,
        SigningCertURL: 'https://sns.cn-northwest-1.amazonaws.com.cn/SimpleNotificationService-abc.pem',
        SubscribeURL: `https://sns.cn-north-1.amazonaws.com.cn/?Action=ConfirmSubscription&TopicArn=${CN_TOPIC}&Token=t`,
      }),
      { topics: [CN_TOPIC] },
    );
    expect(subscribeUrlOf(confirm).hostname).toBe('sns.cn-north-1.amazonaws.com.cn');
  });

  it('refuses a China-partition topic signed from a commercial host, and a commercial topic signed from a .com.cn host', async () => {
    const before = fetched.length;
    const cnFromCom = await rejection(
      verify(snsMessage(cert.privateKey, { Message: 'x', TopicArn: CN_TOPIC, SigningCertURL: CERT_URL }), { topics: [CN_TOPIC] }),
    );
    expect(cnFromCom.status).toBe(403);
    expect(cnFromCom.reason).toMatch(/not an SNS certificate URL \(https:\/\/sns\.<region>\.amazonaws\.com\.cn\//);
    const comFromCn = await rejection(verify(snsMessage(cert.privateKey, { Message: 'x', SigningCertURL: CN_CERT })));
    expect(comFromCn.status).toBe(403);
    expect(comFromCn.reason).toMatch(/not an SNS certificate URL \(https:\/\/sns\.<region>\.amazonaws\.com\/…/);
    // A look-alike China host is refused even for a China topic.
    const fake = await rejection(
      verify(
        snsMessage(cert.privateKey, { Message: 'x', TopicArn: CN_TOPIC, SigningCertURL: 'https://sns.us-east-1.amazonaws.com.cn/c.pem' }),
        {
          topics: [CN_TOPIC],
        },
      ),
    );
    expect(fake.status).toBe(403);
    expect(fetched.length).toBe(before);
  });
});
