/**
 * The Step Functions operations Firebreak sends (JSON protocol: error names are the codes). Behaviour
 * and errors follow the API reference (https://docs.aws.amazon.com/step-functions/latest/apireference/):
 *  - StartExecution is idempotent for a Standard workflow: the same name and the same input as a
 *    RUNNING execution answers that execution; a closed one, or other input, is ExecutionAlreadyExists.
 *  - A task token answers once: an unknown execution or token, or one already answered or closed, is
 *    TaskDoesNotExist; text that is no token at all is InvalidToken; past the task's TimeoutSeconds (by
 *    the simulated clock, checked when the answer comes) TaskTimedOut, and the task fails with States.Timeout.
 *  - RedriveExecution: only a FAILED, TIMED_OUT or ABORTED execution of a Standard workflow that
 *    stopped less than 14 days ago, and fewer than 1,000 redrives; otherwise ExecutionNotRedrivable.
 */
import type { SimContext, SimService } from '../../service.js';
import { runtimeOf, tokenExecution } from './runtime.js';
import { isName, type ExecutionT, type StateMachineT, type StatesWorld, type WithStates } from './schema.js';

export const statesOf = (ctx: SimContext): StatesWorld => (ctx.world as unknown as WithStates).states;

const REDRIVE_DAYS = 14;
const MAX_REDRIVES = 1000;
const DAY_MS = 86_400_000;

const machineArn = (ctx: SimContext, name: string) => `arn:aws:states:${ctx.region}:${ctx.accountId}:stateMachine:${name}`;
const executionArn = (ctx: SimContext, machine: string, name: string) =>
  `arn:aws:states:${ctx.region}:${ctx.accountId}:execution:${machine}:${name}`;

function arnOf(ctx: SimContext, input: Record<string, unknown>, field: string, kind: 'stateMachine' | 'execution'): string {
  const arn = input[field];
  if (typeof arn !== 'string' || arn === '')
    ctx.fail(
      'ValidationException',
      `1 validation error detected: Value null at '${field}' failed to satisfy constraint: Member must not be null`,
    );
  const re =
    kind === 'stateMachine'
      ? /^arn:aws[\w-]*:states:[\w-]+:\d{12}:stateMachine:[^:]+$/
      : /^arn:aws[\w-]*:states:[\w-]+:\d{12}:execution:[^:]+:[^:]+$/;
  if (!re.test(arn)) ctx.fail('InvalidArn', `Invalid Arn: 'Resource type not valid in this context: ${arn}'`);
  return arn;
}

