/**
 * One alert document → normalized alerts. Recognised shapes, tried in this order:
 *  - an EventBridge event: `GuardDuty Finding`, `Security Hub Findings - Imported` (one alert per finding);
 *  - an SNS notification (HTTP delivery body, or a Lambda `Records[].Sns`), whose Message is a
 *    CloudWatch alarm or, for EventBridge → SNS setups, an EventBridge event;
 *  - a bare CloudWatch alarm message, a raw GuardDuty finding, `{ "Findings": [...] }` as the AWS
 *    CLI prints GuardDuty or Security Hub findings, a raw ASFF finding;
 *  - the generic alert shape.
 * Anything else is refused with the list of shapes, before any AWS call.
 */
import { InputError } from '../core/errors.js';
import { checkJsonDepth } from '../core/read-input.js';
import { sha256, type Alert } from './alert.js';
import { isAlarmMessage, parseAlarm } from './adapters/cloudwatch-alarm.js';
import { looksGeneric, parseGeneric } from './adapters/generic.js';
import { isGuardDutyFinding, parseGuardDuty } from './adapters/guardduty.js';
import { parseAsff } from './adapters/securityhub.js';
import { describe, isObject, type Json } from './read.js';

export const SHAPES = [
  'an EventBridge "GuardDuty Finding" event',
  'an EventBridge "Security Hub Findings - Imported" event',
  'an SNS notification carrying a CloudWatch alarm (or an EventBridge event)',
  'a GuardDuty finding or ASFF finding (alone, or in {"Findings": [...]})',
  'the generic alert shape (README, "Alerts")',
];

export interface ParseOptions {
  /** Named in errors ("alert.json", "POST /alerts"). */
  file?: string;
  /** Identifies this delivery when the document carries no id of its own (default: SHA-256 of the text). */
  deliveryId?: string;
}

/** Parse JSON text; syntax errors name line and column. */
export function parseJsonText(text: string, file = 'alert'): unknown {
  if (text.trim() === '')
    throw new InputError(`failed to read ${file}: it is empty`, { hint: 'give an alert as JSON (a file, or - for stdin)' });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const msg = (err as Error).message;
    const pos = /position (\d+)/.exec(msg);
    if (pos) {
      const offset = Number(pos[1]);
      const before = text.slice(0, offset);
      const line = before.split('\n').length;
      const col = offset - before.lastIndexOf('\n');
      throw new InputError(
        `failed to parse JSON: ${msg.replace(/ in JSON at position \d+.*$/, '').replace(/ \(line \d+ column \d+\)$/, '')}`,
        { pos: { file, line, col } },
      );
    }
    // V8 quotes the start of the text ("Unexpected token 'r', \"root:x:0:0\"... is not valid JSON"): name the file, not its content.
    throw new InputError(`failed to parse JSON in ${file}: ${msg.replace(/, ".*"(\.\.\.)? is not valid JSON$/s, '')}: it is not JSON`);
  }
  checkJsonDepth(value, file);
  return value;
}

export function parseAlertText(text: string, opts: ParseOptions = {}): Alert[] {
  const value = parseJsonText(text, opts.file);
  return parseAlertValue(value, { ...opts, deliveryId: opts.deliveryId ?? `sha256:${sha256(text).slice(0, 32)}` });
}

