/**
 * A lookup (a read-only action step, `ec2.find-instances`) in a run across accounts: it runs in
 * every account×Region, each through the clients there. The step's output joins their answers
 * (a condition over the whole fleet reads them as one); each account×Region keeps its own, which
 * the map steps after it read, so an item is acted on where it was found.
 */
import type { ActionDef } from '../actions/define.js';
import type { ActionStepT } from '../playbook/schema.js';
import { locationKey, mergeOutputs, type Location } from './locations.js';
import type { RunContext } from './run-context.js';
import { applyTarget, planTarget } from './step-lifecycle.js';

export async function runLookupAcross(
  r: RunContext,
  at: { key: string; stepId: string; step: ActionStepT },
  action: ActionDef,
  locations: Location[],
): Promise<void> {
  const { key, stepId, step } = at;
  await r.withRetry(key, step.retry, async () => {
    r.checkSignal();
    const planned = await Promise.all(
      locations.map(async (where) => {
        const input = await r.resolveInput(action, stepId, step.with, { steps: r.stepsIn(where) });
        return { where, input, plan: await planTarget(r, { key, at: where }, action, input) };
      }),
    );
    r.append('step.planned', {
      step: key,
      action: action.id,
      input: planned[0]?.input,
      plan: {
        changes: [],
        alreadyDone: false,
        notes: planned.flatMap((p) => p.plan.notes.map((n) => `${locationKey(p.where)}: ${n}`)),
      },
    });
    r.append('step.applying', { step: key });
    const outputs = await Promise.all(
      planned.map(async (p) => {
        const done = await applyTarget(r, { key, at: p.where }, action, p.input, p.plan);
        if ('manual' in done) throw done.manual;
        return done.output;
      }),
    );
    r.complete(key, stepId, {
      status: 'applied',
      output: mergeOutputs(outputs),
      locations: planned.map((p, i) => ({ account: p.where.account, region: p.where.region, output: outputs[i] })),
    });
  });
}
