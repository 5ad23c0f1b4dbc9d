/**
 * Verifying an SNS HTTP(S) delivery, as AWS documents it
 * (https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html):
 *  - the signing certificate comes only from `https://sns.<region>.amazonaws.com/…pem`, or, for a
 *    topic in a China partition (`arn:aws-cn:`), only from `https://sns.<region>.amazonaws.com.cn/…pem`;
 *  - the signature is over the canonical string of the message type, "Key\nValue\n" for each
 *    signed key in byte order (Notification: Message, MessageId, Subject if present, Timestamp,
 *    TopicArn, Type; confirmations: Message, MessageId, SubscribeURL, Timestamp, Token, TopicArn,
 *    Type), RSA with SHA-1 for SignatureVersion 1 and SHA-256 for SignatureVersion 2;
 *  - a message older than an hour is refused (replays), as is one from a topic not allowed here:
 *    anyone can sign messages validly with their own topic and subscribe this endpoint to it.
 *
 * Written on node:crypto rather than taken from a package: the maintained validators fetch the
 * certificate themselves (tests could not inject one they generate) and fix their own host
 * pattern, where this one must accept exactly the hosts above.
 */
import { X509Certificate, verify as verifySignature } from 'node:crypto';
import { globMatch } from './glob.js';
import { isObject, type Json } from './read.js';

export class Rejected extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'Rejected';
  }
}

export type SnsMessageType = 'Notification' | 'SubscriptionConfirmation' | 'UnsubscribeConfirmation';

export interface SnsMessage {
  Type: SnsMessageType;
  MessageId: string;
  TopicArn: string;
  Message: string;
  Timestamp: string;
  SignatureVersion: '1' | '2';
  Signature: string;
  SigningCertURL: string;
  Subject?: string;
  Token?: string;
  SubscribeURL?: string;
  UnsubscribeURL?: string;
}

/** Fetches a PEM certificate. Only ever called with a URL that passed `isSnsHost`. */
export type CertFetcher = (url: URL) => Promise<string>;

export interface SnsVerifyOptions {
  fetchCert: CertFetcher;
  /** Topic ARNs (or patterns with *) whose messages are accepted. Empty: none. */
  topics: readonly string[];
  now?: () => Date;
  maxAgeMs?: number;
}

const SIGNED_KEYS: Record<SnsMessageType, readonly string[]> = {
  Notification: ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'],
  SubscriptionConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
  UnsubscribeConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
};

const SNS_HOST = /^sns\.[a-z]{2}(-[a-z]+)+-\d\.amazonaws\.com$/;
// The China regions (Beijing, Ningxia) are served under their own domain, and only their topics sign from there.
const SNS_HOST_CN = /^sns\.cn(-[a-z]+)+-\d\.amazonaws\.com\.cn$/;
export const MAX_AGE_MS = 60 * 60 * 1000;
/** Clock skew tolerated for a timestamp in the future. */
const FUTURE_SKEW_MS = 5 * 60 * 1000;

const isChinaTopic = (topicArn: unknown) => typeof topicArn === 'string' && topicArn.startsWith('arn:aws-cn:');

/** The SNS host pattern a topic's messages come from, as the error messages say it. */
const hostShape = (topicArn: unknown) =>
  isChinaTopic(topicArn) ? 'https://sns.<region>.amazonaws.com.cn/' : 'https://sns.<region>.amazonaws.com/';

/**
 * `https://sns.<region>.amazonaws.com/...` (`.amazonaws.com.cn` for a topic in a China partition) and
 * nothing else: no port, no credentials, no other host.
 */
export function isSnsHost(url: URL, topicArn?: unknown): boolean {
  const host = isChinaTopic(topicArn) ? SNS_HOST_CN : SNS_HOST;
  return url.protocol === 'https:' && host.test(url.hostname) && url.port === '' && url.username === '' && url.password === '';
}

export function canonicalString(m: Json, type: SnsMessageType): string {
  let out = '';
  for (const key of SIGNED_KEYS[type]) {
    if (key === 'Subject' && m.Subject === undefined) continue;
    out += `${key}\n${String(m[key])}\n`;
  }
  return out;
}

