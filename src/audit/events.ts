/**
 * Every event a journal holds, declared once: a zod schema per type. `Journal.append` accepts only
 * these (a TypeScript union keyed by `type`), and readers parse with them, so a renamed field
 * fails the typecheck where it is written and the replay where it is read, instead of silently
 * turning into `undefined` on resume.
 *
 * They live in the audit layer, beside the journal that writes them: the journal, `audit verify`,
 * reports and the engine's replay all read them, and the audit layer sits below all of those.
 *
 * A writer must give exactly the declared fields (plain objects: `note` alone takes extra data).
 * A reader is lenient: fields a schema does not name are kept, not refused, so a journal written
 * by an older or newer Firebreak still reads as long as the fields a reader relies on are there.
 * Journals written before the schemas existed carry exactly these fields (test/fixtures/journals-v0).
 */
import { z } from 'zod';
import { FirebreakError } from '../core/errors.js';

const step = z.string();
const errorInfo = z.object({ code: z.string(), message: z.string(), hint: z.string().optional() });
/** A change of a run across accounts also names the account and Region of its resource (the plan is shown grouped by them). */
const change = z.object({
  resource: z.string(),
  field: z.string(),
  before: z.unknown().optional(),
  after: z.unknown().optional(),
  account: z.string().optional(),
  region: z.string().optional(),
});
/** An account×Region of a run across accounts. */
const location = { account: z.string().optional(), region: z.string().optional() };
/** How many targets and changes a step has in each account×Region (what a person approving sees first). */
const locationGroup = z.object({ account: z.string(), region: z.string(), targets: z.number(), changes: z.number().optional() });
const plan = z.object({ changes: z.array(change), alreadyDone: z.boolean(), notes: z.array(z.string()) });
const check = z.object({ name: z.string(), ok: z.boolean(), detail: z.string().optional() });
const operator = z.object({ osUser: z.string(), host: z.string(), pid: z.number() });
const decision = z.enum(['approve', 'skip', 'abort']);
const policy = z.enum(['auto', 'required']);
const runStatus = z.enum(['running', 'waiting', 'succeeded', 'failed', 'aborted', 'interrupted', 'planned']);
const stepStatus = z.enum(['applied', 'already-done', 'skipped', 'denied', 'planned', 'manual', 'failed', 'condition-false']);
/**
 * A dry run's step whose condition reads an output the dry run does not have (an earlier step that
 * was only planned): it is not "condition false" but "would run if", its plan (when there is one)
 * computed from what the earlier steps' plans say they would return.
 */
const wouldRunIf = z.object({ when: z.string(), awaits: z.array(z.string()), predicted: z.boolean() });
const undo = z.object({ action: z.string(), input: z.unknown().optional() });
const fields = z.looseObject({});

export const runStartedSchema = z.object({
  runId: z.string(),
  playbook: z.object({ id: z.string(), title: z.string().optional(), file: z.string(), sha256: z.string() }),
  inputs: z.record(z.string(), z.unknown()),
  incident: z.string(),
  mode: z.enum(['interactive', 'auto', 'tabletop']),
  dryRun: z.boolean(),
  backend: z.enum(['aws', 'sim']),
  world: z.string().optional(),
  region: z.string().nullable(),
  account: z.string().optional(),
  profile: z.string().optional(),
  roleArn: z.string().optional(),
  approvalOverrides: z.record(z.string(), policy).optional(),
  trigger: z.record(z.string(), z.unknown()).optional(),
  /** A fleet across accounts and Regions: lookups run in each account×Region, map items act where they were found. */
  across: z.object({ accounts: z.array(z.string()), regions: z.array(z.string()) }).optional(),
  /** A run whose control flow Step Functions executes (one worker task per step); absent: this process runs it all. */
  executor: z.object({ kind: z.literal('stepfunctions'), execution: z.string().optional() }).optional(),
  operator,
  version: z.string(),
});

