import { describe, expect, it } from 'vitest';
import { isSecretKey, redact, REDACTED } from '../../src/audit/redact.js';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const SESSION = 'IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD6example+token/value==';
const OLD_SESSION = 'FwoGZXIvYXdzEBYaDHexampleexampleexampleexample';

describe('redact', () => {
  it.each<[string, unknown, unknown]>([
    ['SecretAccessKey', { SecretAccessKey: SECRET }, { SecretAccessKey: REDACTED }],
    ['SessionToken', { SessionToken: SESSION }, { SessionToken: REDACTED }],
    ['Password (any case)', { password: 'hunter2', PASSWORD: 'x' }, { password: REDACTED, PASSWORD: REDACTED }],
    ['NewPassword and OldPassword', { OldPassword: 'a', NewPassword: 'b' }, { OldPassword: REDACTED, NewPassword: REDACTED }],
    ['PrivateKey', { PrivateKey: '-----BEGIN RSA…' }, { PrivateKey: REDACTED }],
    ['Secret and ClientSecret', { Secret: 's', ClientSecret: 'c' }, { Secret: REDACTED, ClientSecret: REDACTED }],
    [
      'Token (SNS ConfirmSubscription)',
      { Token: 'abc', TopicArn: 'arn:aws:sns:us-east-1:123456789012:t' },
      { Token: REDACTED, TopicArn: 'arn:aws:sns:us-east-1:123456789012:t' },
    ],
    [
      'other secret tokens',
      { AuthToken: 'a', accessToken: 'b', WebIdentityToken: 'c', 'x-amz-security-token': 'd' },
      { AuthToken: REDACTED, accessToken: REDACTED, WebIdentityToken: REDACTED, 'x-amz-security-token': REDACTED },
    ],
    [
      'snake and kebab case keys',
      { aws_secret_access_key: SECRET, aws_session_token: SESSION },
      { aws_secret_access_key: REDACTED, aws_session_token: REDACTED },
    ],
    [
      'EC2 key pair material',
      { KeyMaterial: 'pem', PublicKeyMaterial: 'ssh-rsa AAAA' },
      { KeyMaterial: REDACTED, PublicKeyMaterial: 'ssh-rsa AAAA' },
    ],
    ['a secret key holding an object', { Secret: { nested: 'x' } }, { Secret: REDACTED }],
  ])('redacts %s', (_name, input, expected) => {
    expect(redact(input)).toEqual(expected);
  });

  it.each<[string, unknown]>([
    [
      'pagination and idempotency tokens',
      {
        NextToken: 'n',
        Marker: 'm',
        NextMarker: 'nm',
        ClientToken: 'c',
        ClientRequestToken: 'r',
        ContinuationToken: 'k',
        NextForwardToken: 'f',
      },
    ],
    ['token metadata', { TokenIssueTime: '2026-01-01T00:00:00Z', TokenType: 'Bearer' }],
    [
      'access key ids, which tie the journal to CloudTrail',
      { AccessKeyId: 'AKIAIOSFODNN7EXAMPLE', Credentials: { AccessKeyId: 'ASIAIOSFODNN7EXAMPLE' } },
    ],
    [
      'names and ARNs of secrets',
      {
        SecretId: 'prod/db',
        SecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db',
        Secrets: [{ name: 'DB', valueFrom: 'arn:x' }],
      },
    ],
    [
      'password policy and status fields',
      { PasswordPolicy: { MinimumPasswordLength: 14 }, PasswordLastUsed: '2026-01-01T00:00:00Z', PasswordResetRequired: true },
    ],
    ['booleans and nulls under secret keys', { HasPassword: true, Password: null }],
    ['a 40-character string under an innocent key', { Sha1: 'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3' }],
  ])('keeps %s', (_name, input) => {
    expect(redact(input)).toEqual(input);
  });

  it.each<[string, string, string]>([
    [
      'an env dump',
      `AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=${SECRET}`,
      `AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=${REDACTED}`,
    ],
    ['a credentials file', `[default]\naws_secret_access_key = ${SECRET}\n`, `[default]\naws_secret_access_key = ${REDACTED}\n`],
    ['JSON inside a string', `{"SecretAccessKey": "${SECRET}"}`, `{"SecretAccessKey": "${REDACTED}"}`],
    ['a session token in text', `token is ${SESSION} ok`, `token is ${REDACTED} ok`],
    ['an older-format session token', `X-Amz-Security-Token: ${OLD_SESSION}`, `X-Amz-Security-Token: ${REDACTED}`],
    ['a PEM private key', 'key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIB\n-----END RSA PRIVATE KEY-----\nend', `key:\n${REDACTED}\nend`],
  ])('redacts secrets inside strings: %s', (_name, input, expected) => {
    expect(redact({ message: input })).toEqual({ message: expected });
  });

  it('copies deeply and leaves the input unchanged', () => {
    const input = { Credentials: { AccessKeyId: 'ASIAX', SecretAccessKey: SECRET, SessionToken: SESSION }, list: [{ Password: 'p' }] };
    const before = structuredClone(input);
    const out = redact(input) as typeof input;
    expect(out).toEqual({
      Credentials: { AccessKeyId: 'ASIAX', SecretAccessKey: REDACTED, SessionToken: REDACTED },
      list: [{ Password: REDACTED }],
    });
    expect(input).toEqual(before);
    expect(out.Credentials).not.toBe(input.Credentials);
  });

  it('survives cycles and keeps shared (non-cyclic) objects', () => {
    const shared = { Password: 'p', id: 1 };
    const a: Record<string, unknown> = { name: 'a', left: shared, right: shared };
    a.self = a;
    expect(redact(a)).toEqual({ name: 'a', left: { Password: REDACTED, id: 1 }, right: { Password: REDACTED, id: 1 }, self: '[Circular]' });
  });

  it('follows JSON semantics for dates, errors, maps, sets, bigints and bytes', () => {
    const err = Object.assign(new Error('boom'), { Code: 'AccessDenied' });
    const out = redact({
      at: new Date('2026-01-01T00:00:00Z'),
      err,
      m: new Map([
        ['Password', 'x'],
        ['ok', 'y'],
      ]),
      s: new Set([1, 2]),
      n: 10n,
      bytes: new Uint8Array(16),
      fn: () => 1,
    });
    expect(out).toEqual({
      at: '2026-01-01T00:00:00.000Z',
      err: { name: 'Error', message: 'boom', Code: 'AccessDenied' },
      m: { Password: REDACTED, ok: 'y' },
      s: [1, 2],
      n: '10',
      bytes: '[16 bytes]',
      fn: expect.any(Function),
    });
    expect(JSON.parse(JSON.stringify(out))).not.toHaveProperty('fn');
  });

  it('keeps a "__proto__" key as data', () => {
    const input = JSON.parse('{"__proto__": {"Password": "p"}}') as unknown;
    const out = redact(input) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(JSON.stringify(out)).toBe(`{"__proto__":{"Password":"${REDACTED}"}}`);
  });

  it.each([
    ['SecretAccessKey', true],
    ['NextToken', false],
    ['nextPageToken', false],
    ['TokenCode', true],
    ['SessionToken', true],
    ['Marker', false],
    ['TokenIssueTime', false],
  ])('isSecretKey(%s) is %s', (key, expected) => {
    expect(isSecretKey(key)).toBe(expected);
  });
});