/** Check the message's shape, topic, age and signature; returns it typed, or throws Rejected (4xx). */
export async function verifySnsMessage(body: unknown, opts: SnsVerifyOptions): Promise<SnsMessage> {
  if (!isObject(body)) throw new Rejected(400, 'the body is not a JSON object');
  const type = body.Type;
  if (type !== 'Notification' && type !== 'SubscriptionConfirmation' && type !== 'UnsubscribeConfirmation') {
    throw new Rejected(400, `unknown SNS message Type ${JSON.stringify(type)}`);
  }
  const required = [...SIGNED_KEYS[type].filter((k) => k !== 'Subject'), 'SignatureVersion', 'Signature', 'SigningCertURL'];
  for (const key of required) {
    if (typeof body[key] !== 'string' || body[key] === '') throw new Rejected(400, `SNS ${type} lacks ${key}`);
  }
  if (body.Subject !== undefined && typeof body.Subject !== 'string') throw new Rejected(400, 'SNS Subject is not a string');
  const version = body.SignatureVersion as string;
  if (version !== '1' && version !== '2') throw new Rejected(400, `unsupported SignatureVersion ${version}`);

  const topic = body.TopicArn as string;
  if (!opts.topics.some((t) => globMatch(t, topic))) {
    throw new Rejected(
      403,
      opts.topics.length === 0
        ? `no SNS topic is allowed on this server (message from ${topic}); start serve with --sns-topic ARN`
        : `topic ${topic} is not allowed on this server`,
    );
  }

  const now = (opts.now ?? (() => new Date()))().getTime();
  const ts = Date.parse(body.Timestamp as string);
  if (!Number.isFinite(ts)) throw new Rejected(400, `SNS Timestamp ${JSON.stringify(body.Timestamp)} is not a time`);
  if (now - ts > (opts.maxAgeMs ?? MAX_AGE_MS))
    throw new Rejected(
      400,
      `stale SNS message: its Timestamp ${body.Timestamp} is more than ${Math.round((opts.maxAgeMs ?? MAX_AGE_MS) / 60000)} minutes old`,
    );
  if (ts - now > FUTURE_SKEW_MS) throw new Rejected(400, `SNS Timestamp ${body.Timestamp} is in the future`);

  let certUrl: URL;
  try {
    certUrl = new URL(body.SigningCertURL as string);
  } catch {
    throw new Rejected(400, 'SigningCertURL is not a URL');
  }
  if (!isSnsHost(certUrl, topic) || !certUrl.pathname.endsWith('.pem')) {
    throw new Rejected(403, `SigningCertURL ${certUrl.href} is not an SNS certificate URL (${hostShape(topic)}….pem)`);
  }
  let pem: string;
  try {
    pem = await opts.fetchCert(certUrl);
  } catch (err) {
    // Not the sender's fault as far as we can tell, but nothing unverified may pass: 4xx, logged.
    throw new Rejected(403, `failed to fetch the signing certificate ${certUrl.href}: ${(err as Error).message}`);
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (err) {
    throw new Rejected(403, `failed to read the signing certificate ${certUrl.href}: ${(err as Error).message}`);
  }
  if (now < Date.parse(cert.validFrom) || now > Date.parse(cert.validTo)) {
    throw new Rejected(403, `the signing certificate ${certUrl.href} is not valid now (${cert.validFrom} – ${cert.validTo})`);
  }
  const signature = Buffer.from(body.Signature as string, 'base64');
  const ok = verifySignature(
    version === '1' ? 'sha1' : 'sha256',
    Buffer.from(canonicalString(body, type), 'utf8'),
    cert.publicKey,
    signature,
  );
  if (!ok) throw new Rejected(403, 'the SNS message signature does not verify (forged or altered message)');
  return body as unknown as SnsMessage;
}

/** A SubscribeURL is fetched only on the same kind of host as certificates. */
export function subscribeUrlOf(m: SnsMessage): URL {
  let url: URL;
  try {
    url = new URL(m.SubscribeURL ?? '');
  } catch {
    throw new Rejected(400, 'SubscribeURL is not a URL');
  }
  if (!isSnsHost(url, m.TopicArn)) throw new Rejected(403, `SubscribeURL ${url.href} is not on ${hostShape(m.TopicArn)}`);
  return url;
}

/** The default certificate fetcher: HTTPS GET, no redirects, small and bounded, cached per URL. */
export function httpsCertFetcher(opts: { timeoutMs?: number; maxBytes?: number } = {}): CertFetcher {
  const cache = new Map<string, Promise<string>>();
  return (url) => {
    let p = cache.get(url.href);
    if (!p) {
      p = fetchText(url, opts.timeoutMs ?? 5000, opts.maxBytes ?? 16_384);
      p.catch(() => cache.delete(url.href));
      if (cache.size > 50) cache.clear();
      cache.set(url.href, p);
    }
    return p;
  };
}

export async function fetchText(url: URL, timeoutMs: number, maxBytes: number): Promise<string> {
  const res = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const text = await res.text();
  if (Buffer.byteLength(text) > maxBytes) throw new Error(`response larger than ${maxBytes} bytes`);
  return text;
}
