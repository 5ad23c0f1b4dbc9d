/**
 * The incident report of a run, derived from its journal alone (the journal is the source of
 * truth): who acted, what happened when, every change to AWS with its before and after, who
 * approved what and how, what failed, and which changes have an undo and whether it ran. The
 * hash chain is checked first; the report says whether it is intact rather than refusing, since
 * a damaged journal is exactly when a responder needs to read it.
 */
import { isAbsolute, relative, sep } from 'node:path';
import type { VerifyResult } from '../audit/verify.js';
import type { Change, Check } from '../engine/events.js';
import type { PlaybookT } from '../playbook/schema.js';
import type { FlowNode, Lane } from '../render/svg.js';
import { alertOf, type AlertView } from './alert.js';
import { callOutcomes, callsByStep, type StepCalls } from './calls.js';
import { flowRows, stepStates, timelineLanes } from './picture.js';

// biome-ignore lint/suspicious/noExplicitAny: journal events are read back untyped until they are one typed union (issue 11, item 2).
type Event = { seq: number; ts: string; type: string; [k: string]: any };

export interface ReportModel {
  run: {
    id: string;
    playbook: { id: string; title?: string; file?: string; sha256?: string };
    incident?: string;
    mode?: string;
    backend?: string;
    region?: string | null;
    /** The account acted in: run.started's (a role's, a simulated world's), else STS's answer. */
    account?: string;
    roleArn?: string;
    profile?: string;
    dryRun: boolean;
    status: string;
    outcome?: string;
    waitingStep?: string;
    started?: string;
    ended?: string;
    duration?: string;
    error?: { code: string; message: string };
    trigger?: unknown;
    events: number;
    /** Alert-started runs: the alert, its raw event folded away. */
    alert?: AlertView;
  };
  chain: VerifyResult;
  who: {
    sts?: { arn: string; account?: string; userId?: string };
    stsError?: { code: string; message: string };
    os?: string;
    resumedBy: Array<{ ts: string; os: string }>;
  };
  inputs: Array<{ name: string; value: unknown }>;
  timeline: Array<{ ts: string; step?: string; what: string; tone: 'info' | 'good' | 'warn' | 'bad' }>;
  changes: Array<{
    step: string;
    action: string;
    planned?: string;
    changes: Change[];
    notes: string[];
    applied?: string;
    output?: unknown;
    verified?: { ok: boolean; checks: Check[] };
    status: string;
  }>;
  approvals: Array<{ ts: string; step: string; decision: string; by: string; via?: string; note?: string; policy?: string }>;
  failures: Array<{ ts: string; step?: string; kind: string; code: string; message: string; detail?: string }>;
  undo: Array<{ step: string; action: string; undoAction: string; input: unknown; state: string; undoRun?: string }>;
  aws: {
    calls: number;
    failed: number;
    /** Errors an action names as expected answers (a lookup that finds nothing), not failures. */
    expected: number;
    operations: Array<{ operation: string; count: number; failed: number; expected: number }>;
    byStep: StepCalls[];
  };
  picture: { start: number; end: number; lanes: Lane[]; flow: FlowNode[][] };
}

export interface BuildOptions {
  readRun?: RunReader;
  /** The playbook the run used, when its file still has the recorded sha256: draws its steps. */
  playbook?: PlaybookT;
}

/**
 * The playbook as the report names it: id and sha256 identify it; its file is shown relative to
 * the project when it lies under it, and never as a path of the machine that ran it.
 */
function shownPlaybook(p: { id?: string; title?: string; file?: string; sha256?: string } | undefined): ReportModel['run']['playbook'] {
  if (!p) return { id: '?' };
  const { file, ...rest } = p;
  const rel = file && isAbsolute(file) ? relative(process.cwd(), file) : file;
  const inside = rel && !rel.startsWith('..') && !isAbsolute(rel);
  return { id: String(rest.id ?? '?'), ...rest, ...(inside ? { file: rel.split(sep).join('/') } : {}) };
}

/** Another run's journal (an undo run), when it exists. */
export type RunReader = (runId: string) => Event[] | undefined;

