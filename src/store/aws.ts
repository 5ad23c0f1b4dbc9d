/**
 * The AWS run store: journal order, summaries, leases, dedup claims and approvals in one DynamoDB
 * table (conditional writes), the journal sealed to S3 under Object Lock (seal.ts). Item shapes,
 * key layout and request counts: types.ts.
 *
 * Retries are the SDK's standard strategy (throttling, 5xx, network errors). A conditional write
 * whose first attempt succeeded but whose response was lost fails its retry with
 * ConditionalCheckFailedException: every such failure is read back and judged (our own item →
 * success; another writer's → a conflict), never taken at face value. Only named error codes
 * are handled; anything else propagates with what the store was doing.
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBClient, DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { systemClock, type Clock } from '../core/clock.js';
import { FirebreakError } from '../core/errors.js';
import { DynamoDB, DynamoDBLib, S3 } from '../cloud/sdk.js';
import { lineHash } from '../audit/verify.js';
import { RUNS_INDEX, type AwsStoreConfig } from './config.js';
import { AppendConflict, isAwsError, LeaseLost, TokenAlreadyAnswered } from './errors.js';
import { alertPk, approvalSk, CLAIM_SK, eventSk, LEASE_SK, lockPk, runPk, RUNS_GSI_PK, SUMMARY_SK, tokenSk } from './keys.js';
import { sealRun } from './seal.js';
import type {
  AcquireResult,
  ApprovalAnswer,
  ApprovalRecord,
  ClaimResult,
  Lease,
  LeaseOwner,
  DurableRunStore,
  RunSummary,
  SealResult,
  StoredEvent,
  StoredLine,
  TokenAnswer,
} from './types.js';

// biome-ignore lint/suspicious/noExplicitAny: lib-dynamodb's own item type (NativeAttributeValue is any)
type Item = Record<string, any>;

export interface AwsStoreOptions {
  config: AwsStoreConfig;
  dynamo: DynamoDBClient;
  s3: S3Client;
  /** The store's clock: lease expiry and retention dates are judged by it. */
  clock?: Clock;
}

/** Clients from the SDK's standard configuration (profiles, AWS_ENDPOINT_URL…) with its standard retry strategy. */
export function createAwsStore(
  config: AwsStoreConfig,
  opts: { clock?: Clock; dynamo?: DynamoDBClientConfig; s3?: S3ClientConfig } = {},
): AwsRunStore {
  const region = config.region ? { region: config.region } : {};
  const dynamo = new DynamoDB.DynamoDBClient({ retryMode: 'standard', ...region, ...opts.dynamo });
  const s3 = new S3.S3Client({ retryMode: 'standard', ...region, ...opts.s3 });
  return new AwsRunStore({ config, dynamo, s3, ...(opts.clock ? { clock: opts.clock } : {}) });
}

const DAY_S = 86_400;
const EVENTS_FROM = (seq: number) => eventSk(seq);
const EVENTS_TO = 'EV#999999999999';

export class AwsRunStore implements DurableRunStore {
  readonly kind = 'aws' as const;
  readonly config: AwsStoreConfig;
  readonly s3: S3Client;
  readonly clock: Clock;
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(opts: AwsStoreOptions) {
    this.config = opts.config;
    this.s3 = opts.s3;
    this.clock = opts.clock ?? systemClock;
    this.table = opts.config.table;
    this.doc = DynamoDBLib.DynamoDBDocumentClient.from(opts.dynamo, { marshallOptions: { removeUndefinedValues: true } });
  }

  // ---- journal ----

