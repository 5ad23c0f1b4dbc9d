/**
 * Test helpers for alerts: fixtures, a self-signed X.509 certificate made with node:crypto (a
 * minimal DER encoder: no certificate library needed), SNS messages signed as SNS signs them,
 * and HMAC-signed webhook requests.
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { canonicalString, type SnsMessageType } from '../../src/triggers/sns-verify.js';
import { signWebhook } from '../../src/triggers/webhook-auth.js';

export const FIXTURES = resolve(import.meta.dirname, '../fixtures/alerts');
export const fixtureText = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');
export const fixture = (name: string) => JSON.parse(fixtureText(name));

// ── DER ──────────────────────────────────────────────────────────────────────────────────────
function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const tlv = (tag: number, body: Buffer) => Buffer.concat([Buffer.from([tag]), len(body.length), body]);
const seq = (...parts: Buffer[]) => tlv(0x30, Buffer.concat(parts));
const set = (...parts: Buffer[]) => tlv(0x31, Buffer.concat(parts));
const int = (n: number) => tlv(0x02, Buffer.from([n & 0x7f]));
const nul = () => Buffer.from([0x05, 0x00]);
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));
function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number) as [number, number, ...number[]];
  const out = [40 * a + b];
  for (const arc of rest) {
    const chunk: number[] = [arc & 0x7f];
    for (let v = arc >> 7; v > 0; v >>= 7) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}
function utcTime(d: Date): Buffer {
  const p = (n: number) => String(n).padStart(2, '0');
  return tlv(
    0x17,
    Buffer.from(
      `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`,
    ),
  );
}

export interface TestCert {
  pem: string;
  privateKey: KeyObject;
}

/** A self-signed RSA certificate, CN=sns.amazonaws.com, valid between the given times. */
export function makeCert(opts: { notBefore?: Date; notAfter?: Date } = {}): TestCert {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const name = seq(set(seq(oid('2.5.4.3'), utf8('sns.amazonaws.com'))));
  const alg = seq(oid('1.2.840.113549.1.1.11'), nul());
  const tbs = seq(
    tlv(0xa0, int(2)),
    int(1),
    alg,
    name,
    seq(utcTime(opts.notBefore ?? new Date(Date.now() - 86_400_000)), utcTime(opts.notAfter ?? new Date(Date.now() + 86_400_000))),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
  );
  const signature = sign('sha256', tbs, privateKey);
  const der = seq(tbs, alg, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const b64 = der
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n');
  return { pem: `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`, privateKey };
}

export const CERT_URL = 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem';
export const TOPIC = 'arn:aws:sns:us-east-1:111122223333:security-alerts';

/** An SNS HTTP delivery body, signed with `key` as SNS signs it (SignatureVersion 1: SHA1, 2: SHA256). */
export function snsMessage(
  key: KeyObject,
  fields: {
    Type?: SnsMessageType;
    Message: string;
    Subject?: string;
    Timestamp?: string;
    MessageId?: string;
    SignatureVersion?: '1' | '2';
    SigningCertURL?: string;
    TopicArn?: string;
    SubscribeURL?: string;
    Token?: string;
  },
): Record<string, string> {
  const type = fields.Type ?? 'Notification';
  const m: Record<string, string> = {
    Type: type,
    MessageId: fields.MessageId ?? crypto.randomUUID(),
    TopicArn: fields.TopicArn ?? TOPIC,
    ...(fields.Subject !== undefined ? { Subject: fields.Subject } : {}),
    Message: fields.Message,
    Timestamp: fields.Timestamp ?? new Date().toISOString(),
    SignatureVersion: fields.SignatureVersion ?? '2',
    SigningCertURL: fields.SigningCertURL ?? CERT_URL,
    ...(type !== 'Notification'
      ? {
          Token: fields.Token ?? 'token-abc',
          SubscribeURL:
            fields.SubscribeURL ?? `https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${TOPIC}&Token=token-abc`,
        }
      : {}),
    ...(type === 'Notification'
      ? { UnsubscribeURL: `https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${TOPIC}:c9135db0` }
      : {}),
  };
  m.Signature = sign(m.SignatureVersion === '1' ? 'sha1' : 'sha256', Buffer.from(canonicalString(m, type)), key).toString('base64');
  return m;
}

export function webhookHeaders(secret: string, body: string, at = Math.floor(Date.now() / 1000)): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-firebreak-timestamp': String(at),
    'x-firebreak-signature': signWebhook(secret, at, body),
  };
}

/** A GuardDuty EventBridge event for the bitcoin fixture with another finding id, instance or count. */
export function gdEvent(opts: { findingId?: string; instanceId?: string; count?: number; eventId?: string } = {}): Record<string, any> {
  const e = fixture('guardduty-bitcoin-dns.eventbridge.json');
  if (opts.findingId) {
    e.detail.id = opts.findingId;
    e.detail.arn = e.detail.arn.replace(/finding\/.*$/, `finding/${opts.findingId}`);
  }
  if (opts.instanceId) e.detail.resource.instanceDetails.instanceId = opts.instanceId;
  if (opts.count !== undefined) e.detail.service.count = opts.count;
  e.id = opts.eventId ?? crypto.randomUUID();
  return e;
}

/** A scratch project folder: routes.yaml (and a playbook, world, config) written for one test. */
export function scratch(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'fb-trig-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

/** A one-step playbook (termination protection) so alert tests run quickly against the simulated cloud. */
export const PRESERVE_PLAYBOOK = `id: tiny-preserve
title: Preserve an instance (test)
inputs:
  instanceId: { type: string, pattern: '^i-[0-9a-f]{8,17}$', required: true }
start: preserve
steps:
  preserve:
    action: ec2.enable-termination-protection
    with: { instanceId: '{% $inputs.instanceId %}' }
    approval: auto
    next: done
  done:
    type: end
`;

/**
 * Termination protection, a 10 s durable wait, termination protection again: a run that can be
 * stopped while it waits (the wait is long enough for a busy machine to deliver the signal).
 */
export const PAUSING_PLAYBOOK = `id: preserve-then-wait
title: Preserve, wait, preserve again (test)
inputs:
  instanceId: { type: string, pattern: '^i-[0-9a-f]{8,17}$', required: true }
start: preserve
steps:
  preserve:
    action: ec2.enable-termination-protection
    with: { instanceId: '{% $inputs.instanceId %}' }
    approval: auto
    next: pause
  pause:
    type: wait
    duration: 10s
    next: again
  again:
    action: ec2.enable-termination-protection
    with: { instanceId: '{% $inputs.instanceId %}' }
    approval: auto
    next: done
  done:
    type: end
`;

/** A routing table that sends every alert of severity 5 or more to one playbook. */
export const routeAllTo = (playbook: string) =>
  `routes:\n  - name: any\n    match: { minSeverity: 5 }\n    playbook: ${playbook}\n    inputs: { instanceId: '{% resources.instanceIds[0] %}' }\n`;
