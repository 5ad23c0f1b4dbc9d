/**
 * `firebreak trigger --event FILE|-`: read one alert document, route each alert in it, and start
 * (or join) its run. Everything is validated first — the alert, the routing table, the playbook
 * inputs the route maps — so bad input exits 2 having started nothing and called no AWS API.
 */
import { exitNow } from '../main.js';
import { join } from 'node:path';
import { parseDuration } from '../../core/clock.js';
import { EXIT } from '../../core/errors.js';
import type { AwsCallRecord } from '../../cloud/middleware.js';
import { loadConfig } from '../../config/config.js';
import { homeDir } from '../../engine/home.js';
import {
  prepareAlert,
  priorRun,
  recordRepeat,
  startOrJoin,
  describeOutcome,
  type TriggerContext,
  type TriggerOutcome,
} from '../../triggers/dispatch.js';
import { parseAlertText } from '../../triggers/parse.js';
import { DEFAULT_ROUTES_FILE, loadRoutes } from '../../triggers/routes.js';
import { routingTagLookup } from '../../triggers/routing-clients.js';
import { TriggerLog } from '../../triggers/trigger-log.js';
import { alertSummary } from '../../triggers/alert.js';
import { formatEvent } from '../display.js';
import { err, out, printJson } from '../output.js';
import { finish } from './run.js';
import { readInputFile } from '../../core/read-input.js';

export interface TriggerCliOptions {
  event: string;
  routes?: string;
  waitForApproval?: string;
  sim?: string | boolean;
  region?: string;
  profile?: string;
  config?: string;
  runsDir?: string;
  json?: boolean;
  verbose?: boolean;
}

export async function trigger(opts: TriggerCliOptions): Promise<void> {
  const file = opts.event === '-' ? 'stdin' : opts.event;
  const text = readEvent(opts.event);
  const alerts = parseAlertText(text, { file });
  const table = loadRoutes(opts.routes ?? DEFAULT_ROUTES_FILE);
  const waitMs = opts.waitForApproval ? parseDuration(opts.waitForApproval) : 0;
  const routingCalls: AwsCallRecord[] = [];
  const home = { ...(opts.runsDir ? { runsDir: opts.runsDir } : {}) };
  const intr = interruptOnSignals();
  const ctx: TriggerContext = {
    ...home,
    table,
    log: new TriggerLog(join(homeDir(home), 'triggers.jsonl')),
    via: 'cli',
    waitMs,
    signal: intr.signal,
    ...(opts.sim !== undefined ? { sim: opts.sim } : {}),
    ...(opts.region ? { region: opts.region } : {}),
    ...(opts.profile ? { profile: opts.profile } : {}),
    ...(opts.config ? { configFile: opts.config } : {}),
    lookupTags: routingTagLookup(
      {
        ...(opts.sim !== undefined ? { sim: opts.sim } : {}),
        ...(opts.region ? { region: opts.region } : {}),
        ...(opts.profile ? { profile: opts.profile } : {}),
      },
      routingCalls,
    ),
    // The waiting notice is the command's main output when a run stops for a person.
    print: (t) => (opts.json ? err(t) : out(t)),
    warn: (l) => err(l),
    onEvent: (e) => {
      for (const l of formatEvent(e as never, { verbose: !!opts.verbose })) err(l);
    },
  };
  try {
    // Every alert of the document is routed and checked before any run starts.
    const plans = [];
    // With store: aws, the table's dedup claim decides (startOrJoin); a local journal is only a working copy.
    const inStore = loadConfig(opts.config).config.store.kind === 'aws';
    for (const alert of alerts) {
      if (!inStore && priorRun(alert, home) === 'repeat') plans.push({ alert, repeat: true as const });
      else plans.push({ alert, prepared: await prepareAlert(alert, ctx) });
    }
    const outcomes: TriggerOutcome[] = [];
    for (const p of plans) {
      if ('repeat' in p) outcomes.push(await recordRepeat(p.alert, ctx));
      else if ('ignored' in p.prepared) {
        await ctx.log.append('alert.ignored', {
          via: 'cli',
          reasons: p.prepared.ignored,
          alert: alertSummary(p.alert),
          ...(routingCalls.length ? { awsCalls: routingCalls } : {}),
        });
        outcomes.push({ kind: 'ignored', alert: p.alert, reasons: p.prepared.ignored });
      } else outcomes.push(await startOrJoin(p.prepared, ctx));
    }
    report(outcomes, opts);
  } finally {
    intr.dispose();
  }
}

function readEvent(path: string): string {
  return readInputFile(path, 'alert', '--event');
}

const SEVERITY: Record<number, number> = { [EXIT.ok]: 0, [EXIT.waiting]: 1, [EXIT.interrupted]: 2, [EXIT.failed]: 3 };

function report(outcomes: TriggerOutcome[], opts: TriggerCliOptions): void {
  let code: number = EXIT.ok;
  const started = outcomes.filter((o) => o.kind === 'started');
  if (opts.json) {
    printJson(
      outcomes.map((o) => ({
        outcome: o.kind,
        runId: o.kind === 'ignored' ? null : o.runId,
        alert: { type: o.alert.type, severity: o.alert.severity, dedupKey: o.alert.dedupKey, deliveryId: o.alert.deliveryId },
        ...(o.kind === 'ignored' ? { reasons: o.reasons } : {}),
        ...(o.kind === 'started'
          ? { route: o.route, status: o.run.status, waitingStep: o.run.waitingStep ?? null, stopReason: o.run.error ?? null }
          : {}),
        ...(o.kind === 'repeated' ? { journaled: o.journaled, repeat: o.repeat ?? null, status: o.status } : {}),
        ...(o.kind === 'duplicate' ? { status: o.status } : {}),
      })),
    );
  } else {
    for (const o of outcomes) {
      if (o.kind === 'started') {
        out(`route ${o.route} matched ${o.alert.type}`);
        finish(o.run, {});
      } else out(describeOutcome(o));
    }
  }
  for (const o of started) {
    const c =
      { succeeded: EXIT.ok, planned: EXIT.ok, waiting: EXIT.waiting, interrupted: EXIT.interrupted }[o.run.status as string] ?? EXIT.failed;
    if ((SEVERITY[c] ?? 3) > (SEVERITY[code] ?? 0)) code = c;
  }
  process.exitCode = code;
}

/** SIGINT/SIGTERM stop a started run between AWS calls; it stays resumable. */
function interruptOnSignals(): { signal: AbortSignal; dispose: () => void } {
  const ac = new AbortController();
  const on = (sig: NodeJS.Signals) => {
    if (ac.signal.aborted) exitNow(EXIT.interrupted);
    err(`\n${sig}: stopping after the current AWS call; the run stays resumable`);
    ac.abort(new Error(sig));
  };
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
  return {
    signal: ac.signal,
    dispose: () => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
    },
  };
}
