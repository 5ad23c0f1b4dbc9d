/** Steps that change nothing in the cloud: choice, manual task, durable wait. */
import { parseDuration } from '../core/clock.js';
import { Interrupted } from '../core/errors.js';
import type { RunStepOutput } from '../playbook/compile.js';
import { evaluate } from '../playbook/expr.js';
import type { ChoiceStepT, ManualStepT, WaitStepT } from '../playbook/schema.js';
import { manualTask } from './approvals.js';
import type { RunContext } from './run-context.js';

export async function runChoice(r: RunContext, key: string, stepId: string, step: ChoiceStepT): Promise<RunStepOutput> {
  const prior = r.o.replayed.choices.get(key);
  if (prior) return { next: prior };
  let next = step.default;
  for (const [i, c] of step.choices.entries()) {
    if (await evaluate(c.when, r.scope(), `steps.${stepId}.choices.${i}.when`)) {
      next = c.next;
      break;
    }
  }
  r.append('choice.taken', { step: key, next });
  return { next };
}

export async function runManual(r: RunContext, key: string, stepId: string, step: ManualStepT): Promise<void> {
  r.append('step.started', { step: key });
  if (r.o.dryRun) {
    r.append('step.planned', { step: key, plan: { changes: [], alreadyDone: false, notes: [`manual task: ${step.title}`] } });
    return r.complete(key, stepId, { status: 'planned' });
  }
  const answer = await manualTask(r, key, stepId, step.title, step.instructions);
  r.complete(key, stepId, { status: answer.decision === 'skip' ? 'skipped' : 'manual', output: { by: answer.by, note: answer.note } });
}

/** The end time is journaled once, so a resumed run waits only for what is left. */
export async function runWait(r: RunContext, key: string, stepId: string, step: WaitStepT): Promise<void> {
  const { o } = r;
  let until = o.replayed.waits.get(key);
  if (!until) {
    const d =
      typeof step.duration === 'string' && step.duration.trim().startsWith('{%')
        ? Number(await evaluate(step.duration, r.scope(), `steps.${stepId}.duration`)) * 1000
        : parseDuration(step.duration);
    until = new Date(o.clock.now().getTime() + d).toISOString();
    r.append('wait.started', { step: key, until });
  }
  if (o.dryRun) return r.complete(key, stepId, { status: 'planned' });
  const remaining = new Date(until).getTime() - o.clock.now().getTime();
  if (remaining > 0)
    await o.clock.sleep(remaining, o.signal).catch((e) => {
      throw o.signal.aborted ? new Interrupted(o.runId) : e;
    });
  r.complete(key, stepId, { status: 'applied' });
}