export function parseAlertValue(value: unknown, opts: ParseOptions & { deliveryId: string }, prefix = '', depth = 0): Alert[] {
  const file = opts.file;
  if (!isObject(value))
    throw new InputError(`failed to read alert: expected a JSON object, got ${describe(value)}`, { field: prefix || '(top level)' });
  const at = (k: string) => (prefix ? `${prefix}.${k}` : k);

  if (typeof value['detail-type'] === 'string' && 'detail' in value) return fromEventBridge(value, opts, prefix);

  if (value.Type === 'SubscriptionConfirmation' || value.Type === 'UnsubscribeConfirmation') {
    throw new InputError(`failed to read alert: an SNS ${value.Type} is not an alert`, {
      field: at('Type'),
      hint: 'firebreak serve confirms SNS subscriptions (POST /sns)',
    });
  }
  if (value.Type === 'Notification' && 'Message' in value) {
    if (depth > 2) throw new InputError('failed to read alert: SNS notifications nested too deeply', { field: at('Message') });
    const topicArn = typeof value.TopicArn === 'string' ? value.TopicArn : undefined;
    const deliveryId = typeof value.MessageId === 'string' ? `sns:${value.MessageId}` : opts.deliveryId;
    if (typeof value.Message !== 'string')
      throw new InputError(`failed to read SNS notification: Message must be a string, got ${describe(value.Message)}`, {
        field: at('Message'),
      });
    let message: unknown;
    try {
      message = JSON.parse(value.Message);
    } catch (err) {
      throw new InputError(
        `failed to read SNS notification: its Message is not JSON (${(err as Error).message}); expected a CloudWatch alarm or an EventBridge event`,
        { field: at('Message') },
      );
    }
    if (isAlarmMessage(message))
      return [
        parseAlarm(message as Json, {
          deliveryId,
          raw: value,
          prefix: at('Message'),
          ...(topicArn ? { topicArn } : {}),
          ...(file ? { file } : {}),
        }),
      ];
    return parseAlertValue(message, { ...opts, deliveryId }, at('Message'), depth + 1);
  }
  if (Array.isArray(value.Records) && value.Records.length > 0 && value.Records.every((r) => isObject(r) && isObject(r.Sns))) {
    // A Lambda subscribed to an SNS topic: each record carries one notification.
    return value.Records.flatMap((r, i) =>
      parseAlertValue({ Type: 'Notification', ...((r as Json).Sns as Json) }, opts, at(`Records[${i}].Sns`), depth + 1),
    );
  }
  if (isAlarmMessage(value)) return [parseAlarm(value, { deliveryId: opts.deliveryId, raw: value, prefix, ...(file ? { file } : {}) })];
  if (isGuardDutyFinding(value))
    return [parseGuardDuty(value, { deliveryId: opts.deliveryId, raw: value, prefix, ...(file ? { file } : {}) })];
  const findings = value.Findings ?? value.findings;
  if (Array.isArray(findings) && !('detail' in value)) {
    if (findings.length === 0) throw new InputError('failed to read alert: Findings is empty', { field: at('Findings') });
    return findings.flatMap((f, i) =>
      parseAlertValue(f, { ...opts, deliveryId: `${opts.deliveryId}#${i}` }, at(`Findings[${i}]`), depth + 1),
    );
  }
  if (typeof value.SchemaVersion === 'string' && 'AwsAccountId' in value && 'ProductArn' in value) {
    return [parseAsff(value, { deliveryId: opts.deliveryId, raw: value, prefix, ...(file ? { file } : {}) })];
  }
  if (looksGeneric(value)) return [parseGeneric(value, { deliveryId: opts.deliveryId, raw: value, ...(prefix ? { prefix } : {}) })];

  const keys = Object.keys(value).slice(0, 8);
  throw new InputError(
    `failed to read alert: unknown shape (top-level fields: ${keys.join(', ') || 'none'}${Object.keys(value).length > 8 ? ', …' : ''})`,
    {
      field: prefix || '(top level)',
      hint: `expected ${SHAPES.join('; ')}`,
    },
  );
}

function fromEventBridge(event: Json, opts: ParseOptions & { deliveryId: string }, prefix: string): Alert[] {
  const kind = event['detail-type'] as string;
  const at = (k: string) => (prefix ? `${prefix}.${k}` : k);
  const deliveryId = typeof event.id === 'string' ? `eventbridge:${event.id}` : opts.deliveryId;
  const file = opts.file;
  const region = typeof event.region === 'string' ? event.region : undefined;
  switch (kind) {
    case 'GuardDuty Finding':
      return [parseGuardDuty(event.detail, { deliveryId, raw: event, prefix: at('detail'), ...(file ? { file } : {}) })];
    case 'Security Hub Findings - Imported': {
      const detail = event.detail;
      const findings = isObject(detail) ? detail.findings : undefined;
      if (!Array.isArray(findings) || findings.length === 0) {
        throw new InputError(`failed to read Security Hub event: detail.findings must be a non-empty list, got ${describe(findings)}`, {
          field: at('detail.findings'),
        });
      }
      return findings.map((f, i) => {
        const p = at(`detail.findings[${i}]`);
        if (!isObject(f)) throw new InputError(`failed to read Security Hub finding: expected an object, got ${describe(f)}`, { field: p });
        return parseAsff(f, {
          deliveryId: `${deliveryId}#${i}`,
          raw: f,
          prefix: p,
          ...(file ? { file } : {}),
          ...(region ? { envelopeRegion: region } : {}),
        });
      });
    }
    default:
      throw new InputError(`failed to read alert: EventBridge events of detail-type '${kind}' are not alerts Firebreak reads`, {
        field: at('detail-type'),
        hint: "expected 'GuardDuty Finding' or 'Security Hub Findings - Imported'; narrow the EventBridge rule's pattern",
      });
  }
}
