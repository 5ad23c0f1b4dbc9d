/** The CLI with `store: aws` in the config: the IAM policy names the store's table, bucket and key. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, tempHome } from '../helpers/cli.js';

const KEY = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

describe('iam-policy with store: aws', () => {
  it("adds the store's statements, scoped to the configured table, bucket prefix and key", async () => {
    const home = tempHome();
    const config = join(home, 'firebreak.config.yaml');
    writeFileSync(
      config,
      `store:\n  kind: aws\n  table: firebreak-runs\n  bucket: firebreak-audit\n  region: us-east-1\n  kmsKeyId: ${KEY}\n`,
    );
    const r = await cli(['iam-policy', 'ec2-instance-compromise', '--config', config], { home });
    expect(r.code).toBe(0);
    const policy = JSON.parse(r.stdout) as { Statement: Array<{ Sid?: string; Resource: string | string[] }> };
    const bySid = new Map(policy.Statement.filter((s) => s.Sid).map((s) => [s.Sid, s.Resource]));
    expect(bySid.get('FirebreakStoreTable')).toEqual([
      'arn:aws:dynamodb:us-east-1:*:table/firebreak-runs',
      'arn:aws:dynamodb:us-east-1:*:table/firebreak-runs/index/runs',
    ]);
    expect(bySid.get('FirebreakStoreSeal')).toEqual(['arn:aws:s3:::firebreak-audit/runs/*']);
    expect(bySid.get('FirebreakStoreKey')).toEqual([KEY]);

    const plain = await cli(['iam-policy', 'ec2-instance-compromise'], { home });
    expect(plain.stdout).not.toContain('FirebreakStore');
  });
});
