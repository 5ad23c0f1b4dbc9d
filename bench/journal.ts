/**
 * Journal throughput: durable appends per second through the `Journal` class (each append is
 * written and fdatasynced before it returns), and `audit verify` over a 100,000-event journal.
 */
import type { AwsCallRecord } from '../src/cloud/middleware.js';
import { closeSync, fdatasyncSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Journal } from '../src/audit/journal.js';
import { encodeHead, lineHash, verifyJournal, ZERO_HASH } from '../src/audit/verify.js';
import { runCli, tempDir } from './lib/child.js';
import { median, quantile, round } from './lib/stats.js';

/** A typical event: an AWS call as the audit middleware records it. */
function awsCallFields(i: number): AwsCallRecord {
  return {
    step: `isolate[${i % 500}]`,
    service: 'ec2',
    operation: 'ModifyNetworkInterfaceAttribute',
    input: { NetworkInterfaceId: `eni-0b2${i.toString(16).padStart(14, '0')}`, Groups: ['sg-0b100000000000001'] },
    requestId: `4d0c1f3e-${(i % 65536).toString(16).padStart(4, '0')}-4a1b-a2c3-9f8e7d6c5b4a`,
    status: 200,
    durationMs: 51,
    attempts: 1,
  };
}

export interface AppendResult {
  events: number;
  appendsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  bytesPerEvent: number;
  /** The same disk's raw rate in the same run: `events` lines of the same size, each written and fdatasynced. */
  rawSyncsPerSecond: number;
  /** appendsPerSecond ÷ rawSyncsPerSecond: what the journal keeps of what the disk can do (1 = all). */
  ratioToRaw: number;
}

/** Lines of `bytes` written with write + fdatasync each to a new file in `dir`: the disk's sync rate, per second. */
function rawSyncRate(dir: string, events: number, bytes: number): number {
  const fd = openSync(join(dir, 'raw.bin'), 'w');
  const line = Buffer.alloc(bytes, 0x61);
  const t0 = performance.now();
  try {
    for (let i = 0; i < events; i++) {
      writeSync(fd, line);
      fdatasyncSync(fd);
    }
  } finally {
    closeSync(fd);
  }
  return events / ((performance.now() - t0) / 1000);
}

export function benchAppend(o: { events: number }): AppendResult {
  const dir = tempDir('fb-bench-journal-');
  const j = Journal.open(join(dir, 'journal.jsonl'));
  const lat: number[] = [];
  let bytes = 0;
  const t0 = performance.now();
  try {
    for (let i = 0; i < o.events; i++) {
      const t = performance.now();
      const e = j.append('aws.call', awsCallFields(i));
      lat.push(performance.now() - t);
      if (i === 0) bytes = JSON.stringify(e).length + 1;
    }
  } finally {
    j.close();
  }
  const s = (performance.now() - t0) / 1000;
  // Measured right after, on the same file system: the disk's rate varies from run to run, so
  // appends/s alone says little; its ratio to this says what the journal costs on top.
  const raw = rawSyncRate(dir, o.events, bytes);
  return {
    events: o.events,
    appendsPerSecond: round(o.events / s, 0),
    p50Ms: round(median(lat), 3),
    p99Ms: round(quantile(lat, 0.99), 3),
    bytesPerEvent: bytes,
    rawSyncsPerSecond: round(raw, 0),
    ratioToRaw: round(o.events / s / raw, 2),
  };
}

/**
 * A journal of `events` lines in the writer's own layout (seq, ts, type, fields, prev) with its
 * head record, written without fsync: building it through `append` would take minutes. The
 * verify run that follows checks every line, so a layout drift fails the benchmark loudly.
 */
export function writeLargeJournal(dir: string, events: number): string {
  const file = join(dir, 'journal.jsonl');
  const fd = openSync(file, 'w');
  let prev = ZERO_HASH;
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  const chunk: string[] = [];
  try {
    for (let seq = 1; seq <= events; seq++) {
      const body = JSON.stringify(awsCallFields(seq));
      const line = `{"seq":${seq},"ts":${JSON.stringify(new Date(t0 + seq * 7).toISOString())},"type":"aws.call",${body.slice(1, -1)},"prev":"${prev}"}`;
      prev = lineHash(line);
      chunk.push(line);
      if (chunk.length === 5000 || seq === events) {
        writeSync(fd, `${chunk.join('\n')}\n`);
        chunk.length = 0;
      }
    }
  } finally {
    closeSync(fd);
  }
  writeFileSync(join(dir, 'journal.head'), encodeHead({ seq: events, sha256: prev }));
  return file;
}

export interface VerifyResult {
  events: number;
  megabytes: number;
  /** verifyJournal() inside this process, median of `runs`. */
  inProcessMs: number;
  inProcessEventsPerSecond: number;
  /** `firebreak audit verify <file>` as a whole process (start-up included), median of `runs`. */
  cliMs: number;
  cliEventsPerSecond: number;
  /** Fastest and slowest run of each, ms. */
  inProcessRangeMs: [number, number];
  cliRangeMs: [number, number];
}

export async function benchVerify(o: { events: number; runs: number }): Promise<VerifyResult> {
  const dir = tempDir('fb-bench-verify-');
  const file = writeLargeJournal(dir, o.events);
  const inProc: number[] = [];
  for (let i = 0; i < o.runs; i++) {
    const t = performance.now();
    const v = verifyJournal(file);
    inProc.push(performance.now() - t);
    if (!v.ok || v.events !== o.events) throw new Error(`failed to verify the benchmark journal: ${JSON.stringify(v)}`);
  }
  const cli: number[] = [];
  for (let i = 0; i < o.runs; i++) {
    const r = await runCli(['audit', 'verify', file], { home: dir });
    if (r.code !== 0) throw new Error(`firebreak audit verify exited ${r.code}: ${r.stdout}${r.stderr}`);
    cli.push(r.wallMs);
  }
  const { size } = await import('node:fs').then((fs) => fs.statSync(file));
  const ip = median(inProc);
  const c = median(cli);
  return {
    events: o.events,
    megabytes: round(size / 2 ** 20),
    inProcessMs: round(ip),
    inProcessEventsPerSecond: round((o.events / ip) * 1000, 0),
    cliMs: round(c),
    cliEventsPerSecond: round((o.events / c) * 1000, 0),
    inProcessRangeMs: [round(Math.min(...inProc)), round(Math.max(...inProc))],
    cliRangeMs: [round(Math.min(...cli)), round(Math.max(...cli))],
  };
}
