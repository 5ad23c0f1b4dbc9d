/**
 * The simulated Step Functions as the SDK's SFNClient sees it: execution names, task tokens, listing,
 * stopping and redrive, with AWS's error codes. The Lambda behind the definition's tasks is a function
 * of the test that counts its invocations and can be made to fail.
 */
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  ListExecutionsCommand,
  RedriveExecutionCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { attachStatesRuntime } from '../../src/sim/index.js';
import { clientFor, createTestCloud, errorOf } from '../sim/services-harness.js';
import { LOCAL_SFN_RUNS } from './local-sfn.js';

const FN = 'arn:aws:lambda:us-east-1:123456789012:function:steps';

/** prepare (Lambda) → approve (token task, 1 h timeout) → fleet (Map: one Lambda task per item) → done. */
const DEFINITION = JSON.stringify({
  StartAt: 'prepare',
  States: {
    prepare: { Type: 'Task', Resource: FN, Parameters: { op: 'prepare', 'who.$': '$.who' }, ResultPath: '$.prepared', Next: 'approve' },
    approve: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: { FunctionName: FN, Payload: { op: 'ask', 'taskToken.$': '$$.Task.Token' } },
      TimeoutSeconds: 3600,
      ResultPath: '$.approval',
      Next: 'fleet',
    },
    fleet: {
      Type: 'Map',
      ItemsPath: '$.targets',
      ItemSelector: { 'target.$': '$$.Map.Item.Value', 'index.$': '$$.Map.Item.Index' },
      ItemProcessor: {
        ProcessorConfig: { Mode: 'INLINE' },
        StartAt: 'act',
        States: { act: { Type: 'Task', Resource: FN, Parameters: { op: 'act', 'target.$': '$.target', 'index.$': '$.index' }, End: true } },
      },
      ResultPath: '$.acted',
      End: true,
    },
  },
});

function setup(opts: { failOn?: Set<string> } = {}) {
  const cloud = createTestCloud();
  const sfn = clientFor(cloud, SFNClient);
  const calls: string[] = [];
  const tokens: string[] = [];
  const rt = attachStatesRuntime(
    { world: cloud.world, clock: cloud.clock },
    {
      invoke: async (fn, payload) => {
        const p = payload as { op: string; target?: string; taskToken?: string };
        expect(fn).toBe(FN);
        calls.push(p.target ? `${p.op}:${p.target}` : p.op);
        if (p.taskToken) tokens.push(p.taskToken);
        if (p.target && opts.failOn?.has(p.target)) throw Object.assign(new Error(`${p.target} is broken`), { name: 'TargetBroken' });
        return { done: p.target ?? p.op };
      },
    },
  );
  const machine = async () =>
    (
      await sfn.send(
        new CreateStateMachineCommand({ name: 'contain', definition: DEFINITION, roleArn: 'arn:aws:iam::123456789012:role/sfn' }),
      )
    ).stateMachineArn!;
  const describe = (executionArn: string) => sfn.send(new DescribeExecutionCommand({ executionArn }));
  return { cloud, sfn, calls, tokens, rt, machine, describe };
}

const input = (targets: string[]) => JSON.stringify({ who: 'alert-1', targets });