function machineOf(ctx: SimContext, arn: string): StateMachineT {
  const m = statesOf(ctx).stateMachines.find((s) => machineArn(ctx, s.name) === arn);
  if (!m) ctx.fail('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
  return m;
}

function executionOf(ctx: SimContext, arn: string): ExecutionT {
  const e = statesOf(ctx).executions.find((x) => x.executionArn === arn);
  if (!e) ctx.fail('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
  return e;
}

/** Why an execution cannot be redriven now (the reasons DescribeExecution's redriveStatusReason gives), or undefined. */
export function notRedrivable(ctx: SimContext, e: ExecutionT): string | undefined {
  if (e.status === 'RUNNING' || e.status === 'SUCCEEDED') return `Execution is ${e.status} and cannot be redriven`;
  const m = statesOf(ctx).stateMachines.find((s) => machineArn(ctx, s.name) === e.stateMachineArn);
  if (m?.type === 'EXPRESS') return 'Execution of an EXPRESS state machine cannot be redriven';
  if (e.stopDate && ctx.clock.now().getTime() - Date.parse(e.stopDate) > REDRIVE_DAYS * DAY_MS)
    return 'Execution redrivable period exceeded';
  if (e.redriveCount >= MAX_REDRIVES) return 'Execution has been redriven the maximum number of times';
  return undefined;
}

function launch(ctx: SimContext, e: ExecutionT): void {
  const m = statesOf(ctx).stateMachines.find((s) => machineArn(ctx, s.name) === e.stateMachineArn);
  if (m) runtimeOf(ctx.world)?.launch(e, m);
}

const date = (iso: string | undefined) => (iso === undefined ? undefined : new Date(iso));
const defined = <T extends Record<string, unknown>>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

function json(ctx: SimContext, text: string, code: string, what: string): void {
  try {
    JSON.parse(text);
  } catch {
    ctx.fail(code, `Invalid ${what}: '${text.slice(0, 64)}' is not valid JSON`);
  }
}

function answerToken(ctx: SimContext, taskToken: string | undefined, answer: { output: string } | { error: string; cause: string }) {
  if (!taskToken)
    ctx.fail(
      'ValidationException',
      "1 validation error detected: Value null at 'taskToken' failed to satisfy constraint: Member must not be null",
    );
  const arn = tokenExecution(taskToken);
  if (!arn) ctx.fail('InvalidToken', 'Invalid Token');
  const e = statesOf(ctx).executions.find((x) => x.executionArn === arn);
  const t = e?.tokens.find((x) => x.token === taskToken);
  if (!e || !t || t.status !== 'waiting') ctx.fail('TaskDoesNotExist', 'Task Does Not Exist');
  if (t.deadline && ctx.clock.now().getTime() > Date.parse(t.deadline)) {
    t.status = 'answered';
    t.answer = { error: 'States.Timeout', cause: 'The task timed out before it was answered' };
    ctx.changed();
    if (!runtimeOf(ctx.world)?.answer(t.token, t.answer)) launch(ctx, e);
    ctx.fail('TaskTimedOut', 'Task Timed Out');
  }
  t.status = 'answered';
  t.answer = answer;
  ctx.changed();
  // The execution goes on here if this process runs it; otherwise it is picked up from its kept outcomes.
  if (!runtimeOf(ctx.world)?.answer(t.token, answer)) launch(ctx, e);
  return {};
}

export const handlers: SimService['handlers'] = {
  CreateStateMachine(ctx: SimContext, input: { name?: string; definition?: string; roleArn?: string; type?: 'STANDARD' | 'EXPRESS' }) {
    if (!input.name || !isName(input.name)) ctx.fail('InvalidName', `Invalid Name: '${input.name ?? ''}'`);
    if (!input.definition) ctx.fail('InvalidDefinition', 'Invalid State Machine Definition: definition is empty');
    json(ctx, input.definition, 'InvalidDefinition', 'State Machine Definition');
    const existing = statesOf(ctx).stateMachines.find((s) => s.name === input.name);
    if (existing) {
      // Idempotent for the same definition and role; anything else is a conflict.
      if (existing.definition !== input.definition || (input.roleArn && existing.roleArn !== input.roleArn))
        ctx.fail('StateMachineAlreadyExists', `State Machine Already Exists: '${machineArn(ctx, input.name)}'`);
      return { stateMachineArn: machineArn(ctx, input.name), creationDate: new Date(existing.creationDate) };
    }
    const creationDate = ctx.clock.now().toISOString();
    statesOf(ctx).stateMachines.push({
      name: input.name,
      definition: input.definition,
      roleArn: input.roleArn ?? `arn:aws:iam::${ctx.accountId}:role/firebreak-states`,
      type: input.type ?? 'STANDARD',
      creationDate,
    });
    ctx.changed();
    return { stateMachineArn: machineArn(ctx, input.name), creationDate: new Date(creationDate) };
  },

  StartExecution(ctx: SimContext, input: { stateMachineArn?: string; name?: string; input?: string }) {
    const smArn = arnOf(ctx, input, 'stateMachineArn', 'stateMachine');
    const machine = machineOf(ctx, smArn);
    const text = input.input ?? '{}';
    json(ctx, text, 'InvalidExecutionInput', 'Execution Input');
    if (input.name !== undefined && !isName(input.name)) ctx.fail('InvalidName', `Invalid Name: '${input.name}'`);
    const name = input.name ?? ctx.newId('x', 32).slice(2);
    const arn = executionArn(ctx, machine.name, name);
    const same = statesOf(ctx).executions.find((e) => e.executionArn === arn);
    if (same) {
      if (machine.type === 'STANDARD' && same.status === 'RUNNING' && same.input === text)
        return { executionArn: arn, startDate: new Date(same.startDate) };
      ctx.fail('ExecutionAlreadyExists', `Execution Already Exists: '${arn}'`);
    }
    const exec: ExecutionT = {
      executionArn: arn,
      stateMachineArn: smArn,
      name,
      input: text,
      status: 'RUNNING',
      startDate: ctx.clock.now().toISOString(),
      redriveCount: 0,
      tasks: {},
      tokens: [],
    };
    statesOf(ctx).executions.push(exec);
    ctx.changed();
    launch(ctx, exec);
    return { executionArn: arn, startDate: new Date(exec.startDate) };
  },

  DescribeExecution(ctx: SimContext, input: { executionArn?: string }) {
    const e = executionOf(ctx, arnOf(ctx, input, 'executionArn', 'execution'));
    const reason = notRedrivable(ctx, e);
    return defined({
      executionArn: e.executionArn,
      stateMachineArn: e.stateMachineArn,
      name: e.name,
      status: e.status,
      startDate: new Date(e.startDate),
      stopDate: date(e.stopDate),
      input: e.input,
      inputDetails: { included: true },
      output: e.output,
      outputDetails: e.output === undefined ? undefined : { included: true },
      error: e.error,
      cause: e.cause,
      redriveCount: e.redriveCount,
      redriveDate: date(e.redriveDate),
      redriveStatus: reason ? 'NOT_REDRIVABLE' : 'REDRIVABLE',
      redriveStatusReason: reason,
    });
  },

  ListExecutions(ctx: SimContext, input: { stateMachineArn?: string; statusFilter?: string; maxResults?: number; nextToken?: string }) {
    const smArn = arnOf(ctx, input, 'stateMachineArn', 'stateMachine');
    machineOf(ctx, smArn);
    // maxResults 0 (or none) means the default page of 100; at most 1,000.
    const max = input.maxResults || 100;
    if (max < 0 || max > 1000)
      ctx.fail(
        'ValidationException',
        `1 validation error detected: Value '${max}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000`,
      );
    const all = statesOf(ctx)
      .executions.filter((e) => e.stateMachineArn === smArn && (!input.statusFilter || e.status === input.statusFilter))
      // Newest first, as the console and the API list them.
      .sort((a, b) => b.startDate.localeCompare(a.startDate) || b.name.localeCompare(a.name));
    let start = 0;
    if (input.nextToken !== undefined) {
      const m = /^p(\d+)$/.exec(input.nextToken);
      if (!m || Number(m[1]) > all.length) ctx.fail('InvalidToken', 'Invalid Token');
      start = Number(m[1]);
    }
    const page = all.slice(start, start + max);
    return defined({
      executions: page.map((e) =>
        defined({
          executionArn: e.executionArn,
          stateMachineArn: e.stateMachineArn,
          name: e.name,
          status: e.status,
          startDate: new Date(e.startDate),
          stopDate: date(e.stopDate),
          redriveCount: e.redriveCount,
          redriveDate: date(e.redriveDate),
        }),
      ),
      nextToken: start + max < all.length ? `p${start + max}` : undefined,
    });
  },

  StopExecution(ctx: SimContext, input: { executionArn?: string; error?: string; cause?: string }) {
    const e = executionOf(ctx, arnOf(ctx, input, 'executionArn', 'execution'));
    if (e.status === 'RUNNING') {
      e.status = 'ABORTED';
      e.stopDate = ctx.clock.now().toISOString();
      if (input.error !== undefined) e.error = input.error;
      if (input.cause !== undefined) e.cause = input.cause;
      for (const t of e.tokens) if (t.status !== 'closed') t.status = 'closed';
      ctx.changed();
      runtimeOf(ctx.world)?.abort(e.executionArn);
    }
    return { stopDate: new Date(e.stopDate!) };
  },

  SendTaskSuccess(ctx: SimContext, input: { taskToken?: string; output?: string }) {
    if (input.output === undefined)
      ctx.fail(
        'ValidationException',
        "1 validation error detected: Value null at 'output' failed to satisfy constraint: Member must not be null",
      );
    json(ctx, input.output, 'InvalidOutput', 'Output');
    return answerToken(ctx, input.taskToken, { output: input.output });
  },

  SendTaskFailure(ctx: SimContext, input: { taskToken?: string; error?: string; cause?: string }) {
    return answerToken(ctx, input.taskToken, { error: input.error ?? '', cause: input.cause ?? '' });
  },

  RedriveExecution(ctx: SimContext, input: { executionArn?: string; clientToken?: string }) {
    const e = executionOf(ctx, arnOf(ctx, input, 'executionArn', 'execution'));
    const reason = notRedrivable(ctx, e);
    if (reason) ctx.fail('ExecutionNotRedrivable', `Execution Not Redrivable: ${reason}: '${e.executionArn}'`);
    e.status = 'RUNNING';
    e.redriveCount += 1;
    e.redriveDate = ctx.clock.now().toISOString();
    delete e.stopDate;
    delete e.error;
    delete e.cause;
    delete e.output;
    ctx.changed();
    launch(ctx, e);
    return { redriveDate: new Date(e.redriveDate) };
  },
};
