/** The store: section and the IAM statements it implies: scoped to the configured table, bucket and key. */
import { describe, expect, it } from 'vitest';
import { StoreConfigSchema, storeIamStatements, type AwsStoreConfig } from '../../src/store/config.js';
import * as DynamoDBSdk from '@aws-sdk/client-dynamodb';
import { isKnownAction } from '../../src/iam/known-actions.js';

const aws = {
  kind: 'aws',
  table: 'firebreak-runs',
  bucket: 'acme-firebreak-audit',
  region: 'eu-west-1',
  kmsKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
};

describe('store: section', () => {
  it('defaults to the local folder with no section at all', () => {
    expect(StoreConfigSchema.parse(undefined)).toEqual({ kind: 'local' });
  });

  it('fills the AWS defaults: COMPLIANCE for 365 days, 300 s leases, no dedup expiry', () => {
    expect(StoreConfigSchema.parse(aws)).toEqual({ ...aws, objectLock: { mode: 'COMPLIANCE', days: 365 }, leaseSeconds: 300 });
  });

  it.each([
    [{ ...aws, bucket: 'Acme_Bucket' }, 'bucket'],
    [{ ...aws, kmsKeyId: '1234abcd-12ab-34cd-56ef-1234567890ab' }, 'kmsKeyId'],
    [{ ...aws, objectLock: { mode: 'LEGAL' } }, 'objectLock.mode'],
    [{ ...aws, leaseSeconds: 1 }, 'leaseSeconds'],
    [{ ...aws, tabel: 'x' }, ''],
    [{ kind: 'nfs' }, 'kind'],
  ])('rejects %j naming %s', (input, path) => {
    const r = StoreConfigSchema.safeParse(input);
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join('.'))).toContain(path);
  });
});

describe('IAM statements of the AWS store', () => {
  const cfg = StoreConfigSchema.parse(aws) as AwsStoreConfig;
  const { responder, auditor } = storeIamStatements(cfg, { accountId: '111122223333' });

  it('name only the configured table, its runs index, the bucket, its runs/ prefix and the key: no * action or resource', () => {
    const resources = [...responder, ...auditor].flatMap((s) => s.Resource);
    expect(new Set(resources)).toEqual(
      new Set([
        'arn:aws:dynamodb:eu-west-1:111122223333:table/firebreak-runs',
        'arn:aws:dynamodb:eu-west-1:111122223333:table/firebreak-runs/index/runs',
        'arn:aws:s3:::acme-firebreak-audit',
        'arn:aws:s3:::acme-firebreak-audit/runs/*',
        cfg.kmsKeyId,
      ]),
    );
    for (const s of [...responder, ...auditor]) for (const a of s.Action) expect(a).not.toContain('*');
  });

  it('every action is a real IAM action; nobody may delete, change retention or bypass governance', () => {
    const actions = [...responder, ...auditor].flatMap((s) => s.Action);
    // The checked-in action list has s3 and kms; a DynamoDB action is named after its API operation.
    for (const a of actions) {
      if (a.startsWith('dynamodb:')) expect(Object.keys(DynamoDBSdk), a).toContain(`${a.slice('dynamodb:'.length)}Command`);
      else expect(isKnownAction(a), a).toBe(true);
    }
    for (const forbidden of [
      's3:DeleteObject',
      's3:DeleteObjectVersion',
      's3:BypassGovernanceRetention',
      's3:PutObjectLegalHold',
      's3:PutBucketObjectLockConfiguration',
    ]) {
      expect(actions).not.toContain(forbidden);
    }
    expect(auditor.flatMap((s) => s.Action).filter((a) => /Put|Update|Delete/.test(a))).toEqual([]);
  });

  it("an alias ARN is authorized on the account's keys through kms:ResourceAliases", () => {
    const alias = storeIamStatements({ ...cfg, kmsKeyId: 'arn:aws:kms:eu-west-1:111122223333:alias/firebreak' }).responder.find(
      (s) => s.Sid === 'FirebreakStoreKey',
    )!;
    expect(alias.Resource).toEqual(['arn:aws:kms:eu-west-1:111122223333:key/*']);
    expect(alias.Condition).toMatchObject({ 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': 'alias/firebreak' } });
  });
});