/** The run journal's events (`runs/<id>/journal.jsonl`). */
export const runEventSchemas = {
  'run.started': runStartedSchema,
  'run.resumed': z.object({ by: operator }),
  'run.identity': z.object({
    arn: z.string().optional(),
    account: z.string().optional(),
    userId: z.string().optional(),
    error: errorInfo.optional(),
  }),
  /** Guardrails that name organizational units: each OU (or root) and the active accounts Organizations listed under it. */
  'guardrails.resolved': z.object({ units: z.record(z.string(), z.array(z.string())) }),
  /** `--accounts` naming OUs (or roots): each and the active accounts Organizations listed under it, and every account the run acts in (resume acts in these). */
  'across.resolved': z.object({ units: z.record(z.string(), z.array(z.string())), accounts: z.array(z.string()) }),
  'run.waiting': z.object({ step, kind: z.enum(['approval', 'manual']) }),
  'run.interrupted': z.object({ error: errorInfo.optional() }),
  'run.ended': z.object({ status: runStatus, outcome: z.string().optional(), error: errorInfo.optional() }),
  'step.started': z.object({ step, action: z.string().optional() }),
  'step.planned': z.object({
    step,
    action: z.string().optional(),
    input: z.unknown().optional(),
    plan,
    facts: z.unknown().optional(),
    items: z.number().optional(),
    groups: z.array(locationGroup).optional(),
    pipelined: z.boolean().optional(),
    wouldRunIf: wouldRunIf.optional(),
  }),
  'approval.requested': z.object({
    step,
    policy,
    changes: z.number().optional(),
    pipelined: z.boolean().optional(),
    items: z.number().optional(),
    groups: z.array(locationGroup).optional(),
  }),
  'approval.answered': z.object({ step, decision, by: z.string(), note: z.string().optional(), via: z.string().optional() }),
  'manual.requested': z.object({ step, title: z.string(), instructions: z.string() }),
  'step.manual': z.object({ step, reason: z.string(), task: z.object({ title: z.string(), instructions: z.string() }) }),
  'step.applying': z.object({ step }),
  'step.applied': z.object({
    step,
    item: z.number().optional(),
    action: z.string(),
    output: z.unknown().optional(),
    undo: undo.optional(),
  }),
  'step.verified': z.object({ step, ok: z.boolean(), checks: z.array(check) }),
  /**
   * A resumed step whose apply a kill interrupted was planned again, and the plan found the change
   * already made (by the process that was killed): not a second application.
   */
  'step.replanned': z.object({ step, alreadyDone: z.boolean(), interrupted: z.enum(['applying', 'applied']) }),
  'step.completed': z.object({
    step,
    status: stepStatus,
    output: z.unknown().optional(),
    /** A dry run: what apply would return, as far as the plan tells (later steps' conditions and plans read it). */
    predicted: z.unknown().optional(),
    wouldRunIf: wouldRunIf.optional(),
    /** A lookup across accounts: its output in each account×Region (later steps there read their own). */
    locations: z.array(z.object({ account: z.string(), region: z.string(), output: z.unknown().optional() })).optional(),
  }),
  'step.failed': z.object({
    step,
    action: z.string().optional(),
    error: errorInfo,
    handled: z.boolean(),
    /** The onError target the run goes on with, when handled (absent in journals written before it was recorded). */
    next: z.string().optional(),
  }),
  'step.retrying': z.object({ step, attempt: z.number(), of: z.number(), delayMs: z.number(), error: errorInfo }),
  'item.planned': z.object({ step, index: z.number(), plan, ...location }),
  'item.completed': z.object({ step, index: z.number(), output: z.unknown().optional(), checks: z.array(check), ...location }),
  'item.failed': z.object({ step, index: z.number(), phase: z.literal('plan').optional(), error: errorInfo, ...location }),
  'choice.taken': z.object({ step, next: z.string() }),
  'wait.started': z.object({ step, until: z.string() }),
  note: z.looseObject({ step, message: z.string() }),
  'lock.waiting': z.object({
    kind: z.string(),
    id: z.string(),
    heldBy: z.string().optional(),
    pid: z.number().optional(),
    timeoutMs: z.number().optional(),
  }),
  'lock.acquired': z.object({ kind: z.string(), id: z.string() }),
  'aws.call': z.object({
    step: z.string().optional(),
    service: z.string(),
    operation: z.string(),
    input: z.unknown().optional(),
    requestId: z.string().optional(),
    status: z.number().optional(),
    durationMs: z.number(),
    attempts: z.number().optional(),
    error: errorInfo.optional(),
    /** Where the call went: the account (once known), the Region it was signed for, the role it acted through. */
    account: z.string().optional(),
    region: z.string().optional(),
    roleArn: z.string().optional(),
  }),
  'notification.sent': z.object({ step, channel: z.string(), topicArn: z.string(), messageId: z.string().optional() }),
  'notification.failed': z.object({ step, channel: z.string(), topicArn: z.string(), error: errorInfo }),
  /** `firebreak resume` of a run on Step Functions whose execution stopped unsuccessfully: RedriveExecution, journaled before it is sent. */
  'execution.redriven': z.object({
    execution: z.string(),
    from: z.enum(['FAILED', 'TIMED_OUT', 'ABORTED']),
    error: z.string().optional(),
    by: operator,
  }),
  /** Step Functions refused the redrive journaled just before (ExecutionNotRedrivable: past 14 days, …). */
  'execution.redrive-failed': z.object({ execution: z.string(), error: errorInfo }),
  /** `execution`: the undo runs as this Step Functions execution (a run on Step Functions is undone by one). */
  'undo.requested': z.object({ undoRun: z.string(), steps: z.array(z.string()), execution: z.string().optional() }),
  'undo.finished': z.object({ undoRun: z.string(), status: runStatus }),
  'alert.repeated': fields,
  'journal.repaired': fields,
} as const;

