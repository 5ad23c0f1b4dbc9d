/**
 * The run store: everything a run persists — its journal, its summary, the locks on its target
 * resources, the alert dedup claims and the approval records — behind one interface, so that a
 * laptop run and an alert-driven run in AWS are the same run. The local folder (journal.ts,
 * lock.ts, inbox.ts, home.ts, the trigger log) is today's implementation; `aws.ts` keeps the same
 * things in one DynamoDB table and seals the journal to an S3 bucket with Object Lock.
 *
 * ## DynamoDB: one table, `pk` (string) + `sk` (string), one GSI `runs` (gsi1pk, gsi1sk), TTL on `ttl`
 *
 * | item                | pk                 | sk               | attributes                                                    |
 * |---------------------|--------------------|------------------|---------------------------------------------------------------|
 * | journal event       | `RUN#<runId>`      | `EV#<seq, 12 d>` | seq, line (the exact JSON line), hash (SHA-256 of line), prev |
 * | run summary         | `RUN#<runId>`      | `SUMMARY`        | runId, startedAt, updatedAt, fields; gsi1pk `RUNS`, gsi1sk `<startedAt>#<runId>` |
 * | seal state          | `RUN#<runId>`      | `SEAL`           | digests, sealedSeq, lastEventHash, lastDigestHash, lastDigestKey |
 * | approval record     | `RUN#<runId>`      | `APPROVAL#<key>` | status (pending/answered), request, answer, answeredAt        |
 * | lease (lock)        | `LOCK#<resource>`  | `LEASE`          | runId, execution, host, token, acquiredAt, expiresAt (ms), ttl |
 * | dedup claim         | `ALERT#<key>`      | `CLAIM`          | runId, claimedAt, repeats, lastRepeatAt, ttl (when dedupDays) |
 *
 * One writer per sequence number: an event is put with `attribute_not_exists(pk)`, so of two
 * writers at one seq exactly one succeeds; the other gets `AppendConflict`. A put retried after a
 * lost response (the SDK's standard retry) finds its own item: the store reads it back and, when
 * the line is byte-identical, reports success — no fork, no duplicate. Leases and dedup claims
 * carry `ttl` (epoch seconds) so DynamoDB's TTL removes them long after they stop mattering; a
 * lease's exclusivity is judged by `expiresAt` against the store's clock in the condition, never
 * by TTL (TTL deletion runs up to days late).
 *
 * ## S3: one bucket, versioning + Object Lock, SSE-KMS with the configured key
 *
 * - `runs/<runId>/segments/<n, 6 d>.jsonl`: the journal lines of seal n (seqs firstSeq..lastSeq), byte for byte.
 * - `runs/<runId>/digests/<n, 6 d>.json`: the digest of seal n, in the manner of CloudTrail's digest
 *   files: runId, n, segment key, version id and SHA-256, firstSeq, lastSeq, the hash of the last
 *   event, and the SHA-256 of the previous digest file (null for n = 1), so digests form a chain.
 * Both are written with `If-None-Match: *` (one sealer per n) and with Object Lock retention
 * (mode and days from config): not even the credentials that wrote them can replace or delete
 * them before retention ends. A PUT to the same key can still add a *new version* beside a locked
 * one; the verifier reads every version and reports any key with more than one (or a delete marker).
 *
 * ## Requests per operation (AWS store)
 *
 * | operation           | requests                                                                            |
 * |---------------------|-------------------------------------------------------------------------------------|
 * | append              | 1 PutItem (+1 GetItem only when the condition fails: conflict or a retried put)     |
 * | readEvents          | 1 Query per 1 MB page                                                               |
 * | putSummary          | 1 PutItem; readSummary 1 GetItem; listRuns 1 Query on the GSI per page               |
 * | seal                | 1 GetItem (SEAL) + 1 Query per 1 MB of unsealed events + 2 PutObject + 1 PutItem (SEAL, conditional); a seal adopting a half-done one adds 1 GetObject per object found |
 * | acquireLease        | 1 PutItem (+1 GetItem when held by another)                                         |
 * | renewLease/release  | 1 UpdateItem / 1 DeleteItem                                                         |
 * | claimAlert          | 1 PutItem (a repeat: +1 UpdateItem that counts it and returns the claim)            |
 * | putApproval/answer  | 1 PutItem / 1 UpdateItem; readApprovals 1 Query                                     |
 * | verify (auditor)    | 1 ListObjectVersions per 1,000 versions + 2 GetObject per seal (+ Query pages to compare the table) |
 */
