/**
 * What run.started records about where a run acts on AWS: the Region the SDK resolves (a
 * profile's `region` included), never AWS_DEFAULT_REGION, which SDK v3 does not read.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chooseBackend } from '../../src/backend/backend.js';

describe('the AWS backend record', () => {
  let saved: NodeJS.ProcessEnv;
  let dir: string;
  beforeEach(() => {
    saved = { ...process.env };
    dir = mkdtempSync(join(tmpdir(), 'fb-region-'));
    for (const k of ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_PROFILE']) delete process.env[k];
    writeFileSync(join(dir, 'config'), '[profile eu]\nregion = eu-west-1\n');
    writeFileSync(join(dir, 'credentials'), '');
    process.env.AWS_CONFIG_FILE = join(dir, 'config');
    process.env.AWS_SHARED_CREDENTIALS_FILE = join(dir, 'credentials');
  });
  afterEach(() => {
    process.env = saved;
  });

  it("records the profile's Region, as the SDK resolves it", async () => {
    const where = await chooseBackend({ profile: 'eu' }).start(dir, {});
    expect(where.record).toEqual({ backend: 'aws', region: 'eu-west-1', profile: 'eu' });
  });

  it('refuses to start when only AWS_DEFAULT_REGION is set (the SDK ignores it), and says so', async () => {
    process.env.AWS_DEFAULT_REGION = 'ap-south-1';
    await expect(chooseBackend({}).start(dir, {})).rejects.toThrow(/no AWS region is configured/);
    await expect(chooseBackend({}).prepare({})).rejects.toMatchObject({ name: 'InputError' });
  });

  it("records the role's account, and the alert's Region over the profile's", async () => {
    const role = 'arn:aws:iam::222222222222:role/FirebreakResponder';
    const where = await chooseBackend({ profile: 'eu', region: 'us-west-2', roleArn: role }).start(dir, {});
    expect(where.record).toEqual({ backend: 'aws', region: 'us-west-2', profile: 'eu', account: '222222222222', roleArn: role });
  });
});
