/** Human-readable rendering of plans and journal events, for the terminal. */
import type { PlanRecord } from '../engine/events.js';
import { c, short } from './output.js';

export function formatPlan(plan: PlanRecord, indent = '    '): string[] {
  const lines: string[] = [];
  if (plan.changes.length === 0) lines.push(`${indent}${c.green('no change needed')}${plan.alreadyDone ? ' (already done)' : ''}`);
  for (const ch of plan.changes) {
    lines.push(`${indent}${c.bold(ch.resource)}  ${ch.field}: ${c.red(short(ch.before))} → ${c.green(short(ch.after))}`);
  }
  for (const n of plan.notes) lines.push(`${indent}${c.dim('note: ' + n)}`);
  return lines;
}

/** One event → zero or more display lines (progress in auto mode, history in `audit show`). */
export function formatEvent(e: { type: string; [k: string]: any }, opts: { verbose?: boolean } = {}): string[] {
  const step = e.step ? c.bold(String(e.step)) : '';
  switch (e.type) {
    case 'run.started':
      return [`${c.cyan('▶')} run ${c.bold(e.runId)} · ${e.playbook?.id} · ${e.backend === 'sim' ? 'simulated cloud' : `AWS ${e.region ?? ''}`}${e.dryRun ? ' · dry run' : ''} · ${e.mode}`];
    case 'run.resumed':
      return [`${c.cyan('▶')} resumed`];
    case 'run.identity':
      return e.error ? [`  identity: ${c.red(e.error.code + ': ' + e.error.message)}`] : [`  acting as ${e.arn} (account ${e.account})`];
    case 'step.started':
      return [`${c.cyan('●')} ${step}${e.action ? c.dim(' · ' + e.action) : ''}`];
    case 'step.planned':
      return [`  plan${e.items !== undefined ? ` (${e.items} targets)` : ''}:`, ...formatPlan(e.plan, '    ')];
    case 'approval.answered':
      return [`  ${e.decision === 'approve' ? c.green('approved') : e.decision === 'skip' ? c.yellow('skipped') : c.red('aborted')} by ${e.by}${e.via ? ` (${e.via})` : ''}${e.note ? ` — ${e.note}` : ''}`];
    case 'step.verified':
      return (e.checks as Array<{ name: string; ok: boolean; detail?: string }>).map((ch) => `    ${ch.ok ? c.green('✔') : c.red('✖')} ${ch.name}`);
    case 'step.completed':
      return [`  ${statusWord(e.status)}`];
    case 'step.failed':
      return [`  ${c.red('✖ failed')}: ${e.error.code}: ${e.error.message}${e.handled ? c.dim(' (taking the onError path)') : ''}`];
    case 'step.retrying':
      return [`  ${c.yellow('retrying')} (${e.attempt}/${e.of}) in ${e.delayMs} ms after ${e.error.code}`];
    case 'step.manual':
    case 'manual.requested':
      return [`  ${c.yellow('manual task')}: ${e.title ?? e.task?.title}`, ...String(e.instructions ?? e.task?.instructions ?? '').split('\n').map((l) => `    ${l}`)];
    case 'item.failed':
      return [`  ${c.red('✖')} item ${e.index}: ${e.error.code}: ${e.error.message}`];
    case 'choice.taken':
      return [`${c.cyan('◆')} ${step} → ${e.next}`];
    case 'wait.started':
      return [`${c.cyan('…')} ${step} waiting until ${e.until}`];
    case 'run.waiting':
      return [`${c.yellow('⏸')} waiting for ${e.kind === 'manual' ? 'a person to confirm' : 'approval of'} ${step}`];
    case 'run.interrupted':
      return [`${c.yellow('■')} interrupted`];
    case 'run.ended':
      return [`${e.status === 'succeeded' || e.status === 'planned' ? c.green('■') : c.red('■')} run ${e.status}${e.outcome && e.outcome !== 'success' && e.outcome !== 'failure' ? ` (${e.outcome})` : ''}${e.error ? `: ${e.error.code}: ${e.error.message}` : ''}`];
    case 'aws.call':
      return opts.verbose ? [c.dim(`    aws ${e.service}:${e.operation} ${e.status ?? ''} ${e.durationMs}ms${e.error ? ' ' + e.error.code : ''}`)] : [];
    case 'note':
      return [c.dim(`    ${e.message}`)];
    default:
      return [];
  }
}

function statusWord(s: string): string {
  switch (s) {
    case 'applied': return c.green('✔ applied and verified');
    case 'already-done': return c.green('✔ already done — nothing changed');
    case 'planned': return c.dim('planned (dry run: nothing changed)');
    case 'skipped': return c.yellow('skipped');
    case 'denied': return c.yellow('denied');
    case 'manual': return c.green('✔ done by hand');
    case 'condition-false': return c.dim('not needed (condition false)');
    default: return s;
  }
}
