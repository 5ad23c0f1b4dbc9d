/** The worker Lambda's contract, checked at both ends by `workerHandler`. */
import { describe, expect, it } from 'vitest';
import { StepFailed, TASK_ERRORS, workerHandler, type WorkerTaskT } from '../../src/sfn/worker.js';

const TASK: WorkerTaskT = {
  phase: 'run',
  run: { id: 'run-1', incident: 'inc-1', playbook: 'block-attack-source', approval: {} },
  stepId: 'block',
  stepKey: 'block',
  inputs: { cidrs: ['203.0.113.0/24'] },
  steps: {},
};

describe('workerHandler', () => {
  it('hands a well-formed task to the engine and returns its record', async () => {
    const seen: WorkerTaskT[] = [];
    const handler = workerHandler(async (t) => (seen.push(t), { status: 'applied', output: { entries: 2 } }));
    expect(await handler(TASK)).toEqual({ status: 'applied', output: { entries: 2 } });
    expect(seen).toEqual([TASK]);
  });

  it.each([
    ['no step key', { ...TASK, stepKey: undefined }],
    ['an unknown phase', { ...TASK, phase: 'undo' }],
    ['an unknown field', { ...TASK, extra: 1 }],
    ['not an object', 'block'],
  ])('refuses a task with %s before the engine sees it', async (_, event) => {
    let called = false;
    const handler = workerHandler(async () => ((called = true), { status: 'applied' }));
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
