/**
 * A compiled definition executed by aws-local-stepfunctions, an ASL interpreter independent of
 * Firebreak (npm; Node ≥ 22). Its task-resource overrides play the Lambda side of each Task state:
 *  - a Task whose Resource is the worker's ARN calls the worker handler with the state's effective
 *    input (its Parameters), and its answer is the task's result, as Lambda's ARN form does;
 *  - a `lambda:invoke.waitForTaskToken` Task, which the library does not run natively, is modelled as
 *    Step Functions runs it: a fresh token per task (the library resolves `$$.Task.Token` from a fixed
 *    context object, so the handler checks the payload carries that context value and puts the task's
 *    own token in its place), the worker invoked with the Payload (its failure fails the task), then the
 *    task waits until an `SFNClient` sends SendTaskSuccess (the task's result is the output) or
 *    SendTaskFailure (the task fails with that error and cause) for the token — the SDK call
 *    `answerTask`, and so `firebreak approve`, makes. An unknown or already answered token is refused
 *    with TaskDoesNotExist, as Step Functions refuses it.
 * Wait states and retry intervals are overridden to 0 ms; what a Wait would have waited is read from
 * its input. A Distributed Map runs in the library like an inline one (no child executions).
 */
import { SFNClient, TaskDoesNotExist } from '@aws-sdk/client-sfn';
import type { EventLog } from 'aws-local-stepfunctions';
import { allStates, type Asl } from '../../src/sfn/compile.js';

export const NODE_MAJOR = Number(process.versions.node.split('.')[0]);
/** aws-local-stepfunctions declares engines node >= 22 (it uses Promise.withResolvers). */
export const LOCAL_SFN_RUNS = NODE_MAJOR >= 22;

const CONTEXT_TOKEN = 'context-object-task-token';
const TOKEN_TASK = 'arn:aws:states:::lambda:invoke.waitForTaskToken';

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

/** Task tokens of one execution, and the Step Functions client that answers them. */
export class TaskTokens {
  private readonly pending = new Map<string, Pending>();
  private seq = 0;
  readonly issued: string[] = [];
  readonly client: SFNClient;

  constructor() {
    this.client = new SFNClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' } });
    this.client.middlewareStack.add(
      () => async (args) => {
        const input = args.input as { taskToken: string; output?: string; error?: string; cause?: string };
        const p = this.pending.get(input.taskToken);
        if (!p) throw new TaskDoesNotExist({ message: `Task does not exist: ${input.taskToken}`, $metadata: { httpStatusCode: 400 } });
        this.pending.delete(input.taskToken);
        if (input.output !== undefined) p.resolve(JSON.parse(input.output));
        else p.reject(Object.assign(new Error(input.cause ?? ''), { name: input.error ?? '' }));
        return { output: { $metadata: { httpStatusCode: 200 } } } as never;
      },
      { step: 'initialize', name: 'localTaskTokens' },
    );
  }

  issue(state: string): { token: string; answered: Promise<unknown> } {
    const token = `token-${++this.seq}-${state}`;
    this.issued.push(token);
    const answered = new Promise<unknown>((resolve, reject) => this.pending.set(token, { resolve, reject }));
    return { token, answered };
  }

  get waiting(): number {
    return this.pending.size;
  }
}

export interface LocalRun {
  status: 'SUCCEEDED' | 'FAILED';
  output?: any;
  error?: string;
  cause?: string;
  events: EventLog[];
  /** Every state entered, nested ones included, in order: one state transition each on Step Functions. */
  entered: string[];
}

export async function runLocal(
  asl: Asl,
  input: unknown,
  worker: (event: unknown) => Promise<unknown>,
  tokens: TaskTokens,
): Promise<LocalRun> {
  const { StateMachine } = await import('aws-local-stepfunctions');
  const handlers: Record<string, (input: any) => Promise<any>> = {};
  const zero: Record<string, number> = {};
  const waits: Record<string, number> = {};
  for (const [name, st] of allStates(asl)) {
    if (st.Retry) zero[name] = 0;
    if (st.Type === 'Wait') waits[name] = 0;
    if (st.Type !== 'Task') continue;
    handlers[name] =
      st.Resource === TOKEN_TASK
        ? async ({ Payload }) => {
            if (Payload.taskToken !== CONTEXT_TOKEN) throw new Error(`${name}: the payload's taskToken is not $$.Task.Token`);
            const { token, answered } = tokens.issue(name);
            await worker({ ...Payload, taskToken: token });
            return answered;
          }
        : (params) => worker(params) as Promise<any>;
  }
  const machine = new StateMachine(asl as never, { validationOptions: { checkPaths: true, checkArn: true } });
  const execution = machine.run(input as never, {
    overrides: { taskResourceLocalHandlers: handlers, waitTimeOverrides: waits, retryIntervalOverrides: zero },
    context: { Task: { Token: CONTEXT_TOKEN } },
  });
  const events: EventLog[] = [];
  const collected = (async () => {
    for await (const e of execution.eventLogs) events.push(e);
  })();
  let run: Omit<LocalRun, 'events' | 'entered'>;
  try {
    run = { status: 'SUCCEEDED', output: await execution.result };
  } catch (e) {
    const cause = (e as { cause?: Error }).cause ?? (e as Error);
    run = { status: 'FAILED', error: cause.name, cause: cause.message };
  }
  await collected;
  const entered = events.filter((e) => e.type === 'StateEntered').map((e) => (e as { state: { name: string } }).state.name);
  return { ...run, events, entered };
}
