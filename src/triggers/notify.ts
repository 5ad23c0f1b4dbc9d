/**
 * "A run is waiting for a person" messages, rendered from `templates/notification-waiting.{txt,md}`:
 * what happened (the alert), what is waiting (the step and its planned changes), and the exact
 * `firebreak approve` command. They go to the terminal (or server log) and, when
 * `notifications.snsTopicArn` is configured, to SNS Publish through the run's own audited clients,
 * so the call is journaled and checked against the declared permission like any action's call.
 *
 * SNS gets one message per protocol (`MessageStructure: json`): plain text for email and SMS
 * subscribers, Markdown for https, Lambda and SQS subscribers (chat bridges render it).
 *
 * A failed publish does not fail the run: the containment already done stays done and the run
 * still waits for its answer. The failure is journaled (`notification.failed`, and the AWS call
 * with its error code) and reported on stderr, never dropped.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HostRun } from '../engine/host.js';
import { withCallContext } from '../cloud/call-context.js';
import type { Config } from '../config/config.js';
import { FirebreakError } from '../core/errors.js';
import { errorInfo } from '../core/error-info.js';
import { RESOURCE_KINDS, type Alert } from './alert.js';
import type { LoadedRoute } from './routes.js';
import { SNS } from '../cloud/sdk.js';

/** Declared for `firebreak iam-policy` when `notifications.snsTopicArn` is set. */
export const NOTIFICATION_PERMISSIONS = ['sns:Publish'] as const;

export interface WaitingInfo {
  runId: string;
  step: string;
  kind: 'approval' | 'manual';
  title: string;
}

/** `templates/` of this installation: found upwards from this module (src/ in tests, dist/src/ when built). */
export function templatesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'templates', 'notification-waiting.txt'))) return join(dir, 'templates');
    dir = dirname(dir);
  }
  throw new FirebreakError('failed to find templates/notification-waiting.txt next to the Firebreak installation', {
    hint: 'deploy the templates/ folder with the code',
  });
}

/** `{{name}}` placeholders; a name the template uses but the caller did not give is an error, not an empty string. */
export function renderTemplate(text: string, vars: Record<string, string>, name = 'template'): string {
  return text.replace(/\{\{\s*([a-zA-Z][a-zA-Z0-9]*)\s*\}\}/g, (_, key: string) => {
    if (!(key in vars))
      throw new FirebreakError(`failed to render ${name}: it uses {{${key}}}, which is not one of ${Object.keys(vars).join(', ')}`);
    return vars[key]!;
  });
}

export function waitingVars(
  w: WaitingInfo,
  alert: Alert,
  route: LoadedRoute,
  journal: HostRun['journal'] | undefined,
  alive: boolean,
): Record<string, string> {
  const planned = journal
    ?.events()
    .filter((e) => e.type === 'step.planned' && e.step === w.step)
    .at(-1) as { plan?: { changes?: Array<{ resource?: string; field?: string; before?: unknown; after?: unknown }> } } | undefined;
  const manual = journal
    ?.events()
    .filter((e) => e.type === 'manual.requested' && e.step === w.step)
    .at(-1) as { instructions?: string } | undefined;
  const changes = planned?.plan?.changes ?? [];
  const details =
    w.kind === 'manual'
      ? (manual?.instructions ?? '')
          .trim()
          .split('\n')
          .map((l) => `  ${l}`)
          .join('\n')
      : changes.length
        ? changes
            .slice(0, 20)
            .map((c) => `  - ${c.resource ?? '?'} ${c.field ?? ''}: ${short(c.before)} -> ${short(c.after)}`)
            .join('\n') + (changes.length > 20 ? `\n  … and ${changes.length - 20} more` : '')
        : '  (no planned changes recorded)';
  const ids = RESOURCE_KINDS.flatMap((k) => alert.resources[k]);
  const command =
    w.kind === 'manual' ? `firebreak approve ${w.runId} ${w.step} --note "what was done"` : `firebreak approve ${w.runId} ${w.step}`;
  const alternatives = w.kind === 'manual' ? `(or --abort to stop the run)` : `(or --deny to skip this step, --abort to stop the run)`;
  const next = alive
    ? 'The waiting process continues the run by itself once answered.'
    : `Then continue the run: firebreak resume ${w.runId} --auto`;
  return {
    runId: w.runId,
    step: w.step,
    stepTitle: w.title,
    kind: w.kind === 'manual' ? 'manual task to confirm' : 'approval needed',
    alertType: alert.type,
    alertTitle: alert.title ?? '',
    severity: String(alert.severity),
    severityLabel: alert.severityLabel,
    account: alert.account ?? 'unknown',
    region: alert.region ?? 'unknown',
    resources: ids.length ? ids.join(', ') : '(none named)',
    route: route.name,
    playbook: route.loaded.playbook.id,
    playbookTitle: route.loaded.playbook.title,
    details,
    command,
    alternatives,
    next,
  };
}

function short(v: unknown): string {
  const s = v === undefined || v === null ? '—' : typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 79)}…` : s;
}

export interface NotifierOptions {
  alert: Alert;
  route: LoadedRoute;
  config: Config;
  /** Whether this process stays alive waiting for the answer (changes the "what next" line). */
  alive: boolean;
  /** Where the text goes on this host: stdout for the CLI, the server log for serve. */
  print: (text: string) => void;
  warn: (line: string) => void;
}

export function waitingNotifier(o: NotifierOptions): (w: WaitingInfo, run: HostRun) => Promise<void> {
  return async (w, run) => {
    const dir = templatesDir();
    const vars = waitingVars(w, o.alert, o.route, run.journal, o.alive);
    const text = renderTemplate(readFileSync(join(dir, 'notification-waiting.txt'), 'utf8'), vars, 'notification-waiting.txt');
    o.print(text);
    const topicArn = o.config.notifications.snsTopicArn;
    const { aws, journal } = run;
    if (!topicArn) return;
    const markdown = renderTemplate(readFileSync(join(dir, 'notification-waiting.md'), 'utf8'), vars, 'notification-waiting.md');
    // SNS subjects: one line, at most 100 characters.
    const subject = `Firebreak: run ${w.runId} waits on ${w.step}`.slice(0, 100);
    try {
      const res = await withCallContext(
        { step: w.step, action: 'firebreak.notify', permissions: new Set<string>(NOTIFICATION_PERMISSIONS) },
        () =>
          aws.sns.send(
            new SNS.PublishCommand({
              TopicArn: topicArn,
              Subject: subject,
              MessageStructure: 'json',
              Message: JSON.stringify({
                default: text,
                email: text,
                sms: `${subject}: ${vars.command}`,
                https: markdown,
                lambda: markdown,
                sqs: markdown,
              }),
            }),
          ),
      );
      journal.append('notification.sent', { step: w.step, channel: 'sns', topicArn, messageId: res.MessageId });
    } catch (err) {
      const error = errorInfo(err);
      journal.append('notification.failed', { step: w.step, channel: 'sns', topicArn, error });
      o.warn(`warning: failed to publish the waiting notice to ${topicArn}: ${error.code}: ${error.message}`);
    }
  };
}
