/**
 * Secret redaction for everything written to the journal (invariant 7: no secrets in the journal).
 *
 * Two rules, both fail-closed:
 *  - by key: a value under a secret-ish key (SecretAccessKey, SessionToken, Password, PrivateKey,
 *    Token, …) is replaced, unless the key is one of AWS's harmless pagination or idempotency
 *    tokens (NextToken, ClientToken, ContinuationToken …), which the audit trail needs;
 *  - by value: inside any string, an AWS secret access key written after its key name (an env
 *    dump, a credentials file, a JSON document in a string), an STS session token, or a PEM
 *    private key block.
 * Access key ids (AKIA…/ASIA…) are kept on purpose: they are not secret, and they are what ties
 * a journal entry to CloudTrail and to the key that was revoked.
 */

export const REDACTED = '***REDACTED***';

/**
 * Normalized (lower case, letters and digits only) key endings whose values are secrets.
 * `secret` covers ClientSecret/SharedSecret; `password` covers MasterUserPassword;
 * `passworddata` is EC2 GetPasswordData's encrypted Windows password; `authorization` carries a
 * SigV4 signature.
 */
const SECRET_ENDINGS = [
  'secret',
  'secretaccesskey',
  'secretkey',
  'secretstring',
  'secretbinary',
  'password',
  'passworddata',
  'passphrase',
  'privatekey',
  'authorization',
  'samlassertion',
  'cookie',
];

/**
 * Exact keys: `KeyMaterial` is the private key EC2 CreateKeyPair returns (an exact match, so
 * ImportKeyPair's PublicKeyMaterial stays readable); an MFA `TokenCode` can be replayed within
 * its window.
 */
const SECRET_KEYS = new Set(['keymaterial', 'tokencode']);

/**
 * Tokens that only page through results or make a request idempotent: they grant nothing, and
 * the audit trail needs them to explain repeated calls. Every other key ending in "token"
 * (SessionToken, AuthToken, AccessToken, WebIdentityToken, SNS's confirmation Token …) is secret.
 */
const HARMLESS_TOKEN =
  /^(next[a-z0-9]*token|[a-z0-9]*continuationtoken|startingtoken|paginationtoken|pagetoken|clienttoken|clientrequesttoken|idempotencytoken|changetoken)$/;

export function isSecretKey(key: string): boolean {
  const k = key.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (SECRET_KEYS.has(k)) return true;
  if (k.endsWith('token')) return !HARMLESS_TOKEN.test(k);
  return SECRET_ENDINGS.some((e) => k.endsWith(e));
}

/** `aws_secret_access_key = …`, `"SecretAccessKey": "…"`, `AWS_SECRET_ACCESS_KEY=…`: secret access keys are 40 base64 characters. */
const SECRET_KEY_IN_TEXT = /(secret[_-]?access[_-]?key["']?\s*[:=]\s*["']?)[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])/gi;

/**
 * STS session tokens are base64 protobufs; their fixed first bytes encode to these prefixes
 * ("\x01\n\x03aws", "\x17\n\x06er/aws", "!\n\torigin_ec…"), so they are recognizable anywhere.
 */
const SESSION_TOKEN_IN_TEXT = /(?:AQoDYXdzE|FwoGZXIvYXdzE|IQoJb3JpZ2luX2V)[A-Za-z0-9/+=]{20,}/g;

const PRIVATE_KEY_PEM = /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?(?:-----END \1PRIVATE KEY-----|$)/g;

export function redactString(s: string): string {
  // Cheap pre-checks: most journal strings are ids and messages, and this runs on every field.
  let out = s;
  if (/secret/i.test(out)) out = out.replace(SECRET_KEY_IN_TEXT, (_m, lead: string) => lead + REDACTED);
  if (/AQoDYXdzE|FwoGZXIvYXdzE|IQoJb3JpZ2luX2V/.test(out)) out = out.replace(SESSION_TOKEN_IN_TEXT, REDACTED);
  if (out.includes('PRIVATE KEY-----')) out = out.replace(PRIVATE_KEY_PEM, REDACTED);
  return out;
}

/**
 * A deep copy of `value` with secrets replaced by `***REDACTED***`. Follows JSON semantics
 * (`toJSON`, dropped functions) so the copy serializes like the original would; binary data is
 * summarized, never copied (it may be key material). A cycle becomes "[Circular]".
 */
export function redact(value: unknown): unknown {
  return copy(value, []);
}

function copy(value: unknown, ancestors: object[]): unknown {
  if (typeof value === 'string') return redactString(value);
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return value;
  if (ancestors.includes(value)) return '[Circular]';
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return `[${value.byteLength} bytes]`;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    // Date and similar: what JSON.stringify would write, redacted in turn.
    const json = (value as { toJSON(): unknown }).toJSON();
    return json === value ? '[Circular]' : copy(json, [...ancestors, value]);
  }
  const inner = [...ancestors, value];
  if (Array.isArray(value)) return value.map((v) => copy(v, inner));
  if (value instanceof Set) return [...value].map((v) => copy(v, inner));
  const entries: Array<[string, unknown]> =
    value instanceof Map
      ? [...value].map(([k, v]) => [String(k), v])
      : value instanceof Error
        ? [['name', value.name], ['message', value.message], ...Object.entries(value)]
        : Object.entries(value);
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) {
    const red = isSecretKey(k) && isSecretValue(v) ? REDACTED : copy(v, inner);
    // defineProperty, not assignment: a "__proto__" key from parsed input must stay data.
    Object.defineProperty(out, k, { value: red, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Booleans and null under a secret key say whether a secret exists (HasPassword), not what it is. */
function isSecretValue(v: unknown): boolean {
  return v !== null && v !== undefined && typeof v !== 'boolean';
}
