/** Human-readable rendering of plans and journal events, for the terminal. */
import type { PlanRecord } from '../engine/events.js';
import type { LocationGroup } from '../engine/host.js';
import { c, forStream, short } from './output.js';

/**
 * A plan's changes; a plan across accounts is shown under one heading per account and Region (with
 * its count of targets when `groups` tells), so a person approving sees where each change lands.
 */
export function formatPlan(plan: PlanRecord, indent = '    ', groups?: LocationGroup[]): string[] {
  const lines: string[] = [];
  if (plan.changes.length === 0) lines.push(`${indent}${c.green('no change needed')}${plan.alreadyDone ? ' (already done)' : ''}`);
  const change = (ch: PlanRecord['changes'][number], pad: string) =>
    `${pad}${c.bold(ch.resource)}  ${ch.field}: ${c.red(short(ch.before))} → ${c.green(short(ch.after))}`;
  let heading: string | undefined;
  for (const ch of plan.changes) {
    if (ch.account === undefined) {
      lines.push(change(ch, indent));
      continue;
    }
    const at = `${ch.account} · ${ch.region}`;
    if (at !== heading) {
      heading = at;
      const g = groups?.find((x) => x.account === ch.account && x.region === ch.region);
      const counts = g ? ` (${plural(g.targets, 'target')}${g.changes !== undefined ? `, ${plural(g.changes, 'change')}` : ''})` : '';
      lines.push(`${indent}${c.cyan(`account ${ch.account}, ${ch.region}`)}${counts}`);
    }
    lines.push(change(ch, `${indent}  `));
  }
  for (const n of plan.notes) lines.push(`${indent}${c.dim(`note: ${n}`)}`);
  return lines;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** `account 111111111111, us-east-1: 50 targets, 100 changes` for each account×Region of a step across accounts. */
export function formatGroups(groups: LocationGroup[], indent = '    '): string[] {
  return groups.map(
    (g) =>
      `${indent}account ${g.account}, ${g.region}: ${plural(g.targets, 'target')}${g.changes !== undefined ? `, ${plural(g.changes, 'change')}` : ''}`,
  );
}

/** Where a run acts, as run.started records it: `AWS 222222222222/eu-west-1 as arn:…:role/FirebreakResponder`. */
// biome-ignore lint/suspicious/noExplicitAny: run.started read back untyped, as formatEvent reads it.
function where(e: { [k: string]: any }): string {
  const place = [e.account, e.region].filter(Boolean).join('/');
  return `${e.backend === 'sim' ? 'simulated cloud' : 'AWS'}${place ? ` ${place}` : ''}${e.roleArn ? ` as ${e.roleArn}` : ''}`;
}

/** One event → zero or more display lines (progress in auto mode, history in `audit show`). */
// biome-ignore lint/suspicious/noExplicitAny: journal events are read back untyped until they are one typed union (issue 11, item 2).
export function formatEvent(e: { type: string; [k: string]: any }, opts: { verbose?: boolean } = {}): string[] {
  const step = e.step ? c.bold(String(e.step)) : '';
  switch (e.type) {
    case 'run.started':
      return [`${c.cyan('▶')} run ${c.bold(e.runId)} · ${e.playbook?.id} · ${where(e)}${e.dryRun ? ' · dry run' : ''} · ${e.mode}`];
    case 'run.resumed':
      return [`${c.cyan('▶')} resumed${e.by?.osUser ? ` by ${e.by.osUser}@${e.by.host}` : ''}`];
    case 'run.identity':
      return e.error ? [`  identity: ${c.red(`${e.error.code}: ${e.error.message}`)}`] : [`  acting as ${e.arn} (account ${e.account})`];
    case 'step.started':
      return [`${c.cyan('●')} ${step}${e.action ? c.dim(` · ${e.action}`) : ''}`];
    case 'step.planned':
      if (e.pipelined)
        return [
          `  plan (${e.items} targets): each target is planned, applied and verified in turn`,
          ...(e.groups ? formatGroups(e.groups) : []),
        ];
      if (e.wouldRunIf?.predicted)
        return [`  plan if it runs (from the plan of ${e.wouldRunIf.awaits.join(', ')}):`, ...formatPlan(e.plan, '    ')];
      return [`  plan${e.items !== undefined ? ` (${e.items} targets)` : ''}:`, ...formatPlan(e.plan, '    ', e.groups)];
    case 'approval.requested':
      // Across accounts, the request says where the step's targets are; a step in one place needs no line here.
      return e.groups ? [`  approval asked for targets in ${plural(e.groups.length, 'account×Region')}:`, ...formatGroups(e.groups)] : [];
    case 'approval.answered':
      return [`  ${answerWords(e.decision, String(e.by), e.via)}${e.note ? ` — ${e.note}` : ''}`];
    case 'step.verified':
      return (e.checks as Array<{ name: string; ok: boolean; detail?: string }>).map(
        (ch) => `    ${ch.ok ? c.green('✔') : c.red('✖')} ${ch.name}`,
      );
    case 'step.completed':
      if (e.wouldRunIf)
        return [
          `  ${c.yellow(`would run if ${String(e.wouldRunIf.when).replace(/^\{%\s*|\s*%\}$/g, '')}`)} ${c.dim(`(reads ${e.wouldRunIf.awaits.join(', ')}, not applied in a dry run)`)}`,
        ];
      return [`  ${statusWord(e.status)}`];
    case 'step.failed':
      // A failure the playbook plans for (onError) is a branch, not the run failing.
      if (e.handled)
        return [
          `  ${c.yellow(`✖ ${e.step} failed`)}: ${e.error.code}: ${e.error.message} ${c.yellow('→ taking the planned onError path')}`,
        ];
      return [`  ${c.red(`✖ ${e.step} failed`)}: ${e.error.code}: ${e.error.message}`];
    case 'step.retrying':
      return [`  ${c.yellow('retrying')} (${e.attempt}/${e.of}) in ${e.delayMs} ms after ${e.error.code}`];
    case 'step.manual':
      // The task's text is printed once, when a person is asked (manual.requested).
      return [`  ${c.yellow('handed to a person')}: ${e.task?.title}${e.reason ? c.dim(` (${e.reason})`) : ''}`];
    case 'manual.requested':
      return [
        `  ${c.yellow('manual task')}: ${e.title}`,
        ...String(e.instructions ?? '')
          .trimEnd()
          .split('\n')
          .map((l) => `    ${l}`.trimEnd()),
      ];
    case 'item.planned':
      return [`  item ${e.index}${itemWhere(e)} plan:`, ...formatPlan(e.plan, '    ')];
    case 'item.failed':
      return [`  ${c.red('✖')} item ${e.index}${itemWhere(e)}: ${e.error.code}: ${e.error.message}`];
    case 'choice.taken':
      return [`${c.cyan('◆')} ${step} → ${e.next}`];
    case 'wait.started':
      return [`${c.cyan('…')} waiting in ${step} until ${e.until}`];
    case 'run.waiting':
      return [`${c.yellow('⏸')} waiting for ${e.kind === 'manual' ? 'a person to confirm' : 'approval of'} ${step}`];
    case 'run.interrupted':
      return [`${c.yellow('■')} interrupted`];
    case 'run.ended':
      return [
        `${e.status === 'succeeded' || e.status === 'planned' ? c.green('■') : c.red('■')} run ${e.status}${e.outcome && e.outcome !== 'success' && e.outcome !== 'failure' ? ` (${e.outcome})` : ''}${e.error ? `: ${e.error.code}: ${e.error.message}` : ''}`,
      ];
    case 'aws.call':
      return opts.verbose
        ? [c.dim(`    aws ${e.service}:${e.operation} ${e.status ?? ''} ${e.durationMs}ms${e.error ? ` ${e.error.code}` : ''}`)]
        : [];
    case 'note':
      return [c.dim(`    ${e.message}`)];
    default:
      return [];
  }
}

/** ` (account 111111111111, eu-west-1)` for an item of a step across accounts. */
// biome-ignore lint/suspicious/noExplicitAny: journal events are read back untyped (see formatEvent).
const itemWhere = (e: { [k: string]: any }) => (e.account ? ` (account ${e.account}, ${e.region})` : '');

const VIA: Record<string, string> = {
  prompt: ' at the prompt',
  'approve-command': ' with firebreak approve',
  lambda: ' through the approval Lambda',
};

/** "approved by alice@host", "approved automatically (approval: auto)": who decided, said once. */
function answerWords(decision: string, by: string, via: string | undefined): string {
  const verb = decision === 'approve' ? c.green('approved') : decision === 'skip' ? c.yellow('skipped') : c.red('aborted');
  if (by === 'policy') return `${verb} automatically (approval: auto)`;
  const how = via && VIA[via] !== undefined ? VIA[via] : via && !by.includes(via) ? ` (${via})` : '';
  return `${verb} by ${by}${how}`;
}

/** `14:05:09`: a time of day on this machine's clock, for "until" lines a person reads. */
export function clockTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toTimeString().slice(0, 8);
}