  async append(runId: string, event: StoredLine): Promise<StoredEvent> {
    const stored = storedOf(runId, event);
    try {
      await this.doc.send(
        new DynamoDBLib.PutCommand({
          TableName: this.table,
          Item: { pk: runPk(runId), sk: eventSk(event.seq), ...stored },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return stored;
    } catch (err) {
      if (!isAwsError(err, 'ConditionalCheckFailedException')) throw failed(`append event ${event.seq} to run ${runId}`, err);
    }
    // Either another writer took this seq, or our own put succeeded and its retry found it.
    const existing = await this.get(runPk(runId), eventSk(event.seq), `read back event ${event.seq} of run ${runId}`);
    if (existing && existing.line === event.line) return stored;
    throw new AppendConflict(runId, event.seq, String(existing?.hash ?? 'unknown'));
  }

  async readEvents(runId: string, opts: { fromSeq?: number } = {}): Promise<StoredEvent[]> {
    const items = await this.queryAll(`read the journal of run ${runId}`, {
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': runPk(runId), ':from': EVENTS_FROM(opts.fromSeq ?? 1), ':to': EVENTS_TO },
      ConsistentRead: true,
    });
    return items.map(eventOfItem);
  }

  /** The run's first line (`run.started`), one strongly consistent GetItem. */
  async firstEvent(runId: string): Promise<StoredEvent | undefined> {
    const item = await this.get(runPk(runId), eventSk(1), `read the first event of run ${runId}`);
    return item && eventOfItem(item);
  }

  async lastEvent(runId: string): Promise<StoredEvent | undefined> {
    try {
      const out = await this.doc.send(
        new DynamoDBLib.QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: { ':pk': runPk(runId), ':from': EVENTS_FROM(1), ':to': EVENTS_TO },
          ScanIndexForward: false,
          Limit: 1,
          ConsistentRead: true,
        }),
      );
      const item = out.Items?.[0];
      return item ? eventOfItem(item) : undefined;
    } catch (err) {
      throw failed(`read the last event of run ${runId}`, err);
    }
  }

  // ---- summaries ----

  async putSummary(s: RunSummary): Promise<void> {
    try {
      await this.doc.send(
        new DynamoDBLib.PutCommand({
          TableName: this.table,
          Item: { pk: runPk(s.runId), sk: SUMMARY_SK, gsi1pk: RUNS_GSI_PK, gsi1sk: `${s.startedAt}#${s.runId}`, ...s },
        }),
      );
    } catch (err) {
      throw failed(`write the summary of run ${s.runId}`, err);
    }
  }

  async readSummary(runId: string): Promise<RunSummary | undefined> {
    const item = await this.get(runPk(runId), SUMMARY_SK, `read the summary of run ${runId}`);
    return item && summaryOf(item);
  }

  async listRuns(): Promise<RunSummary[]> {
    const items = await this.queryAll('list runs', {
      IndexName: RUNS_INDEX,
      KeyConditionExpression: 'gsi1pk = :runs',
      ExpressionAttributeValues: { ':runs': RUNS_GSI_PK },
      ScanIndexForward: false,
    });
    return items.map(summaryOf);
  }

  // ---- leases ----

  async acquireLease(resource: string, owner: LeaseOwner): Promise<AcquireResult> {
    // A lease released or taken between our put and our read is retried, a few times at most.
    for (let attempt = 0; attempt < 5; attempt++) {
      const now = this.clock.now().getTime();
      const lease: Lease = {
        resource,
        owner,
        token: randomUUID(),
        acquiredAt: new Date(now).toISOString(),
        expiresAt: new Date(now + this.config.leaseSeconds * 1000).toISOString(),
      };
      try {
        const out = await this.doc.send(
          new DynamoDBLib.PutCommand({
            TableName: this.table,
            Item: leaseItem(lease),
            // Taken over only once expired by the store's clock; TTL cleanup is far too late to decide.
            ConditionExpression: 'attribute_not_exists(pk) OR expiresAtMs <= :now',
            ExpressionAttributeValues: { ':now': now },
            ReturnValues: 'ALL_OLD',
          }),
        );
        const old = out.Attributes;
        return old && old.token !== lease.token ? { ok: true, lease, tookOverFrom: leaseOf(old) } : { ok: true, lease };
      } catch (err) {
        if (!isAwsError(err, 'ConditionalCheckFailedException')) throw failed(`lock ${resource}`, err);
      }
      const holder = await this.readLease(resource);
      if (holder && Date.parse(holder.expiresAt) > this.clock.now().getTime()) return { ok: false, holder };
    }
    throw new FirebreakError(`failed to lock ${resource}: its lease kept changing hands`, {
      hint: 'try again; if it persists, look at who renews the lease',
    });
  }

  async renewLease(lease: Lease): Promise<Lease> {
    const expires = this.clock.now().getTime() + this.config.leaseSeconds * 1000;
    try {
      // The token alone decides: an expired lease nobody took over is still this holder's.
      await this.doc.send(
        new DynamoDBLib.UpdateCommand({
          TableName: this.table,
          Key: { pk: lockPk(lease.resource), sk: LEASE_SK },
          UpdateExpression: 'SET expiresAtMs = :exp, expiresAt = :expIso, #ttl = :ttl',
          ConditionExpression: '#token = :token',
          ExpressionAttributeNames: { '#token': 'token', '#ttl': 'ttl' },
          ExpressionAttributeValues: {
            ':exp': expires,
            ':expIso': new Date(expires).toISOString(),
            ':ttl': ttlOf(expires),
            ':token': lease.token,
          },
        }),
      );
    } catch (err) {
      if (isAwsError(err, 'ConditionalCheckFailedException')) throw new LeaseLost(lease.resource, await this.lostWhy(lease));
      throw failed(`renew the lock on ${lease.resource}`, err);
    }
    return { ...lease, expiresAt: new Date(expires).toISOString() };
  }

  async releaseLease(lease: Lease): Promise<void> {
    try {
      await this.doc.send(
        new DynamoDBLib.DeleteCommand({
          TableName: this.table,
          Key: { pk: lockPk(lease.resource), sk: LEASE_SK },
          ConditionExpression: '#token = :token',
          ExpressionAttributeNames: { '#token': 'token' },
          ExpressionAttributeValues: { ':token': lease.token },
        }),
      );
    } catch (err) {
      if (isAwsError(err, 'ConditionalCheckFailedException')) throw new LeaseLost(lease.resource, await this.lostWhy(lease));
      throw failed(`release the lock on ${lease.resource}`, err);
    }
  }

  async readLease(resource: string): Promise<Lease | undefined> {
    const item = await this.get(lockPk(resource), LEASE_SK, `read the lock on ${resource}`);
    return item && leaseOf(item);
  }

  private async lostWhy(lease: Lease): Promise<string> {
    const now = await this.readLease(lease.resource);
    return now ? `run ${now.owner.runId} on ${now.owner.host} took it over after it expired at ${lease.expiresAt}` : 'it was released';
  }

  // ---- dedup ----

  async claimAlert(key: string, runId: string): Promise<ClaimResult> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const now = this.clock.now();
      const nowS = Math.floor(now.getTime() / 1000);
      const ttl = this.config.dedupDays ? nowS + this.config.dedupDays * DAY_S : undefined;
      try {
        await this.doc.send(
          new DynamoDBLib.PutCommand({
            TableName: this.table,
            Item: { pk: alertPk(key), sk: CLAIM_SK, key, runId, claimedAt: now.toISOString(), repeats: 0, ttl },
            // A claim past its TTL is forgotten even before DynamoDB gets round to deleting it.
            ConditionExpression: 'attribute_not_exists(pk) OR #ttl <= :nowS',
            ExpressionAttributeNames: { '#ttl': 'ttl' },
            ExpressionAttributeValues: { ':nowS': nowS },
          }),
        );
        return { claimed: true, runId };
      } catch (err) {
        if (!isAwsError(err, 'ConditionalCheckFailedException')) throw failed(`claim alert ${key}`, err);
      }
      try {
        const out = await this.doc.send(
          new DynamoDBLib.UpdateCommand({
            TableName: this.table,
            Key: { pk: alertPk(key), sk: CLAIM_SK },
            UpdateExpression: 'ADD repeats :one SET lastRepeatAt = :at',
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeValues: { ':one': 1, ':at': now.toISOString() },
            ReturnValues: 'ALL_NEW',
          }),
        );
        const claim = out.Attributes as Item;
        return { claimed: false, runId: String(claim.runId), repeats: Number(claim.repeats) };
      } catch (err) {
        // The claim expired and was deleted between our put and our update: claim again.
        if (!isAwsError(err, 'ConditionalCheckFailedException')) throw failed(`record a repeat of alert ${key}`, err);
      }
    }
    throw new FirebreakError(`failed to claim alert ${key}: its claim kept changing`, { hint: 'deliver the alert again' });
  }

  // ---- approvals ----

  async requestApproval(runId: string, key: string, request: Record<string, unknown>): Promise<void> {
    try {
      await this.doc.send(
        new DynamoDBLib.PutCommand({
          TableName: this.table,
          Item: {
            pk: runPk(runId),
            sk: approvalSk(key),
            runId,
            key,
            status: 'pending',
            request,
            requestedAt: this.clock.now().toISOString(),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (err) {
      // Asked again after a resume: the first request (or its answer) stands.
      if (isAwsError(err, 'ConditionalCheckFailedException')) return;
      throw failed(`record that run ${runId} waits for approval of ${key}`, err);
    }
  }

  async answerApproval(runId: string, key: string, answer: ApprovalAnswer): Promise<ApprovalRecord> {
    try {
      const out = await this.doc.send(
        new DynamoDBLib.UpdateCommand({
          TableName: this.table,
          Key: { pk: runPk(runId), sk: approvalSk(key) },
          UpdateExpression: 'SET #s = :answered, answer = :answer, runId = :runId, #k = :key',
          ConditionExpression: 'attribute_not_exists(pk) OR #s = :pending',
          ExpressionAttributeNames: { '#s': 'status', '#k': 'key' },
          ExpressionAttributeValues: { ':answered': 'answered', ':pending': 'pending', ':answer': answer, ':runId': runId, ':key': key },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return approvalOf(out.Attributes as Item);
    } catch (err) {
      if (!isAwsError(err, 'ConditionalCheckFailedException')) throw failed(`answer ${key} of run ${runId}`, err);
    }
    // Answered before (by someone else, or by our own retried update): the first answer stands.
    const first = await this.readApproval(runId, key);
    if (!first) throw new FirebreakError(`failed to answer ${key} of run ${runId}: its approval record disappeared`);
    return first;
  }

  async readApproval(runId: string, key: string): Promise<ApprovalRecord | undefined> {
    const item = await this.get(runPk(runId), approvalSk(key), `read approval ${key} of run ${runId}`);
    return item && approvalOf(item);
  }

  async listApprovals(runId: string): Promise<ApprovalRecord[]> {
    const items = await this.queryAll(`list the approvals of run ${runId}`, {
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': runPk(runId), ':prefix': approvalSk('') },
      ConsistentRead: true,
    });
    return items.map(approvalOf);
  }

  // ---- task tokens ----

  /**
   * A waiting step's task token, beside the run (the table is encrypted with the store's key; the
   * token never goes to the journal). A new token (the step waits again) replaces the old one; the
   * same token put again (a retried worker) leaves it as it is, answered or not.
   */
  async keepTaskToken(runId: string, key: string, token: string): Promise<void> {
    // A put refused by its condition is the same token kept already: it stays as it is.
    await this.putIf(
      { pk: runPk(runId), sk: tokenSk(key), runId, key, token, status: 'waiting', keptAt: this.clock.now().toISOString() },
      'attribute_not_exists(pk) OR #token <> :token',
      { ':token': token },
      `keep the task token of ${key} of run ${runId}`,
      { '#token': 'token' },
    );
  }

  async readTaskToken(runId: string, key: string): Promise<{ token: string; status: string; answer?: TokenAnswer } | undefined> {
    const item = await this.get(runPk(runId), tokenSk(key), `read the task token of ${key} of run ${runId}`);
    if (!item) return undefined;
    return { token: String(item.token), status: String(item.status), ...(item.answer ? { answer: item.answer as TokenAnswer } : {}) };
  }

  /** Mark the token answered, once; a TokenAlreadyAnswered naming the first answer otherwise. */
  async claimTaskToken(runId: string, key: string, token: string, answer: TokenAnswer): Promise<void> {
    try {
      await this.doc.send(
        new DynamoDBLib.UpdateCommand({
          TableName: this.table,
          Key: { pk: runPk(runId), sk: tokenSk(key) },
          UpdateExpression: 'SET #s = :answered, answer = :answer',
          ConditionExpression: '#token = :token AND #s = :waiting',
          ExpressionAttributeNames: { '#s': 'status', '#token': 'token' },
          ExpressionAttributeValues: { ':answered': 'answered', ':waiting': 'waiting', ':token': token, ':answer': answer },
        }),
      );
      return;
    } catch (err) {
      if (!isAwsError(err, 'ConditionalCheckFailedException')) throw failed(`mark the task token of ${key} of run ${runId} answered`, err);
    }
    // Our own update whose response was lost, or someone else's answer (or a newer token).
    const now = await this.readTaskToken(runId, key);
    if (now?.token === token && now.answer?.at === answer.at && now.answer.by === answer.by) return;
    if (now?.token === token) throw new TokenAlreadyAnswered(runId, key, now.answer ?? {});
    throw new FirebreakError(`failed to answer ${key} of run ${runId}: the step waits with another task token now`, {
      hint: `firebreak runs   (see what run ${runId} waits on, then approve again)`,
    });
  }

  /** Undo a claim whose answer could not be sent, so the step can be answered again. */
  async releaseTaskToken(runId: string, key: string, token: string, answer: TokenAnswer): Promise<void> {
    try {
      await this.doc.send(
        new DynamoDBLib.UpdateCommand({
          TableName: this.table,
          Key: { pk: runPk(runId), sk: tokenSk(key) },
          UpdateExpression: 'SET #s = :waiting REMOVE answer',
          ConditionExpression: '#token = :token AND answer.#at = :at',
          ExpressionAttributeNames: { '#s': 'status', '#token': 'token', '#at': 'at' },
          ExpressionAttributeValues: { ':waiting': 'waiting', ':token': token, ':at': answer.at },
        }),
      );
    } catch (err) {
      // Released already (a retried update whose response was lost).
      if (isAwsError(err, 'ConditionalCheckFailedException')) return;
      throw failed(`give back the task token of ${key} of run ${runId}`, err);
    }
  }

  // ---- sealing ----

  seal(runId: string, uptoSeq: number): Promise<SealResult> {
    return sealRun(this, runId, uptoSeq);
  }

  /** Low-level access for seal.ts: one item, strongly consistent. */
  async get(pk: string, sk: string, what: string): Promise<Item | undefined> {
    try {
      const out = await this.doc.send(new DynamoDBLib.GetCommand({ TableName: this.table, Key: { pk, sk }, ConsistentRead: true }));
      return out.Item;
    } catch (err) {
      throw failed(what, err);
    }
  }

  /** Put one item; false when `condition` failed (ConditionalCheckFailedException). */
  async putIf(
    item: Item,
    condition: string,
    values: Record<string, unknown>,
    what: string,
    names?: Record<string, string>,
  ): Promise<boolean> {
    try {
      await this.doc.send(
        new DynamoDBLib.PutCommand({
          TableName: this.table,
          Item: item,
          ConditionExpression: condition,
          ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
          ...(names ? { ExpressionAttributeNames: names } : {}),
        }),
      );
      return true;
    } catch (err) {
      if (isAwsError(err, 'ConditionalCheckFailedException')) return false;
      throw failed(what, err);
    }
  }

  private async queryAll(what: string, input: Record<string, unknown>): Promise<Item[]> {
    const items: Item[] = [];
    let start: Item | undefined;
    try {
      do {
        const out = await this.doc.send(
          new DynamoDBLib.QueryCommand({ TableName: this.table, ...input, ...(start ? { ExclusiveStartKey: start } : {}) }),
        );
        items.push(...(out.Items ?? []));
        start = out.LastEvaluatedKey;
      } while (start);
    } catch (err) {
      throw failed(what, err);
    }
    return items;
  }
}

const failed = (what: string, err: unknown) =>
  new FirebreakError(`failed to ${what}: ${(err as Error).name}: ${(err as Error).message}`, {
    cause: err,
    hint: 'check the store section of firebreak.config.yaml and the credentials (firebreak iam-policy lists what the store needs)',
  });

function storedOf(runId: string, e: StoredLine): StoredEvent {
  let parsed: { seq?: unknown; prev?: unknown };
  try {
    parsed = JSON.parse(e.line) as { seq?: unknown; prev?: unknown };
  } catch (err) {
    throw new FirebreakError(`failed to append event ${e.seq} to run ${runId}: its line is not JSON: ${(err as Error).message}`);
  }
  if (parsed.seq !== e.seq || typeof parsed.prev !== 'string') {
    throw new FirebreakError(
      `failed to append event ${e.seq} to run ${runId}: the line's seq (${String(parsed.seq)}) or prev does not match`,
    );
  }
  return { seq: e.seq, line: e.line, hash: lineHash(e.line), prev: parsed.prev };
}

const eventOfItem = (i: Item): StoredEvent => ({ seq: Number(i.seq), line: String(i.line), hash: String(i.hash), prev: String(i.prev) });
const summaryOf = (i: Item): RunSummary => ({ runId: i.runId, startedAt: i.startedAt, updatedAt: i.updatedAt, fields: i.fields ?? {} });
const ttlOf = (expiresMs: number) => Math.floor(expiresMs / 1000) + DAY_S;

function leaseItem(l: Lease): Item {
  return {
    pk: lockPk(l.resource),
    sk: LEASE_SK,
    resource: l.resource,
    ...l.owner,
    token: l.token,
    acquiredAt: l.acquiredAt,
    expiresAt: l.expiresAt,
    expiresAtMs: Date.parse(l.expiresAt),
    ttl: ttlOf(Date.parse(l.expiresAt)),
  };
}

function leaseOf(i: Item): Lease {
  const owner: LeaseOwner = { runId: i.runId, host: i.host };
  if (i.execution !== undefined) owner.execution = i.execution;
  if (i.purpose !== undefined) owner.purpose = i.purpose;
  return { resource: i.resource, owner, token: i.token, acquiredAt: i.acquiredAt, expiresAt: i.expiresAt };
}

function approvalOf(i: Item): ApprovalRecord {
  return {
    runId: i.runId,
    key: i.key,
    status: i.status,
    ...(i.request !== undefined ? { request: i.request } : {}),
    ...(i.answer !== undefined ? { answer: i.answer } : {}),
  };
}
