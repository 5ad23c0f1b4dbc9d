/**
 * `POST /alerts` authentication: an HMAC-SHA256 of `<timestamp>.<raw body>` with a shared secret,
 * sent as `X-Firebreak-Signature: sha256=<hex>` beside `X-Firebreak-Timestamp: <unix seconds>`.
 * Signing the timestamp with the body lets a captured request be replayed only within the
 * tolerance window, and within it the same signature is refused a second time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Rejected } from './sns-verify.js';

export const SIGNATURE_HEADER = 'x-firebreak-signature';
export const TIMESTAMP_HEADER = 'x-firebreak-timestamp';
export const TOLERANCE_MS = 5 * 60 * 1000;
export const MIN_SECRET_LENGTH = 16;

export function signWebhook(secret: string, timestamp: number | string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex')}`;
}

export class WebhookVerifier {
  /** Signatures accepted within the tolerance window, with when they stop mattering. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly secret: string | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  verify(headers: Record<string, string | string[] | undefined>, body: Buffer): void {
    if (!this.secret) throw new Rejected(403, 'POST /alerts is disabled: FIREBREAK_WEBHOOK_SECRET is not set on the server');
    const sig = single(headers[SIGNATURE_HEADER]);
    const tsText = single(headers[TIMESTAMP_HEADER]);
    if (!sig) throw new Rejected(401, `missing ${SIGNATURE_HEADER} header (sha256=<hex HMAC of "<timestamp>.<body>">)`);
    if (!tsText || !/^\d{1,12}$/.test(tsText)) throw new Rejected(401, `missing or malformed ${TIMESTAMP_HEADER} header (unix seconds)`);
    const now = this.now();
    const ts = Number(tsText) * 1000;
    if (Math.abs(now - ts) > TOLERANCE_MS)
      throw new Rejected(
        401,
        `${TIMESTAMP_HEADER} is more than ${TOLERANCE_MS / 60000} minutes from the server's clock (replayed or skewed)`,
      );
    const expected = Buffer.from(signWebhook(this.secret, tsText, body), 'utf8');
    const given = Buffer.from(sig, 'utf8');
    // Equal lengths first: timingSafeEqual throws on a length mismatch, which would itself leak it.
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      throw new Rejected(401, 'the HMAC signature does not match the body');
    this.forgetOld(now);
    if (this.seen.has(sig)) throw new Rejected(409, 'this signed request was already received (replay)');
    this.seen.set(sig, ts + TOLERANCE_MS);
  }

  private forgetOld(now: number): void {
    for (const [s, until] of this.seen) if (until < now) this.seen.delete(s);
  }
}

function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? (v.length === 1 ? v[0] : undefined) : v;
}
