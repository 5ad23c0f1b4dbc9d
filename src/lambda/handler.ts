/**
 * AWS Lambda entry point: an EventBridge rule (GuardDuty findings, Security Hub findings) or an
 * SNS subscription invokes `handler` with the event, which is routed and handled exactly as
 * `firebreak trigger` would. Configuration, all optional:
 *   FIREBREAK_HOME    runs, locks and the trigger log (default /tmp/firebreak; mount EFS for
 *                     journals that outlive the execution environment)
 *   FIREBREAK_ROUTES  routing table (default routes.yaml in the function's code)
 *   FIREBREAK_CONFIG  firebreak.config.yaml (guardrails, notifications)
 *   FIREBREAK_SIM     a world file: run against the simulated cloud instead (rehearsing a
 *                     deployment, tests); never set in production
 *   FIREBREAK_STATE_MACHINES  playbook id → state machine ARN (JSON, set by the deployment
 *                     template): the run starts as a Step Functions execution named by the alert's
 *                     dedup key instead of running in this invocation
 *
 * Bad input (an event of an unknown shape, an alert the route cannot map) is answered with a
 * `rejected` result and logged, not thrown: Lambda retries asynchronous invocations that throw,
 * and the same event would be refused the same way. Any other failure throws, so the retry and
 * the function's failure destination see it.
 */
import module from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SFNClient } from '@aws-sdk/client-sfn';
import { InputError } from '../core/errors.js';
import { parseStateMachines, startAlertExecution, type ExecutionOutcome } from '../sfn/route-alert.js';
import { homeDir } from '../engine/home.js';
import { type Alert, sha256 } from '../triggers/alert.js';
import { describeOutcome, handleAlert, type TriggerContext, type TriggerOutcome } from '../triggers/dispatch.js';
import { parseAlertValue } from '../triggers/parse.js';
import { loadRoutes } from '../triggers/routes.js';
import { routingTagLookup } from '../triggers/routing-clients.js';
import { TriggerLog } from '../triggers/trigger-log.js';

export interface LambdaContext {
  getRemainingTimeInMillis?: () => number;
  awsRequestId?: string;
}

export interface HandlerResult {
  rejected?: string;
  outcomes: Array<{
    outcome: TriggerOutcome['kind'];
    runId: string | null;
    status?: string;
    waitingStep?: string | null;
    reasons?: string[];
  }>;
}

/**
 * V8's compiled code of what loads after this module — the AWS SDK (~0.45 s of compiling on a cold
 * start) and the commands' chunks — cached in /tmp (the OS temp folder), the one writable folder, and written out after
 * the first invocation (a Lambda process is frozen, not exited, so Node's write at exit never comes).
 * It serves a runtime restarted in the same execution environment (after a crash or a timeout /tmp
 * is kept). A cache built at package time is not shipped: V8 accepts only a cache written by the
 * very same Node build, and the nodejs22.x runtime moves to new patch releases on its own, so a
 * shipped cache would silently stop matching. NODE_COMPILE_CACHE (set on the function) overrides the folder.
 */
module.enableCompileCache?.(process.env.NODE_COMPILE_CACHE || join(tmpdir(), 'firebreak-compile-cache'));
let compileCacheFlushed = false;
let sfnClient: SFNClient | undefined;

/** Stop a run this long before Lambda's own timeout, so it journals run.interrupted and can be resumed. */
const SAFETY_MARGIN_MS = 10_000;

export async function handler(event: unknown, context: LambdaContext = {}): Promise<HandlerResult> {
  process.env.FIREBREAK_HOME ||= '/tmp/firebreak';
  const routesFile = process.env.FIREBREAK_ROUTES ?? resolve(process.env.LAMBDA_TASK_ROOT ?? process.cwd(), 'routes.yaml');
  const ac = new AbortController();
  const remaining = context.getRemainingTimeInMillis?.();
  const timer =
    remaining !== undefined
      ? setTimeout(() => ac.abort(new Error('the Lambda invocation is about to time out')), Math.max(0, remaining - SAFETY_MARGIN_MS))
      : undefined;
  try {
    let alerts: Alert[];
    try {
      const deliveryId = isEventWithId(event) ? `eventbridge:${event.id}` : `sha256:${sha256(JSON.stringify(event)).slice(0, 32)}`;
      alerts = parseAlertValue(event, { file: 'Lambda event', deliveryId });
    } catch (err) {
      if (err instanceof InputError) return reject(err);
      throw err;
    }
    const table = loadRoutes(routesFile);
    const region = process.env.AWS_REGION;
    const sim = process.env.FIREBREAK_SIM || undefined;
    const ctx: TriggerContext = {
      ...(sim ? { sim } : {}),
      table,
      log: new TriggerLog(join(homeDir(), 'triggers.jsonl')),
      via: 'lambda',
      signal: ac.signal,
      ...(region ? { region } : {}),
      ...(process.env.FIREBREAK_CONFIG ? { configFile: process.env.FIREBREAK_CONFIG } : {}),
      lookupTags: routingTagLookup({ ...(sim ? { sim } : {}), ...(region ? { region } : {}) }, []),
      print: (text) => console.log(text),
      warn: (line) => console.error(line),
    };
    const outcomes: HandlerResult['outcomes'] = [];
    const machines = process.env.FIREBREAK_STATE_MACHINES ? parseStateMachines(process.env.FIREBREAK_STATE_MACHINES) : undefined;
    for (const alert of alerts) {
      if (machines) {
        let e: ExecutionOutcome;
        sfnClient ??= new SFNClient({});
        try {
          e = await startAlertExecution(alert, ctx, { machines, sfn: sfnClient });
        } catch (err) {
          if (err instanceof InputError) return { ...reject(err), outcomes };
          throw err;
        }
        console.log(JSON.stringify({ firebreak: e.kind, runId: e.runId, ...(e.kind === 'started' ? { execution: e.executionArn } : {}) }));
        outcomes.push({ outcome: e.kind, runId: e.runId, ...(e.kind === 'ignored' ? { reasons: e.reasons } : {}) });
        continue;
      }
      let o: TriggerOutcome;
      try {
        o = await handleAlert(alert, ctx);
      } catch (err) {
        if (err instanceof InputError) return { ...reject(err), outcomes };
        throw err;
      }
      console.log(describeOutcome(o));
      outcomes.push({
        outcome: o.kind,
        runId: o.kind === 'ignored' ? null : o.runId,
        ...(o.kind === 'started' ? { status: o.run.status, waitingStep: o.run.waitingStep ?? null } : {}),
        ...(o.kind === 'repeated' || o.kind === 'duplicate' ? { status: o.status } : {}),
        ...(o.kind === 'ignored' ? { reasons: o.reasons } : {}),
      });
    }
    return { outcomes };
  } finally {
    if (timer) clearTimeout(timer);
    if (!compileCacheFlushed) {
      compileCacheFlushed = true;
      module.flushCompileCache?.();
    }
  }
}

function reject(err: InputError): HandlerResult {
  const reason = [err.line, ...err.more.map((m) => m.line)].join('; ');
  console.error(JSON.stringify({ firebreak: 'rejected', reason, ...(err.hint ? { hint: err.hint } : {}) }));
  return { rejected: reason, outcomes: [] };
}

function isEventWithId(v: unknown): v is { id: string } {
  return typeof v === 'object' && v !== null && typeof (v as { id?: unknown }).id === 'string' && 'detail-type' in v;
}