import type { Journal, JournalEvent } from '../audit/journal.js';
import type { Clock } from '../core/clock.js';

/** One journal line as the journal wrote it: its seq and the exact JSON text (no newline). */
export interface StoredLine {
  seq: number;
  /** The exact bytes the hash chain covers (`prev` inside it names the previous line's hash). */
  line: string;
}

/** A stored line with what the store derived from it. */
export interface StoredEvent extends StoredLine {
  /** SHA-256 (hex) of `line`. */
  hash: string;
  /** The `prev` field of the line. */
  prev: string;
}

/** What `firebreak runs` shows for a run, written by the engine at start, at each status change and at the end. */
export interface RunSummary {
  runId: string;
  startedAt: string;
  updatedAt: string;
  /** Playbook id, status, incident, who started it… (redacted by the caller as the journal is). */
  fields: Record<string, unknown>;
}

/** Who holds a lease: the run, the Step Functions execution when there is one, the host. */
export interface LeaseOwner {
  runId: string;
  execution?: string;
  host: string;
  /** Why it is held (a step id), shown to a refused caller. */
  purpose?: string;
}

export interface Lease {
  resource: string;
  owner: LeaseOwner;
  /** Random per acquisition: renew and release act only on the lease this token names. */
  token: string;
  acquiredAt: string;
  expiresAt: string;
}

export type AcquireResult =
  | {
      ok: true;
      lease: Lease /** The expired lease this acquisition replaced, to journal whose lock was inherited. */;
      tookOverFrom?: Lease;
    }
  | { ok: false; holder: Lease };

export type ClaimResult =
  | { claimed: true; runId: string }
  /** The key was claimed before: the repeat is counted on the claim; the engine records it on `runId`. */
  | { claimed: false; runId: string; repeats: number };

/** An answer as `firebreak approve` gives it: approve, skip the step (--deny) or abort the run. */
export interface ApprovalAnswer {
  decision: 'approve' | 'skip' | 'abort';
  by: string;
  note?: string;
  via?: string;
  at: string;
}

export interface ApprovalRecord {
  runId: string;
  /** The step's approval key (step id, or step id and map item). */
  key: string;
  status: 'pending' | 'answered';
  request?: Record<string, unknown>;
  answer?: ApprovalAnswer;
}

/** The outcome of one seal: which lines are now under Object Lock. */
export interface SealResult {
  /** Seal number (1-based); undefined when there was nothing new to seal. */
  digest?: number;
  firstSeq?: number;
  sealedSeq: number;
}

/** What the AWS store keeps, item by item (aws.ts); the engine reaches it through `RunStore` below. */
export interface DurableRunStore {
  readonly kind: 'aws';

  /** Append line `seq` of a run's journal: durable when it resolves. Throws AppendConflict when `seq` holds another line. */
  append(runId: string, event: StoredLine): Promise<StoredEvent>;
  /** The run's lines in seq order, from `fromSeq` (default 1). Strongly consistent. */
  readEvents(runId: string, opts?: { fromSeq?: number }): Promise<StoredEvent[]>;
  /** The last line of the run, or undefined for a run with no journal yet. */
  lastEvent(runId: string): Promise<StoredEvent | undefined>;

  putSummary(summary: RunSummary): Promise<void>;
  readSummary(runId: string): Promise<RunSummary | undefined>;
  /** Every run, newest first. */
  listRuns(): Promise<RunSummary[]>;

  /** Take the lease on a target resource, or learn who holds it. An expired lease is taken over. */
  acquireLease(resource: string, owner: LeaseOwner): Promise<AcquireResult>;
  /** Extend a held lease by the configured lease time. Throws LeaseLost when it was taken over. */
  renewLease(lease: Lease): Promise<Lease>;
  /** Give the lease back. Throws LeaseLost when it is no longer this holder's. */
  releaseLease(lease: Lease): Promise<void>;
  readLease(resource: string): Promise<Lease | undefined>;

  /** Claim an alert's dedup key for `runId`, exactly once across every process. */
  claimAlert(key: string, runId: string): Promise<ClaimResult>;

