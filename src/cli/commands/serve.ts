/**
 * `firebreak serve`: receive alerts over HTTP (see triggers/server.ts). Prints one line per outcome
 * and `listening on URL` once ready; SIGTERM or SIGINT stop it cleanly (runs in flight are
 * interrupted at a safe point and stay resumable), a second signal exits at once.
 */
import { exitNow } from '../main.js';
import { join } from 'node:path';
import { parseDuration } from '../../core/clock.js';
import { EXIT, InputError } from '../../core/errors.js';
import type { AwsCallRecord } from '../../cloud/middleware.js';
import { homeDir } from '../../engine/home.js';
import { DEFAULT_ROUTES_FILE, loadRoutes } from '../../triggers/routes.js';
import { routingTagLookup } from '../../triggers/routing-clients.js';
import { type AlertServer, startAlertServer } from '../../triggers/server.js';
import { TriggerLog } from '../../triggers/trigger-log.js';
import { MIN_SECRET_LENGTH } from '../../triggers/webhook-auth.js';
import { err, out } from '../output.js';

export interface ServeCliOptions {
  host?: string;
  port?: string;
  routes?: string;
  snsTopic?: string[];
  maxRuns?: string;
  waitForApproval?: string;
  sim?: string | boolean;
  region?: string;
  profile?: string;
  config?: string;
  runsDir?: string;
}

export async function serve(opts: ServeCliOptions): Promise<void> {
  const port = Number(opts.port ?? '8787');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InputError(`'${opts.port}' is not a port number`, { field: '--port' });
  const maxRuns = Number(opts.maxRuns ?? '4');
  if (!Number.isInteger(maxRuns) || maxRuns < 1 || maxRuns > 64)
    throw new InputError(`--max-runs must be a whole number from 1 to 64, got '${opts.maxRuns}'`, { field: '--max-runs' });
  const secret = process.env.FIREBREAK_WEBHOOK_SECRET || undefined;
  if (secret !== undefined && secret.length < MIN_SECRET_LENGTH) {
    throw new InputError(
      `FIREBREAK_WEBHOOK_SECRET is ${secret.length} characters; use at least ${MIN_SECRET_LENGTH} (e.g. openssl rand -hex 32)`,
      { field: 'FIREBREAK_WEBHOOK_SECRET' },
    );
  }
  const snsTopics = [
    ...(opts.snsTopic ?? []),
    ...(process.env.FIREBREAK_SNS_TOPICS ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  ];
  for (const t of snsTopics) {
    if (!/^arn:aws[a-z*-]*:sns:[a-z0-9*-]+:[\d*]+:[A-Za-z0-9_.*-]+$/.test(t))
      throw new InputError(`'${t}' is not an SNS topic ARN (wildcards * allowed)`, { field: '--sns-topic' });
  }
  const table = loadRoutes(opts.routes ?? DEFAULT_ROUTES_FILE);
  const home = { ...(opts.runsDir ? { runsDir: opts.runsDir } : {}) };
  const backend = {
    ...(opts.sim !== undefined ? { sim: opts.sim } : {}),
    ...(opts.region ? { region: opts.region } : {}),
    ...(opts.profile ? { profile: opts.profile } : {}),
  };
  const log = new TriggerLog(join(homeDir(home), 'serve.jsonl'));
  await log.hold(`serve pid ${process.pid}`);
  const routingCalls: AwsCallRecord[] = [];
  let server: AlertServer;
  try {
    server = await startAlertServer({
      host: opts.host ?? '127.0.0.1',
      port,
      base: {
        ...home,
        ...backend,
        table,
        ...(opts.config ? { configFile: opts.config } : {}),
        waitMs: opts.waitForApproval ? parseDuration(opts.waitForApproval) : 0,
        lookupTags: routingTagLookup(backend, routingCalls),
      },
      log,
      snsTopics,
      ...(secret ? { webhookSecret: secret } : {}),
      maxInFlight: maxRuns,
      print: (line) => out(line),
    });
  } catch (e) {
    log.close();
    throw e;
  }
  out(`listening on ${server.url}   (POST /sns, POST /alerts, GET /healthz, GET /runs)`);
  if (!secret) err('note: FIREBREAK_WEBHOOK_SECRET is not set: POST /alerts refuses every request');
  if (snsTopics.length === 0) err('note: no --sns-topic given: POST /sns refuses every message');

  await new Promise<void>((resolve, reject) => {
    let signals = 0;
    const on = (sig: NodeJS.Signals) => {
      if (++signals > 1) exitNow(EXIT.interrupted);
      err(`${sig}: no longer accepting; runs in flight stop at their next safe point and stay resumable`);
      server!
        .shutdown(sig)
        .then(resolve, reject)
        .finally(() => {
          process.off('SIGTERM', on);
          process.off('SIGINT', on);
        });
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}