const READ_ONLY = /^(Describe|Get|List)/;

function durationText(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

const who = (op: { osUser?: string; host?: string } | undefined) => (op ? `${op.osUser ?? '?'}@${op.host ?? '?'}` : undefined);

function describe(e: Event): { what: string; tone: ReportModel['timeline'][number]['tone'] } | undefined {
  const err = e.error ? `${e.error.code}: ${e.error.message}` : '';
  switch (e.type) {
    case 'run.started':
      return {
        what: `run started by ${who(e.operator) ?? 'unknown'} (${e.mode ?? '?'} mode, ${e.backend === 'sim' ? 'simulated cloud' : `AWS ${e.region ?? ''}`.trim()}${e.dryRun ? ', dry run' : ''})`,
        tone: 'info',
      };
    case 'run.identity':
      return e.error
        ? { what: `could not tell who is acting: ${err}`, tone: 'warn' }
        : { what: `acting as ${e.arn} (account ${e.account})`, tone: 'info' };
    case 'run.resumed':
      return { what: `run resumed by ${who(e.by) ?? 'unknown'}`, tone: 'info' };
    case 'run.waiting':
      return { what: `run waits for ${e.kind === 'manual' ? 'a person to confirm the manual task' : 'approval'}`, tone: 'warn' };
    case 'run.interrupted':
      return { what: `run interrupted${err ? `: ${err}` : ''}`, tone: 'warn' };
    case 'run.ended':
      return {
        what: `run ended: ${e.status}${e.outcome && e.outcome !== 'success' ? ` (${e.outcome})` : ''}${err ? ` — ${err}` : ''}`,
        tone: e.status === 'succeeded' || e.status === 'planned' ? 'good' : 'bad',
      };
    case 'step.started':
      return { what: `started${e.action ? ` (${e.action})` : ''}`, tone: 'info' };
    case 'step.planned': {
      if (e.pipelined)
        return { what: `planned target by target (${e.items} targets): each plan is journaled before its first write`, tone: 'info' };
      const n = e.plan?.changes?.length ?? 0;
      return {
        what:
          n === 0
            ? e.plan?.alreadyDone
              ? 'planned: already done, nothing to change'
              : 'planned: no change to AWS'
            : `planned ${n} change${n === 1 ? '' : 's'}${e.items !== undefined ? ` on ${e.items} targets` : ''}`,
        tone: 'info',
      };
    }
    case 'approval.requested':
      return {
        what: `asks for approval (policy: ${e.policy})${e.pipelined ? ` before planning ${e.items} targets one by one` : ''}`,
        tone: 'info',
      };
    case 'approval.answered': {
      const verb = e.decision === 'approve' ? 'approved' : e.decision === 'skip' ? 'skipped' : 'aborted';
      return {
        what: `${verb} by ${e.by}${e.via ? ` via ${e.via}` : ''}${e.note ? ` — “${e.note}”` : ''}`,
        tone: e.decision === 'approve' ? 'good' : 'warn',
      };
    }
    case 'step.applying':
      return { what: 'applying', tone: 'info' };
    case 'step.applied':
      return {
        what: `applied${e.item !== undefined ? ` (item ${e.item})` : ''}${e.undo ? `; undo recorded: ${e.undo.action}` : ''}`,
        tone: 'good',
      };
    case 'step.verified':
      return {
        what: e.ok
          ? `verified (${(e.checks ?? []).length} checks passed)`
          : `verification failed: ${(e.checks ?? [])
              .filter((c: Check) => !c.ok)
              .map((c: Check) => c.name)
              .join('; ')}`,
        tone: e.ok ? 'good' : 'bad',
      };
    case 'step.completed':
      return {
        what: `completed: ${e.status}`,
        tone:
          e.status === 'applied' || e.status === 'already-done' || e.status === 'manual'
            ? 'good'
            : e.status === 'skipped' || e.status === 'denied'
              ? 'warn'
              : 'info',
      };
    case 'step.failed':
      return { what: `failed: ${err}${e.handled ? ' (onError path taken)' : ''}`, tone: 'bad' };
    case 'step.retrying':
      return { what: `retry ${e.attempt} of ${e.of} after ${e.error?.code}`, tone: 'warn' };
    case 'step.manual':
      return { what: `became a manual task: ${e.task?.title ?? e.reason}`, tone: 'warn' };
    case 'manual.requested':
      return { what: `manual task: ${e.title}`, tone: 'warn' };
    case 'item.planned': {
      const n = e.plan?.changes?.length ?? 0;
      return {
        what: `item ${e.index}${itemWhere(e)} planned: ${n === 0 ? 'nothing to change' : `${n} change${n === 1 ? '' : 's'}`}`,
        tone: 'info',
      };
    }
    case 'item.completed':
      return { what: `item ${e.index}${itemWhere(e)} done`, tone: 'good' };
    case 'item.failed':
      return { what: `item ${e.index}${itemWhere(e)} failed: ${err}`, tone: 'bad' };
    case 'choice.taken':
      return { what: `chose ${e.next}`, tone: 'info' };
    case 'wait.started':
      return { what: `waits until ${e.until}`, tone: 'info' };
    case 'note':
      return { what: String(e.message), tone: 'info' };
    case 'journal.repaired':
      return { what: `journal repaired: ${e.reason}${e.note ? ` (${e.note})` : ''}`, tone: 'warn' };
    case 'undo.requested':
      return { what: `undo requested as run ${e.undoRun} for ${(e.steps ?? []).join(', ')}`, tone: 'info' };
    case 'undo.finished':
      return { what: `undo run ${e.undoRun} ${e.status}`, tone: e.status === 'succeeded' ? 'good' : 'bad' };
    case 'aws.call':
      if (READ_ONLY.test(String(e.operation)) && !e.error) return undefined;
      return {
        what: `AWS ${e.service}:${e.operation} → ${e.error ? `${e.error.code}` : (e.status ?? 'ok')}${e.requestId ? ` (request ${e.requestId})` : ''}`,
        tone: e.error ? 'bad' : 'info',
      };
    default:
      return { what: e.type, tone: 'info' };
  }
}

/** How each recorded undo stands: not run, or what its undo run did with it. */
function undoStates(events: Event[], readRun: RunReader): ReportModel['undo'] {
  const requests = events.filter((e) => e.type === 'undo.requested');
  const finished = new Map(events.filter((e) => e.type === 'undo.finished').map((e) => [e.undoRun as string, e.status as string]));
  return events
    .filter((e) => e.type === 'step.applied' && e.undo)
    .map((e) => {
      const step = e.item === undefined ? String(e.step) : `${e.step}[${e.item}]`;
      const base = { step, action: String(e.action), undoAction: String(e.undo.action), input: e.undo.input };
      // The newest request that covered this step decides.
      const req = [...requests].reverse().find((r) => (r.steps as string[] | undefined)?.includes(step));
      if (!req) return { ...base, state: 'not undone' };
      const undoRun = String(req.undoRun);
      const index = (req.steps as string[]).indexOf(step);
      const undoEvents = readRun(undoRun);
      // The undo run names its steps undo-<n>-<step>, in the order of the request.
      const done = undoEvents?.filter((u) => u.type === 'step.completed' && String(u.step).startsWith(`undo-${index + 1}-`)).at(-1);
      if (done)
        return {
          ...base,
          undoRun,
          state: done.status === 'applied' || done.status === 'already-done' ? `undone (${done.status})` : `undo ${done.status}`,
        };
      const failed = undoEvents?.filter((u) => u.type === 'step.failed' && String(u.step).startsWith(`undo-${index + 1}-`)).at(-1);
      if (failed) return { ...base, undoRun, state: `undo failed: ${failed.error?.code}` };
      const status = finished.get(undoRun);
      return { ...base, undoRun, state: status ? `undo run ${status}` : 'undo requested, not finished' };
    });
}

export function buildReport(runId: string, events: Event[], chain: VerifyResult, opts: BuildOptions = {}): ReportModel {
  const readRun = opts.readRun ?? (() => undefined);
  const outcomes = callOutcomes(events);
  const started = events.find((e) => e.type === 'run.started');
  const identity = events.filter((e) => e.type === 'run.identity').at(-1);
  const last = [...events]
    .reverse()
    .find((e) => ['run.ended', 'run.waiting', 'run.interrupted', 'run.resumed', 'run.started'].includes(e.type));
  const ended = events.filter((e) => e.type === 'run.ended').at(-1);
  const status = !last
    ? 'unknown'
    : last.type === 'run.ended'
      ? String(last.status)
      : last.type === 'run.waiting'
        ? 'waiting'
        : last.type === 'run.interrupted'
          ? 'interrupted'
          : 'running';
  const waiting = last?.type === 'run.waiting' ? String(last.step) : undefined;

  const changes = new Map<string, ReportModel['changes'][number]>();
  const stepOf = (key: string, action?: string) => {
    let c = changes.get(key);
    if (!c) {
      c = { step: key, action: action ?? '', changes: [], notes: [], status: 'planned' };
      changes.set(key, c);
    }
    if (action) c.action = action;
    return c;
  };
  const approvals: ReportModel['approvals'] = [];
  const policies = new Map<string, string>();
  const failures: ReportModel['failures'] = [];
  const ops = new Map<string, { operation: string; count: number; failed: number; expected: number }>();
  let calls = 0;
  let failedCalls = 0;
  let expectedCalls = 0;
  for (const [index, e] of events.entries()) {
    const step = e.step as string | undefined;
    switch (e.type) {
      case 'step.planned':
        if (e.action && step)
          Object.assign(stepOf(step, e.action), { planned: e.ts, changes: e.plan?.changes ?? [], notes: e.plan?.notes ?? [] });
        break;
      case 'item.planned':
        // A map step the policy approved unseen: each target's plan comes with it (runner.ts).
        if (step) stepOf(step, undefined).changes.push(...(e.plan?.changes ?? []));
        break;
      case 'step.applied':
        if (step) Object.assign(stepOf(step, e.action), { applied: e.ts, output: e.item === undefined ? e.output : undefined });
        break;
      case 'step.verified':
        if (step && changes.has(step)) changes.get(step)!.verified = { ok: !!e.ok, checks: e.checks ?? [] };
        break;
      case 'step.completed':
        if (step && changes.has(step)) changes.get(step)!.status = String(e.status);
        break;
      case 'step.failed':
        if (step && changes.has(step)) changes.get(step)!.status = 'failed';
        failures.push({
          ts: e.ts,
          ...(step ? { step } : {}),
          kind: e.handled ? 'step failed (onError path taken)' : 'step failed',
          code: e.error?.code ?? '?',
          message: e.error?.message ?? '',
          ...(e.error?.hint ? { detail: `fix: ${e.error.hint}` } : {}),
        });
        break;
      case 'item.failed':
        failures.push({
          ts: e.ts,
          ...(step ? { step } : {}),
          kind: `item ${e.index} failed`,
          code: e.error?.code ?? '?',
          message: e.error?.message ?? '',
        });
        break;
      case 'step.retrying':
        failures.push({
          ts: e.ts,
          ...(step ? { step } : {}),
          kind: `retried (${e.attempt}/${e.of})`,
          code: e.error?.code ?? '?',
          message: e.error?.message ?? '',
        });
        break;
      case 'run.ended':
        if (e.error && e.status !== 'succeeded')
          failures.push({ ts: e.ts, kind: `run ${e.status}`, code: e.error.code, message: e.error.message });
        break;
      case 'approval.requested':
        if (step) policies.set(step, String(e.policy));
        break;
      case 'approval.answered':
        approvals.push({
          ts: e.ts,
          step: String(step),
          decision: String(e.decision),
          by: String(e.by),
          ...(e.via ? { via: String(e.via) } : {}),
          ...(e.note ? { note: String(e.note) } : {}),
          ...(policies.has(String(step)) ? { policy: policies.get(String(step)) } : {}),
        });
        break;
      case 'aws.call': {
        calls++;
        const op = `${e.service}:${e.operation}`;
        const o = ops.get(op) ?? { operation: op, count: 0, failed: 0, expected: 0 };
        o.count++;
        const outcome = outcomes.get(index);
        if (outcome === 'failed') {
          o.failed++;
          failedCalls++;
        } else if (outcome === 'expected') {
          o.expected++;
          expectedCalls++;
        }
        ops.set(op, o);
        break;
      }
    }
  }
  const first = events[0]?.ts;
  const lastTs = events.at(-1)?.ts;
  return {
    run: {
      id: String(started?.runId ?? runId),
      playbook: shownPlaybook(started?.playbook),
      ...(started?.incident ? { incident: String(started.incident) } : {}),
      ...(started?.mode ? { mode: String(started.mode) } : {}),
      ...(started?.backend ? { backend: String(started.backend) } : {}),
      region: started?.region ?? null,
      ...((started?.account ?? identity?.account) ? { account: String(started?.account ?? identity?.account) } : {}),
      ...(started?.roleArn ? { roleArn: String(started.roleArn) } : {}),
      ...(started?.profile ? { profile: String(started.profile) } : {}),
      dryRun: !!started?.dryRun,
      status,
      ...(ended?.outcome ? { outcome: String(ended.outcome) } : {}),
      ...(waiting ? { waitingStep: waiting } : {}),
      ...(first ? { started: first } : {}),
      ...(ended ? { ended: ended.ts } : {}),
      ...(first && lastTs ? { duration: durationText(Date.parse(ended?.ts ?? lastTs) - Date.parse(first)) } : {}),
      ...(ended?.error ? { error: ended.error } : {}),
      ...(started?.trigger ? { trigger: started.trigger } : {}),
      events: events.length,
      ...(alertOf(started?.trigger) ? { alert: alertOf(started?.trigger)! } : {}),
    },
    chain,
    who: {
      ...(identity && !identity.error
        ? {
            sts: {
              arn: String(identity.arn),
              ...(identity.account ? { account: String(identity.account) } : {}),
              ...(identity.userId ? { userId: String(identity.userId) } : {}),
            },
          }
        : {}),
      ...(identity?.error ? { stsError: identity.error } : {}),
      ...(started?.operator ? { os: who(started.operator) } : {}),
      resumedBy: events.filter((e) => e.type === 'run.resumed').map((e) => ({ ts: e.ts, os: who(e.by) ?? 'unknown' })),
    },
    inputs: Object.entries((started?.inputs ?? {}) as Record<string, unknown>).map(([name, value]) => ({ name, value })),
    timeline: events.flatMap((e) => {
      // Calls are listed under their step (aws.byStep); the timeline keeps the run's decisions and steps.
      if (e.type === 'aws.call') return [];
      const d = describe(e);
      return d ? [{ ts: e.ts, ...(e.step ? { step: String(e.step) } : {}), ...d }] : [];
    }),
    changes: [...changes.values()],
    approvals,
    failures,
    undo: undoStates(events, readRun),
    aws: {
      calls,
      failed: failedCalls,
      expected: expectedCalls,
      byStep: callsByStep(events, outcomes),
      operations: [...ops.values()].sort((a, b) => b.count - a.count || a.operation.localeCompare(b.operation)),
    },
    picture: {
      start: first ? Date.parse(first) : 0,
      end: lastTs ? Date.parse(ended?.ts ?? lastTs) : 0,
      lanes: timelineLanes(events, outcomes, lastTs ? Date.parse(lastTs) : 0),
      flow: flowRows(opts.playbook, stepStates(events, waiting), [
        ...new Set(events.filter((e) => e.type === 'step.started').map((e) => String(e.step).split('#')[0]!)),
      ]),
    },
  };
}

/** ` in 111111111111/eu-west-1` for an item of a step across accounts. */
const itemWhere = (e: Event) => (e.account ? ` in ${e.account}/${e.region}` : '');
