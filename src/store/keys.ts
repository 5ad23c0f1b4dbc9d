/** The DynamoDB keys and S3 key layout of the AWS store (documented in types.ts). */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { RUNS_INDEX, RUNS_PREFIX } from './config.js';

const pad = (n: number, width: number) => String(n).padStart(width, '0');

export const runPk = (runId: string) => `RUN#${runId}`;
export const eventSk = (seq: number) => `EV#${pad(seq, 12)}`;
export const SUMMARY_SK = 'SUMMARY';
export const SEAL_SK = 'SEAL';
export const approvalSk = (key: string) => `APPROVAL#${key}`;
/** A waiting step's task token, beside the run (never in its journal). */
export const tokenSk = (key: string) => `TOKEN#${key}`;
export const lockPk = (resource: string) => `LOCK#${resource}`;
export const LEASE_SK = 'LEASE';
export const alertPk = (key: string) => `ALERT#${key}`;
export const CLAIM_SK = 'CLAIM';
export const RUNS_GSI_PK = 'RUNS';

export const segmentKey = (runId: string, n: number) => `${RUNS_PREFIX}${runId}/segments/${pad(n, 6)}.jsonl`;
export const digestKey = (runId: string, n: number) => `${RUNS_PREFIX}${runId}/digests/${pad(n, 6)}.json`;
export const digestPrefix = (runId: string) => `${RUNS_PREFIX}${runId}/digests/`;
export const runPrefix = (runId: string) => `${RUNS_PREFIX}${runId}/`;

/**
 * The table the store expects (what a CloudFormation template or a test creates). On-demand
 * billing; TTL on `ttl` is enabled separately (UpdateTimeToLive) since CreateTable cannot set it.
 */
export function tableDefinition(table: string): CreateTableCommandInput {
  return {
    TableName: table,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
      { AttributeName: 'gsi1pk', AttributeType: 'S' },
      { AttributeName: 'gsi1sk', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: RUNS_INDEX,
        KeySchema: [
          { AttributeName: 'gsi1pk', KeyType: 'HASH' },
          { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
        ],
        // Only summary items carry gsi1pk, and they are written a few times per run.
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  };
}

export const TTL_ATTRIBUTE = 'ttl';