/** The trigger log's events (`<home>/triggers.jsonl`, `serve.jsonl`): one per alert or request outcome. */
export const triggerEventSchemas = {
  'alert.started': fields,
  'alert.resumed': fields,
  'alert.repeated': fields,
  'alert.duplicate': fields,
  'alert.ignored': fields,
  'alert.failed': fields,
  'request.failed': fields,
  'request.rejected': fields,
  'serve.started': fields,
  'serve.stopped': fields,
  'sns.subscription-confirmed': fields,
  'sns.unsubscribed': fields,
  'spool.quarantined': z.object({ file: z.string(), movedTo: z.string(), reason: z.string() }),
  'journal.repaired': fields,
} as const;

type Schemas = Record<string, z.ZodType>;
/** `{ type: 'step.planned', step: …, plan: … } | …`: what may be appended, keyed by type. */
export type EventsOf<S extends Schemas> = { [T in keyof S & string]: { type: T } & z.input<S[T]> }[keyof S & string];
export type RunEventInput = EventsOf<typeof runEventSchemas>;
export type TriggerEventInput = EventsOf<typeof triggerEventSchemas>;
export type RunEventType = RunEventInput['type'];
export type TriggerEventType = TriggerEventInput['type'];

/** An event as read back: the journal's own fields plus the type's fields. */
export type Recorded<E> = E & { seq: number; ts: string; prev: string };
export type RunEvent = { [T in RunEventType]: Recorded<{ type: T } & z.output<(typeof runEventSchemas)[T]>> }[RunEventType];
export type RunStarted = Recorded<{ type: 'run.started' } & z.output<typeof runStartedSchema>>;

const lenient: Record<string, z.ZodType> = Object.fromEntries(
  Object.entries(runEventSchemas).map(([type, schema]) => [type, (schema as z.ZodObject).loose()]),
);
const base = z.looseObject({ seq: z.number(), ts: z.string(), type: z.string() });

/**
 * Parse one run-journal event with its type's schema. Throws, naming the line and the field, on
 * an event of an unknown type or one whose fields do not match: resume must not guess.
 */
export function parseRunEvent(raw: unknown, where: { file?: string; line?: number } = {}): RunEvent {
  const at = `${where.file ? `${where.file}:` : ''}${where.line ?? (raw as { seq?: unknown })?.seq ?? '?'}`;
  const fail = (why: string) =>
    new FirebreakError(`failed to read journal event at line ${at}: ${why}`, {
      hint: 'firebreak audit verify <run-id>   (checks the whole journal)',
    });
  const head = base.safeParse(raw);
  if (!head.success) throw fail(describe(head.error));
  const schema = lenient[head.data.type];
  if (!schema) throw fail(`unknown event type '${head.data.type}'`);
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw fail(`${head.data.type}: ${describe(parsed.error)}`);
  return parsed.data as RunEvent;
}

function describe(err: z.ZodError): string {
  const issue = err.issues[0]!;
  return `field ${issue.path.length ? issue.path.join('.') : '(event)'}: ${issue.message}`;
}

/** A set of declared event schemas: the run journal's, the trigger log's, or (tests) any. */
export type EventSchemas = Record<string, z.ZodType>;
export type FieldsOf<S extends EventSchemas, T extends keyof S> = z.input<S[T]>;
export type RunEventFields<T extends RunEventType> = FieldsOf<typeof runEventSchemas, T>;

/** Whatever appends run events: the journal, or a test's recorder. */
export interface RunEventWriter {
  append<T extends RunEventType>(type: T, fields: RunEventFields<T>, opts?: { sync?: 'now' | 'later' }): unknown;
}