  /** Record that a step waits for approval (a pending record any machine can answer). */
  requestApproval(runId: string, key: string, request: Record<string, unknown>): Promise<void>;
  /** Answer a step; the first answer wins. Returns the record as stored (another answer if one came first). */
  answerApproval(runId: string, key: string, answer: ApprovalAnswer): Promise<ApprovalRecord>;
  readApproval(runId: string, key: string): Promise<ApprovalRecord | undefined>;
  listApprovals(runId: string): Promise<ApprovalRecord[]>;

  /** Seal the journal up to `uptoSeq` (every line not yet sealed, through uptoSeq) under Object Lock. */
  seal(runId: string, uptoSeq: number): Promise<SealResult>;
}

/** Parse a stored line as a journal event (reports, resume). */
export const eventOf = (e: StoredLine): JournalEvent => JSON.parse(e.line) as JournalEvent;

// ---- the engine's seam: one interface, two implementations ----

/** A lock the run holds (its own run lock or a target's); released once when the run ends. */
export interface HeldLock {
  release(): void | Promise<void>;
}

/** Who asks for a lock, as the engine names it. */
export interface LockRequest {
  runId: string;
  purpose: string;
}

/** Who holds a lock another run waits for (shown and journaled in lock.waiting). */
export interface LockHolder {
  runId: string;
  pid?: number;
  host?: string;
}

export interface TargetLockOptions {
  /** Wait this long for another run to release it (ms); 0 or absent: fail at once. */
  waitMs?: number;
  signal?: AbortSignal;
  onWait?: (holder: LockHolder | undefined) => void;
  /** Where the resource lives: account and region (and the simulated world), so one id in two places is two locks. */
  scope?: string;
}

/** An answer `firebreak approve` posted for a waiting step. */
export interface PostedApproval {
  decision: 'approve' | 'skip' | 'abort';
  by: string;
  note?: string;
  via?: string;
  at: string;
}

/** Who answered a waiting step's task token, recorded on the token when it is taken. */
export interface TokenAnswer {
  decision: string;
  by: string;
  at: string;
}

/** One run's persistence. */
export interface RunRecord {
  readonly runId: string;
  /** The run's working folder (the journal's working copy; the simulated world's copy lives here too). */
  readonly dir: string;
  /** The run's one writer: undefined when another process holds it. */
  lock(owner: LockRequest): Promise<HeldLock | undefined>;
  openJournal(clock: Clock): Journal;
  readJournal(): JournalEvent[];
  /** An answer posted while the run waited (the local inbox; with the AWS store, the table). */
  postedApproval(step: string): PostedApproval | undefined | Promise<PostedApproval | undefined>;
  /**
   * The task token a step waits with on Step Functions, kept for `firebreak approve` (AWS store: an
   * item in the table beside the run, durable when this resolves; local: a file in the run folder).
   */
  keepTaskToken(step: string, token: string): Promise<void>;
  taskToken(step: string): Promise<string | undefined>;
  /**
   * Take the kept token to answer it, once (a conditional write): a TokenAlreadyAnswered error naming
   * the first answer when it was taken before. `release()` gives it back when sending the answer failed.
   */
  claimTaskToken(step: string, token: string, answer: TokenAnswer): Promise<{ release(): Promise<void> }>;
  /** Record the run's summary (`firebreak runs`) from its events. */
  writeSummary(events: readonly JournalEvent[]): void;
  /**
   * Everything appended so far is in the store: the engine awaits this before each AWS call and at
   * the end. Rejects with the store's error (an AppendConflict: another writer) — the run must stop.
   */
  settle(): Promise<void>;
  /** Seal the journal written so far (AWS store: under Object Lock; local: nothing beyond the head file). */
  seal(): Promise<void>;
}

/** Where runs persist, chosen by `firebreak.config.yaml` `store:` (local folder by default). */
export interface RunStore {
  readonly kind: 'local' | 'aws';
  /** A new run: refuses a run id that exists. */
  create(runId: string): Promise<RunRecord>;
  /** An existing run, or an InputError (exit 2) naming the command that lists runs. */
  /** `journalOnly`: the caller only appends to the journal (a repeat), so a rehearsal's world is not fetched. */
  open(runId: string, opts?: { journalOnly?: boolean }): Promise<RunRecord>;
  /** A target resource, held by one run at a time. */
  lockTarget(kind: string, id: string, owner: LockRequest, opts?: TargetLockOptions): Promise<HeldLock>;
}
