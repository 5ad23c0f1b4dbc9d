/**
 * `firebreak serve`: alerts over HTTP (node:http).
 *
 *   POST /sns      SNS HTTP(S) deliveries: signature verified (sns-verify.ts), subscriptions
 *                  confirmed, notifications handled as alerts.
 *   POST /alerts   any alert shape, authenticated with an HMAC of the raw body (webhook-auth.ts).
 *   GET  /healthz  liveness, queue depth, runs in flight.
 *   GET  /runs     the runs under this home and their status.
 *
 * Nothing is started by a request that did not authenticate; every rejection is answered 4xx and
 * logged in `<home>/serve.jsonl`. An accepted alert is checked (routed, its inputs validated) before
 * the answer, so a bad alert is a 4xx too; it is then spooled durably and answered 202, and a
 * bounded number of runs proceed at once while the rest wait their turn. Alerts for the same run
 * id are handled one after the other, so a repeat is recorded once the run it repeats has stopped
 * writing its journal. SIGTERM stops accepting, interrupts the runs in flight at their next safe
 * point (the journal makes them resumable) and leaves their alerts, and the queued ones, in the
 * spool: the next start resumes the interrupted runs and handles the rest.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { existsSync, readdirSync } from 'node:fs';
import { loadConfig } from '../config/config.js';
import { InputError } from '../core/errors.js';
import { homeDir, runsDir } from '../engine/home.js';
import { readLock } from '../engine/lock.js';
import { readSummary, type RunSummary } from '../engine/run-summary.js';
import { errorInfo } from '../core/error-info.js';
import { alertSummary, sha256, type Alert } from './alert.js';
import {
  describeOutcome,
  prepareAlert,
  priorRun,
  recordRepeat,
  startOrJoin,
  type Prepared,
  type TriggerContext,
  type TriggerOutcome,
  type Via,
} from './dispatch.js';
import { parseAlertValue, parseJsonText } from './parse.js';
import { httpsCertFetcher, Rejected, subscribeUrlOf, verifySnsMessage, fetchText, type CertFetcher } from './sns-verify.js';
import { Spool, type SpoolEntry } from './spool.js';
import type { TriggerLog } from './trigger-log.js';
import { WebhookVerifier } from './webhook-auth.js';

export const DEFAULT_MAX_BODY = 256 * 1024;

export interface ServerOptions {
  host: string;
  port: number;
  /** Routing table, backend (sim/region/profile), home, config, approval wait: as for a trigger. */
  base: Omit<TriggerContext, 'log' | 'via' | 'signal' | 'print' | 'warn' | 'onEvent'>;
  log: TriggerLog;
  snsTopics: readonly string[];
  webhookSecret?: string;
  fetchCert?: CertFetcher;
  /** GET the SubscribeURL of a verified SubscriptionConfirmation (injectable for tests). */
  confirmSubscription?: (url: URL) => Promise<void>;
  maxBodyBytes?: number;
  maxInFlight?: number;
  maxQueued?: number;
  now?: () => Date;
  /** One line per outcome and rejection, for the operator's terminal. */
  print: (line: string) => void;
}

export interface ServerStats {
  accepted: number;
  rejected: number;
  queued: number;
  inFlight: number;
  maxInFlightSeen: number;
  started: number;
  repeated: number;
  duplicates: number;
  /** Runs an earlier server interrupted, continued by this one. */
  resumed: number;
  ignored: number;
  failed: number;
}

export interface AlertServer {
  server: Server;
  url: string;
  stats(): ServerStats;
  /** Resolves when no alert is queued or being handled. */
  idle(): Promise<void>;
  /** Stop accepting, interrupt runs at their next safe point, wait for them, close the log. */
  shutdown(reason: string): Promise<void>;
}

