/** The worker Lambda's contract, checked at both ends by `workerHandler`. */
import { describe, expect, it } from 'vitest';
import { StepFailed, stepKeyOf, TASK_ERRORS, workerHandler, type WorkerTaskT } from '../../src/sfn/worker.js';

const TASK = {
  phase: 'run' as const,
  run: { id: 'run-1', incident: 'inc-1', playbook: 'block-attack-source', approval: {} },
  stepId: 'block',
  inputs: { cidrs: ['203.0.113.0/24'] },
  steps: {},
};

describe('workerHandler', () => {
  it('hands a well-formed task to the engine and returns its record', async () => {
    const seen: WorkerTaskT[] = [];
    const handler = workerHandler(async (t) => {
      seen.push(t);
      return { status: 'applied', output: { entries: 2 } };
    });
    expect(await handler(TASK)).toEqual({ status: 'applied', output: { entries: 2 } });
    expect(seen).toEqual([{ ...TASK, stepKey: 'block' }]);
  });

  it('names the journal key of a visit: the id, id#n for the n-th visit of a loop, id[i] for item i of a map', () => {
    expect(stepKeyOf({ phase: 'run', stepId: 'resnapshot' })).toBe('resnapshot');
    expect(stepKeyOf({ phase: 'run', stepId: 'resnapshot', visit: 1 })).toBe('resnapshot');
    expect(stepKeyOf({ phase: 'run', stepId: 'resnapshot', visit: 3 })).toBe('resnapshot#3');
    expect(stepKeyOf({ phase: 'item', stepId: 'isolate', index: 7 })).toBe('isolate[7]');
  });

  it.each([
    ['choose', { status: 'applied' }, /a choice answers status chosen and next/],
    ['items', { status: 'listed' }, /a map step answers status listed and its items/],
    ['wait', { status: 'waiting' }, /a wait answers its seconds/],
  ] as const)('refuses a %s answer without what the next state reads', async (phase, answer, message) => {
    const handler = workerHandler(async () => answer as never);
    await expect(handler({ ...TASK, phase })).rejects.toMatchObject({ name: 'Firebreak.InvalidResult', message });
  });

  it("gives a map item without output a null one (the Map's OutputPath reads it)", async () => {
    const handler = workerHandler(async () => ({ status: 'applied' }));
    expect(await handler({ ...TASK, phase: 'item', item: 'i-1', index: 0 })).toEqual({ status: 'applied', output: null });
  });

  it.each([
    ['a visit of 0', { ...TASK, visit: 0 }],
    ['a step key of its own (the worker names it)', { ...TASK, stepKey: 'block' }],
    ['an unknown phase', { ...TASK, phase: 'undo' }],
    ['an unknown field', { ...TASK, extra: 1 }],
    ['not an object', 'block'],
  ])('refuses a task with %s before the engine sees it', async (_, event) => {
    let called = false;
    const handler = workerHandler(async () => {
      called = true;
      return { status: 'applied' };
    });
    await expect(handler(event)).rejects.toMatchObject({ name: 'Firebreak.InvalidTask' });
    expect(called).toBe(false);
  });

  it('refuses a result outside the contract rather than let Step Functions carry on with it', async () => {
    const handler = workerHandler(async () => ({ status: 'done' }) as never);
    await expect(handler(TASK)).rejects.toMatchObject({ name: 'Firebreak.InvalidResult', message: /worker result of block/ });
  });

  it('a failure is thrown under the name Retry and Catch match: the code, or Firebreak.Transient', () => {
    expect(new StepFailed('GroupAtMinimumSize', 'at minimum').name).toBe('GroupAtMinimumSize');
    expect(new StepFailed('Throttling', 'slow down', true)).toMatchObject({ name: TASK_ERRORS.transient, code: 'Throttling' });
  });
});