/**
 * Lines for a sequence of events, with the steps in flight tracked: while more than one step
 * runs (parallel branches), every line of a step's output is prefixed with its step id, so
 * interleaved branches stay readable. Used by live progress and by `audit show`.
 */
export function timeline(opts: { verbose?: boolean } = {}) {
  const inFlight = new Set<string>();
  // Once two steps overlap, labels stay on until every step of that stretch has ended: the last
  // branch's lines are labelled too, so none reads as belonging to the one that just failed.
  let labelling = false;
  return {
    inFlight,
    lines(e: { type: string; [k: string]: unknown }): string[] {
      const key = baseKey(e.step);
      if (e.type === 'step.started' && key) inFlight.add(key);
      if (inFlight.size > 1) labelling = true;
      let ls = formatEvent(e as never, opts);
      if (key && labelling && !NAMED.has(e.type)) ls = ls.map((l) => l.replace(/^(\s*)/, `$1${c.dim(`[${key}]`)} `));
      if ((e.type === 'step.completed' || e.type === 'step.failed') && key) inFlight.delete(key);
      if (e.type === 'run.ended' || e.type === 'run.waiting' || e.type === 'run.interrupted') inFlight.clear();
      if (inFlight.size === 0) labelling = false;
      return ls;
    },
  };
}

