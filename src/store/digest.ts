/**
 * Sealed segments and their digest files, in the manner of CloudTrail's digest files: each digest
 * names the segment it covers (key, version id, SHA-256, first and last seq, the hash of the
 * last event) and the SHA-256 of the previous digest file, so the digests form a chain an auditor
 * walks with read access to the bucket alone.
 */
import { createHash } from 'node:crypto';
import { ZERO_HASH } from '../audit/verify.js';
import type { StoredEvent } from './types.js';

export interface SealDigest {
  format: 'firebreak-digest/1';
  runId: string;
  /** Seal number, 1-based. */
  digest: number;
  /** SHA-256 of the previous digest file's bytes; null for the first. */
  previousDigestHash: string | null;
  segment: { key: string; versionId?: string; sha256: string; bytes: number };
  firstSeq: number;
  lastSeq: number;
  /** The `prev` of the first line: the last sealed event's hash (ZERO_HASH for seq 1). */
  firstPrev: string;
  lastEventHash: string;
  sealedAt: string;
}

export const sha256Hex = (bytes: string | Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** A segment is the journal's own lines, each ending in a newline: the same bytes as journal.jsonl. */
export const segmentBody = (events: readonly StoredEvent[]): string => events.map((e) => `${e.line}\n`).join('');

export const digestBody = (d: SealDigest): string => `${JSON.stringify(d, null, 2)}\n`;

export { ZERO_HASH };
