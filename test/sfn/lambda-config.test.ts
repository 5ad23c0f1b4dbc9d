/**
 * The worker Lambda refuses the local store at cold start: a Lambda's /tmp is not a run store. It
 * starts with the AWS store named by the config file or by the environment deploy-template sets, and
 * in a rehearsal against the simulated cloud.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { lambdaConfig } from '../../src/sfn/lambda-config.js';
import { tempHome } from '../helpers/cli.js';

const KEY = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

function configFile(text: string): string {
  const file = join(tempHome('fb-cfg-'), 'firebreak.config.yaml');
  writeFileSync(file, text);
  return file;
}

function refusal(env: Record<string, string>): InputError {
  try {
    lambdaConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('expected the worker to refuse to start');
}

describe('the worker Lambda and its run store', () => {
  it('refuses to start on the local store, naming the config field and the environment that fix it', () => {
    const none = refusal({ FIREBREAK_HOME: '/tmp/firebreak' });
    expect(none.field).toBe('store');
    expect(none.message).toContain('/tmp/firebreak, which does not outlive a Lambda execution environment');
    expect(none.message).toContain('FIREBREAK_CONFIG names no config file');
    expect(none.hint).toContain('store: { kind: aws');

    const file = configFile('store: { kind: local }\n');
    const local = refusal({ FIREBREAK_CONFIG: file });
    expect([local.field, local.message]).toEqual(['store', expect.stringContaining(`${file} names no store: kind: aws`)]);
  });

  it('refuses an incomplete store environment, naming the variable', () => {
    const e = refusal({ FIREBREAK_STORE_TABLE: 'firebreak-runs', FIREBREAK_STORE_BUCKET: 'firebreak-evidence' });
    expect(e.field).toBe('FIREBREAK_STORE_KMS_KEY');
  });

  it.each([
    [
      'the config file',
      { FIREBREAK_CONFIG: configFile(`store: { kind: aws, table: firebreak-runs, bucket: firebreak-evidence, kmsKeyId: '${KEY}' }\n`) },
    ],
    [
      "deploy-template's environment",
      {
        FIREBREAK_STORE_TABLE: 'firebreak-runs',
        FIREBREAK_STORE_BUCKET: 'firebreak-evidence',
        FIREBREAK_STORE_KMS_KEY: KEY,
        FIREBREAK_STORE_OBJECT_LOCK_MODE: 'GOVERNANCE',
        FIREBREAK_STORE_OBJECT_LOCK_DAYS: '30',
      },
    ],
  ])('starts with the AWS store named by %s', (_name, env) => {
    const store = lambdaConfig(env).store;
    expect(store).toMatchObject({ kind: 'aws', table: 'firebreak-runs', bucket: 'firebreak-evidence', kmsKeyId: KEY });
  });

  it('starts on the local store only in a rehearsal against the simulated cloud', () => {
    expect(lambdaConfig({ FIREBREAK_SIM: 'worlds/demo.yaml' }).store).toEqual({ kind: 'local' });
  });
});