/** Events whose line begins with the step's name already. */
const NAMED = new Set(['step.started', 'step.failed', 'choice.taken', 'wait.started']);

/** A map item's key (`scan[3]`) belongs to its step (`scan`). */
export const baseKey = (k: unknown) => String(k ?? '').replace(/\[\d+\]$/, '');

/**
 * Waits a run was in when it stopped: `wait.started` with no end of that step after it. A
 * resumed run prints them at once (the wait itself is not journaled again).
 */
export function pendingWaits(history: ReadonlyArray<{ type: string; [k: string]: unknown }>): Map<string, string> {
  const waits = new Map<string, string>();
  for (const e of history) {
    const key = baseKey(e.step);
    if (e.type === 'wait.started') waits.set(key, String(e.until));
    else if (e.type === 'step.completed' || e.type === 'step.failed') waits.delete(key);
  }
  return waits;
}

function statusWord(s: string): string {
  switch (s) {
    case 'applied':
      return c.green('✔ applied and verified');
    case 'already-done':
      return c.green('✔ already done — nothing changed');
    case 'planned':
      return c.dim('planned (dry run: nothing changed)');
    case 'skipped':
      return c.yellow('skipped');
    case 'denied':
      return c.yellow('denied');
    case 'manual':
      return c.green('✔ done by hand');
    case 'condition-false':
      return c.dim('not needed (condition false)');
    default:
      return s;
  }
}