describe.skipIf(!LOCAL_SFN_RUNS)('simulated Step Functions', () => {
  it('starts one execution per name: the same name and input while running answers it; other input or a closed one is ExecutionAlreadyExists', async () => {
    const s = setup();
    const sm = await s.machine();
    const first = await s.sfn.send(new StartExecutionCommand({ stateMachineArn: sm, name: 'alert-1', input: input(['a']) }));
    await s.rt.idle();
    expect((await s.describe(first.executionArn!)).status).toBe('RUNNING');
    s.cloud.clock.advance(60_000);
    const again = await s.sfn.send(new StartExecutionCommand({ stateMachineArn: sm, name: 'alert-1', input: input(['a']) }));
    expect(again.executionArn).toBe(first.executionArn);
    expect(again.startDate).toEqual(first.startDate);
    const other = await errorOf(s.sfn.send(new StartExecutionCommand({ stateMachineArn: sm, name: 'alert-1', input: input(['b']) })));
    expect(other.name).toBe('ExecutionAlreadyExists');
    await s.sfn.send(new SendTaskSuccessCommand({ taskToken: s.tokens[0]!, output: '{"decision":"approve"}' }));
    await s.rt.idle();
    const done = await s.describe(first.executionArn!);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!).acted).toEqual([{ done: 'a' }]);
    const closed = await errorOf(s.sfn.send(new StartExecutionCommand({ stateMachineArn: sm, name: 'alert-1', input: input(['a']) })));
    expect(closed.name).toBe('ExecutionAlreadyExists');
    expect(s.calls).toEqual(['prepare', 'ask', 'act:a']);
  });

  it('answers a task token once: InvalidToken, TaskDoesNotExist, TaskTimedOut; a failure goes to the task', async () => {
    const s = setup();
    const sm = await s.machine();
    const bogus = await errorOf(s.sfn.send(new SendTaskSuccessCommand({ taskToken: 'not-a-token', output: '{}' })));
    expect(bogus.name).toBe('InvalidToken');
    const e1 = await s.sfn.send(new StartExecutionCommand({ stateMachineArn: sm, name: 'one', input: input([]) }));
    await s.rt.idle();
    await s.sfn.send(new SendTaskFailureCommand({ taskToken: s.tokens[0]!, error: 'Firebreak.Aborted', cause: 'no' }));
    await s.rt.idle();
    const failed = await s.describe(e1.executionArn!);
    expect([failed.status, failed.error, failed.cause]).toEqual(['FAILED', 'Firebreak.Aborted', 'no']);
    const twice = await errorOf(s.sfn.send(new SendTaskSuccessCommand({ taskToken: s.tokens[0]!, output: '{}' })));
    expect(twice.name).toBe('TaskDoesNotExist');

    const e2 = await s.sfn.send(new StartExecutionCommand({ stateMachineArn: sm, name: 'two', input: input([]) }));
    await s.rt.idle();
    s.cloud.clock.advance(3601_000);
    const late = await errorOf(s.sfn.send(new SendTaskSuccessCommand({ taskToken: s.tokens[1]!, output: '{}' })));
    expect(late.name).toBe('TaskTimedOut');
    await s.rt.idle();
    expect((await s.describe(e2.executionArn!)).error).toBe('States.Timeout');
  });

  it('lists executions newest first in pages, filtered by status; StopExecution aborts and closes the tokens', async () => {
    const s = setup();
    const sm = await s.machine();
    for (const name of ['e1', 'e2', 'e3']) {
      await s.sfn.send(new StartExecutionCommand({ stateMachineArn: sm, name, input: input([]) }));
      s.cloud.clock.advance(1000);
    }
    await s.rt.idle();
    const stopped = await s.sfn.send(
      new StopExecutionCommand({ executionArn: `${sm.replace(':stateMachine:', ':execution:')}:e2`, error: 'Stop', cause: 'test' }),
    );
    expect(stopped.stopDate).toBeInstanceOf(Date);
    await s.rt.idle();
    const page1 = await s.sfn.send(new ListExecutionsCommand({ stateMachineArn: sm, maxResults: 2 }));
    expect(page1.executions!.map((e) => e.name)).toEqual(['e3', 'e2']);
    const page2 = await s.sfn.send(new ListExecutionsCommand({ stateMachineArn: sm, maxResults: 2, nextToken: page1.nextToken! }));
    expect(page2.executions!.map((e) => e.name)).toEqual(['e1']);
    expect(page2.nextToken).toBeUndefined();
    const aborted = await s.sfn.send(new ListExecutionsCommand({ stateMachineArn: sm, statusFilter: 'ABORTED' }));
    expect(aborted.executions!.map((e) => [e.name, e.status])).toEqual([['e2', 'ABORTED']]);
    const closed = await errorOf(s.sfn.send(new SendTaskSuccessCommand({ taskToken: s.tokens[1]!, output: '{}' })));
    expect(closed.name).toBe('TaskDoesNotExist');
    const bad = await errorOf(s.sfn.send(new ListExecutionsCommand({ stateMachineArn: sm, nextToken: 'zzz' })));
    expect(bad.name).toBe('InvalidToken');
  });

  it('redrives a failed execution: the states that succeeded are not run again, the failed Map iteration is', async () => {
    const failOn = new Set(['b']);
    const s = setup({ failOn });
    const sm = await s.machine();
    const { executionArn } = await s.sfn.send(
      new StartExecutionCommand({ stateMachineArn: sm, name: 'fleet', input: input(['a', 'b', 'c']) }),
    );
    await s.rt.idle();
    const running = await errorOf(s.sfn.send(new RedriveExecutionCommand({ executionArn: executionArn! })));
    expect(running.name).toBe('ExecutionNotRedrivable');
    await s.sfn.send(new SendTaskSuccessCommand({ taskToken: s.tokens[0]!, output: '{"decision":"approve"}' }));
    await s.rt.idle();
    const failed = await s.describe(executionArn!);
    expect([failed.status, failed.error, failed.redriveStatus]).toEqual(['FAILED', 'TargetBroken', 'REDRIVABLE']);
    expect(s.calls.sort()).toEqual(['act:a', 'act:b', 'act:c', 'ask', 'prepare']);

    failOn.clear();
    s.calls.length = 0;
    const { redriveDate } = await s.sfn.send(new RedriveExecutionCommand({ executionArn: executionArn! }));
    expect(redriveDate).toBeInstanceOf(Date);
    await s.rt.idle();
    const done = await s.describe(executionArn!);
    expect([done.status, done.redriveCount, done.redriveStatus]).toEqual(['SUCCEEDED', 1, 'NOT_REDRIVABLE']);
    expect(JSON.parse(done.output!).acted).toEqual([{ done: 'a' }, { done: 'b' }, { done: 'c' }]);
    expect(s.calls).toEqual(['act:b']);
    const again = await errorOf(s.sfn.send(new RedriveExecutionCommand({ executionArn: executionArn! })));
    expect([again.name, again.message]).toEqual(['ExecutionNotRedrivable', expect.stringContaining('SUCCEEDED')]);
  });

  it('refuses to redrive an execution that stopped more than 14 days ago', async () => {
    const s = setup();
    const sm = await s.machine();
    const { executionArn } = await s.sfn.send(new StartExecutionCommand({ stateMachineArn: sm, name: 'old', input: input([]) }));
    await s.rt.idle();
    await s.sfn.send(new StopExecutionCommand({ executionArn: executionArn! }));
    s.cloud.clock.advance(15 * 86_400_000);
    const d = await s.describe(executionArn!);
    expect([d.status, d.redriveStatus, d.redriveStatusReason]).toEqual([
      'ABORTED',
      'NOT_REDRIVABLE',
      'Execution redrivable period exceeded',
    ]);
    const e = await errorOf(s.sfn.send(new RedriveExecutionCommand({ executionArn: executionArn! })));
    expect(e.name).toBe('ExecutionNotRedrivable');
    const missing = await errorOf(s.sfn.send(new DescribeExecutionCommand({ executionArn: `${executionArn}x` })));
    expect(missing.name).toBe('ExecutionDoesNotExist');
  });
});