export async function startAlertServer(o: ServerOptions): Promise<AlertServer> {
  const maxBody = o.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const maxQueued = o.maxQueued ?? 10_000;
  const now = o.now ?? (() => new Date());
  const fetchCert = o.fetchCert ?? httpsCertFetcher();
  const confirm = o.confirmSubscription ?? (async (url: URL) => void (await fetchText(url, 10_000, 65_536)));
  const webhook = new WebhookVerifier(o.webhookSecret, () => now().getTime());
  const spool = new Spool(join(homeDir(o.base), 'spool'));
  const limit = pLimit(o.maxInFlight ?? 4);
  const stop = new AbortController();
  const chains = new Map<string, Promise<void>>();
  const stats: ServerStats = {
    accepted: 0,
    rejected: 0,
    queued: 0,
    inFlight: 0,
    maxInFlightSeen: 0,
    started: 0,
    repeated: 0,
    duplicates: 0,
    resumed: 0,
    ignored: 0,
    failed: 0,
  };
  let accepting = true;
  let idleWaiters: Array<() => void> = [];

  const ctx: TriggerContext = {
    ...o.base,
    log: o.log,
    via: 'serve',
    signal: stop.signal,
    print: (text) => o.print(text.trimEnd()),
    warn: (line) => o.print(line),
  };

  const checkIdle = () => {
    if (stats.queued === 0 && chains.size === 0) {
      const w = idleWaiters;
      idleWaiters = [];
      for (const f of w) f();
    }
  };

  const count = (out: TriggerOutcome) => {
    if (out.kind === 'started') out.resumed ? stats.resumed++ : stats.started++;
    else if (out.kind === 'repeated') stats.repeated++;
    else if (out.kind === 'duplicate') stats.duplicates++;
    else stats.ignored++;
  };

  const inStore = loadConfig(o.base.configFile).config.store.kind === 'aws';
  /** Handle one accepted alert, after any earlier alert of the same run id. */
  const submit = (entry: SpoolEntry, prepared: Prepared | undefined) => {
    const id = entry.alert.runId;
    stats.queued++;
    const prev = chains.get(id) ?? Promise.resolve();
    const work = async () => {
      stats.queued--;
      if (stop.signal.aborted) return; // left in the spool for the next start
      let outcome: TriggerOutcome;
      // With store: aws the table's claim decides (startOrJoin); a local journal is only a working copy.
      if (!inStore && priorRun(entry.alert, ctx) === 'repeat') outcome = await recordRepeat(entry.alert, ctx);
      else {
        const p = prepared ?? (await prepareAlert(entry.alert, ctx));
        if ('ignored' in p) {
          await o.log.append('alert.ignored', { via: entry.via, reasons: p.ignored, alert: alertSummary(entry.alert) });
          outcome = { kind: 'ignored', alert: entry.alert, reasons: p.ignored };
        } else {
          outcome = (await limit(async () => {
            if (stop.signal.aborted) return undefined;
            stats.inFlight++;
            stats.maxInFlightSeen = Math.max(stats.maxInFlightSeen, stats.inFlight);
            try {
              return await startOrJoin(p, ctx);
            } finally {
              stats.inFlight--;
            }
          })) as TriggerOutcome;
          if (!outcome) return;
        }
      }
      count(outcome);
      o.print(describeOutcome(outcome));
      // A run this server had to interrupt keeps its alert in the spool: the next start resumes it.
      if (outcome.kind === 'started' && outcome.run.status === 'interrupted') return;
      spool.remove(entry);
    };
    const p: Promise<void> = prev
      .then(work)
      .catch(async (err) => {
        // Logged and shown, never dropped. Bad input can never succeed, so it leaves the spool;
        // anything else stays there for the next start to try again.
        stats.failed++;
        const info = errorInfo(err);
        const invalid = err instanceof InputError;
        if (invalid) spool.remove(entry);
        o.print(`failed to handle alert for run ${id}: ${info.code}: ${info.message}`);
        await o.log
          .append('alert.failed', { runId: id, error: info, ...(invalid ? { removedFromSpool: true } : { spool: entry.file }) })
          .catch((e) => o.print(`failed to log: ${(e as Error).message}`));
      })
      .finally(() => {
        if (chains.get(id) === p) chains.delete(id);
        checkIdle();
      });
    chains.set(id, p);
  };

  /** Route and check each alert, spool the accepted ones, then answer. */
  const accept = async (alerts: Alert[], via: Via) => {
    const results: Array<Record<string, unknown>> = [];
    const toSubmit: Array<{ alert: Alert; prepared?: Prepared }> = [];
    for (const alert of alerts) {
      if (chains.has(alert.runId) || priorRun(alert, ctx) !== 'new') {
        toSubmit.push({ alert });
        results.push({ runId: alert.runId, status: 'queued', as: 'repeat-or-start' });
        continue;
      }
      const p = await prepareAlert(alert, ctx);
      if ('ignored' in p) {
        await o.log.append('alert.ignored', { via, reasons: p.ignored, alert: alertSummary(alert) });
        stats.ignored++;
        o.print(`ignored ${alert.type}: ${p.ignored.join('; ')}`);
        results.push({ runId: null, status: 'ignored', reasons: p.ignored, dedupKey: alert.dedupKey });
        continue;
      }
      toSubmit.push({ alert, prepared: p });
      results.push({ runId: alert.runId, status: 'queued', route: p.route.name });
    }
    if (stats.queued + toSubmit.length > maxQueued)
      throw new Rejected(503, `the queue is full (${stats.queued} alerts waiting); retry later`);
    for (const s of toSubmit) {
      const entry = spool.put(s.alert, via, now());
      stats.accepted++;
      submit(entry, s.prepared);
    }
    return { status: toSubmit.length > 0 ? 202 : 200, body: { results } };
  };

  const handleSns = async (req: IncomingMessage, raw: Buffer) => {
    const body = parseBody(raw, 'POST /sns');
    const header = req.headers['x-amz-sns-message-type'];
    const m = await verifySnsMessage(body, { fetchCert, topics: o.snsTopics, now });
    if (header !== undefined && header !== m.Type)
      throw new Rejected(400, `x-amz-sns-message-type ${String(header)} does not match the body's Type ${m.Type}`);
    if (m.Type === 'SubscriptionConfirmation') {
      const url = subscribeUrlOf(m);
      await confirm(url);
      await o.log.append('sns.subscription-confirmed', { topicArn: m.TopicArn, messageId: m.MessageId });
      o.print(`confirmed the SNS subscription to ${m.TopicArn}`);
      return { status: 200, body: { confirmed: m.TopicArn } };
    }
    if (m.Type === 'UnsubscribeConfirmation') {
      await o.log.append('sns.unsubscribed', { topicArn: m.TopicArn, messageId: m.MessageId });
      return { status: 200, body: { unsubscribed: m.TopicArn } };
    }
    const alerts = parseAlertValue(body, { file: 'POST /sns', deliveryId: `sns:${m.MessageId}` });
    return accept(alerts, 'serve');
  };

  const handleAlerts = async (req: IncomingMessage, raw: Buffer) => {
    webhook.verify(req.headers, raw);
    const body = parseBody(raw, 'POST /alerts');
    const alerts = parseAlertValue(body, { file: 'POST /alerts', deliveryId: `sha256:${sha256(raw.toString('utf8')).slice(0, 32)}` });
    return accept(alerts, 'serve');
  };

  const listRuns = () => {
    const root = runsDir(o.base);
    const ids = existsSync(root)
      ? readdirSync(root)
          .filter((d) => existsSync(join(root, d, 'journal.jsonl')))
          .sort()
      : [];
    return ids.map((id) => {
      const s = readSummary(join(root, id)) ?? ({} as Partial<RunSummary>);
      const live = readLock(join(root, id, 'run.lock'));
      return {
        id,
        playbook: s.playbook ?? null,
        status: s.status === 'running' && !live ? 'stopped' : (s.status ?? 'starting'),
        waitingStep: s.waitingStep ?? null,
        started: s.started ?? null,
        updated: s.updated ?? null,
      };
    });
  };

  const reject = async (req: IncomingMessage, res: ServerResponse, status: number, reason: string) => {
    stats.rejected++;
    send(res, status, { error: reason });
    o.print(`rejected ${req.method} ${req.url}: ${status} ${reason}`);
    await o.log.append('request.rejected', { method: req.method, path: req.url, status, reason, remote: req.socket.remoteAddress ?? null });
  };

  const server = createServer((req, res) => {
    void (async () => {
      const path = (req.url ?? '/').split('?')[0];
      try {
        if (req.method === 'GET' && path === '/healthz')
          return send(res, 200, { status: accepting ? 'ok' : 'stopping', ...stats, pending: chains.size });
        if (req.method === 'GET' && path === '/runs') return send(res, 200, listRuns());
        if (path !== '/sns' && path !== '/alerts') return await reject(req, res, 404, `no route ${path}`);
        if (req.method !== 'POST') return await reject(req, res, 405, `${path} accepts POST only`);
        if (!accepting) return await reject(req, res, 503, 'the server is shutting down');
        const raw = await readBody(req, maxBody);
        const r = path === '/sns' ? await handleSns(req, raw) : await handleAlerts(req, raw);
        send(res, r.status, r.body);
      } catch (err) {
        if (err instanceof Rejected) return await reject(req, res, err.status, err.reason);
        if (err instanceof InputError) return await reject(req, res, 400, [err.line, ...err.more.map((m) => m.line)].join('; '));
        const info = errorInfo(err);
        send(res, 500, { error: `${info.code}: ${info.message}` });
        o.print(`error handling ${req.method} ${path}: ${info.code}: ${info.message}`);
        await o.log.append('request.failed', { method: req.method, path, error: info });
      }
    })().catch((err) => o.print(`failed to answer ${req.method} ${req.url}: ${(err as Error).message}`));
  });
  // A slow client must not hold a connection (and its body buffer) forever; the limits are
  // generous because a busy server answers late, and closing a keep-alive connection the client
  // is about to reuse resets its next request. Idle connections outlive common clients' own
  // keep-alive (a load balancer's 60 s) so the server is never the one closing first.
  server.requestTimeout = 120_000;
  server.headersTimeout = 66_000;
  server.keepAliveTimeout = 65_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
  await o.log.append('serve.started', {
    url,
    pid: process.pid,
    snsTopics: o.snsTopics,
    webhook: !!o.webhookSecret,
    maxInFlight: o.maxInFlight ?? 4,
    maxBodyBytes: maxBody,
  });

  // Alerts a previous server accepted but did not finish.
  const { entries: leftovers, quarantined } = spool.pending();
  for (const q of quarantined) {
    await o.log.append('spool.quarantined', { file: q.file, movedTo: q.movedTo, reason: q.reason });
    o.print(`warning: spool entry ${q.file} cannot be read (${q.reason}); moved to ${q.movedTo}`);
  }
  for (const entry of leftovers) submit(entry, undefined);
  if (leftovers.length) o.print(`handling ${leftovers.length} alert(s) left in the spool by an earlier server`);

  return {
    server,
    url,
    stats: () => ({ ...stats }),
    idle: () =>
      new Promise<void>((resolve) => {
        if (stats.queued === 0 && chains.size === 0) resolve();
        else idleWaiters.push(resolve);
      }),
    async shutdown(reason: string) {
      if (!accepting) return;
      accepting = false;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      stop.abort(new Error(reason));
      await Promise.allSettled([...chains.values()]);
      await closed;
      const left = spool.pending().entries.length;
      await o.log.append('serve.stopped', { reason, leftInSpool: left, ...stats });
      o.log.close();
      o.print(`stopped (${reason}); ${left} alert(s) left in the spool for the next start`);
    },
  };
}

function parseBody(raw: Buffer, where: string): unknown {
  return parseJsonText(raw.toString('utf8'), where);
}

function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > max) {
      req.resume();
      reject(new Rejected(413, `the body is ${declared} bytes; the limit is ${max}`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > max) {
        done = true;
        req.resume();
        reject(new Rejected(413, `the body is larger than the limit of ${max} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      resolve(Buffer.concat(chunks));
    });
    req.on('error', (err) => {
      if (done) return;
      done = true;
      reject(err);
    });
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...(status === 413 ? { connection: 'close' } : {}),
  });
  res.end(text);
}