/** `14m 5s`, `2h 3m`, `40s`: a remaining or elapsed time for progress lines. */
export function durationWords(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

export interface ProgressOptions {
  verbose?: boolean;
  stream?: NodeJS.WriteStream;
  /** Events whose lines are shown elsewhere (the interactive prompt shows plans): tracked, not printed. */
  quiet?: (e: { type: string; [k: string]: unknown }) => boolean;
  now?: () => number;
  /** The journal so far, when resuming: a wait the run stopped in is shown with its time left. */
  history?: ReadonlyArray<{ type: string; [k: string]: unknown }>;
}

export interface ProgressPrinter {
  onEvent(e: { type: string; [k: string]: unknown }): void;
  dispose(): void;
}

/**
 * Journal events as terminal lines, plus progress for long steps: a map step's items done and
 * failed, a wait's remaining time, and an action that has been applying for a while (snapshots
 * that wait for completion) with its AWS call count. On a terminal the progress is one line
 * redrawn in place each second; elsewhere (CI, a log file) it is printed as plain lines at most
 * every tenth of a map and never redrawn, so logs stay readable.
 */
export function progressPrinter(opts: ProgressOptions = {}): ProgressPrinter {
  const stream = opts.stream ?? process.stderr;
  const tty = !!stream.isTTY;
  const now = opts.now ?? Date.now;
  const maps = new Map<string, { total: number; done: number; failed: number; shownTenth: number }>();
  const waits = new Map<string, number>();
  const applying = new Map<string, { since: number; calls: number }>();
  let asking = 0;
  let live = false;
  let timer: NodeJS.Timeout | undefined;
  const write = (s: string) => stream.write(forStream(stream, s));
  const clear = () => {
    if (live) stream.write('\r\x1b[2K');
    live = false;
  };
  const shown = timeline({ verbose: !!opts.verbose });
  const liveText = (): string => {
    const parts: string[] = [];
    for (const [k, m] of maps) parts.push(`${k} ${m.done + m.failed}/${m.total}${m.failed ? ` (${m.failed} failed)` : ''}`);
    for (const [k, until] of waits) parts.push(`${k} ${durationWords(until - now())} left`);
    for (const [k, a] of applying)
      if (now() - a.since >= 2000 && !maps.has(k))
        parts.push(`${k} applying ${durationWords(now() - a.since)}, ${a.calls} AWS call${a.calls === 1 ? '' : 's'}`);
    return parts.join(' · ');
  };
  const draw = () => {
    if (!tty || asking > 0) return;
    const text = liveText();
    clear();
    if (!text) return;
    const width = Math.max(20, (stream.columns ?? 80) - 1);
    const line = `  ${c.cyan('…')} ${text}`;
    write(line.length > width ? `${line.slice(0, width - 1)}…` : line);
    live = true;
  };
  const ensureTimer = () => {
    if (!tty || timer) return;
    timer = setInterval(draw, 1000);
    timer.unref();
  };
  const stopIfIdle = () => {
    if (timer && maps.size === 0 && waits.size === 0 && applying.size === 0) {
      clearInterval(timer);
      timer = undefined;
    }
  };
  const lines = (ls: string[]) => {
    for (const l of ls) write(`${l}\n`);
  };
  const finishStep = (key: string) => {
    maps.delete(key);
    waits.delete(key);
    applying.delete(key);
  };

  return {
    onEvent(e) {
      clear();
      const key = baseKey(e.step);
      const extra: string[] = [];
      switch (e.type) {
        case 'approval.requested':
        case 'manual.requested':
          asking++;
          break;
        case 'approval.answered':
          asking = Math.max(0, asking - 1);
          break;
        case 'step.planned':
          if (typeof e.items === 'number' && e.items > 0) maps.set(key, { total: e.items, done: 0, failed: 0, shownTenth: 0 });
          break;
        case 'step.applying':
          applying.set(key, { since: now(), calls: 0 });
          break;
        case 'aws.call': {
          const a = applying.get(key);
          if (a) a.calls++;
          break;
        }
        case 'item.completed':
        case 'item.failed': {
          const m = maps.get(key);
          if (!m) break;
          if (e.type === 'item.completed') m.done++;
          else m.failed++;
          const n = m.done + m.failed;
          const tenth = Math.floor((n * 10) / m.total);
          if (!tty && (tenth > m.shownTenth || n === m.total)) {
            m.shownTenth = tenth;
            extra.push(`  ${key}: ${n}/${m.total} done${m.failed ? `, ${m.failed} failed` : ''}`);
          }
          break;
        }
        case 'wait.started': {
          const until = Date.parse(String(e.until));
          if (Number.isFinite(until)) {
            waits.set(key, until);
            if (!tty) extra.push(c.dim(`  (${durationWords(until - now())} from now)`));
          }
          break;
        }
        case 'step.applied':
          if (e.item === undefined) applying.delete(key);
          break;
        case 'step.completed':
        case 'step.failed':
          finishStep(key);
          break;
        case 'run.ended':
        case 'run.waiting':
        case 'run.interrupted':
          maps.clear();
          waits.clear();
          applying.clear();
          asking = 0;
          break;
      }
      if (e.type === 'run.resumed')
        for (const [step, until] of pendingWaits(opts.history ?? [])) {
          const at = Date.parse(until);
          if (!Number.isFinite(at)) continue;
          waits.set(step, at);
          extra.push(`${c.cyan('…')} waiting in ${c.bold(step)} until ${clockTime(until)} (${durationWords(at - now())} left)`);
        }
      const ls = shown.lines(e);
      if (!opts.quiet?.(e)) lines(ls);
      lines(extra);
      stopIfIdle();
      if (maps.size || waits.size || applying.size) {
        ensureTimer();
        draw();
      }
    },
    dispose() {
      clear();
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
