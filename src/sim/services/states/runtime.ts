/**
 * Executions of the simulated Step Functions, run in process: the stored definition is executed by
 * aws-local-stepfunctions (an ASL interpreter independent of Firebreak), and every Lambda task calls
 * the function the deployment would run, through `invoke` (for Firebreak, the real worker). Nothing
 * runs unless a runtime is attached to the world: a world replayed from its change log, or one served
 * to a process that only reads it, records executions and never runs them.
 *
 * Task tokens: the interpreter resolves `$$.Task.Token` from a fixed context object, so each
 * `.waitForTaskToken` task gets a fresh token in that value's place, kept in the world; the task then
 * waits until SendTaskSuccess / SendTaskFailure answers it (handlers.ts).
 *
 * Redrive, and picking up an execution in another process (an answer sent by `firebreak approve` from
 * another machine): the interpreter cannot restart a run in the middle, so the definition is run
 * again from the start with the same input, and every task whose outcome the execution kept (a result,
 * or a failure a Catch handled) answers with it instead of running again — each task is keyed by its
 * state name and a digest of its effective input, which is the same on the re-run because every
 * earlier result is. What the task functions observe is what AWS documents for RedriveExecution:
 * states that succeeded are not run again; failed states, and the branches and Map iterations that
 * failed or were aborted, are. (The interpreter's own history of the re-run starts from the beginning;
 * the execution's state transitions are not what AWS would count.) Waits and retry intervals take no
 * time here: the simulated clock, not the wall clock, is the world's time.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../../../core/clock.js';
import { rootOf } from '../../scopes.js';
import type { World } from '../../world.js';
import type { ExecutionT, StateMachineT, TokenT } from './schema.js';

/** Run a Lambda function: what a Task state's Lambda resource does. Throw an Error named by its errorType to fail the task. */
export type InvokeLambda = (functionArn: string, payload: unknown, context: { executionArn: string }) => Promise<unknown>;

export interface StatesRuntimeOptions {
  invoke: InvokeLambda;
  clock: Clock;
}

type Answer = { output: string } | { error: string; cause: string };
interface Running {
  abort: () => void;
  done: Promise<void>;
  /** Lambda invocations under way. */
  inflight: number;
  /** Failed tasks not yet caught, by state name: a Catch that handles one keeps it for a redrive. */
  failed: Map<string, Array<{ key: string; error: string; cause: string; index?: number }>>;
  /**
   * Tasks entered in this run of the definition. A kept outcome stands for one entry in the
   * execution's history, so it answers the first entry of its task only: a state entered again
   * (a `.uncaught` task sending a redriven run back to the state that failed) runs, as on AWS,
   * where a redrive resumes at the failed state and everything after it runs afresh. Answering it
   * again would loop without end, with no task ever run.
   */
  entered: Set<string>;
}

const CONTEXT_TOKEN = 'firebreak-sim-context-task-token';
const TOKEN_TASK = 'arn:aws:states:::lambda:invoke.waitForTaskToken';
const INVOKE_TASK = 'arn:aws:states:::lambda:invoke';
const LAMBDA_ARN = /^arn:aws[\w-]*:lambda:[\w-]+:\d{12}:function:[\w-]+(:[\w$-]+)?$/;

const runtimes = new WeakMap<object, StatesRuntime>();

/** Run the executions of this world's simulated Step Functions in this process (the SimCloud's world and clock). */
export function attachStatesRuntime(sim: { world: World; clock: Clock }, o: { invoke: InvokeLambda }): StatesRuntime {
  const rt = new StatesRuntime({ invoke: o.invoke, clock: sim.clock });
  runtimes.set(rootOf(sim.world), rt);
  return rt;
}

export function runtimeOf(world: World): StatesRuntime | undefined {
  return runtimes.get(rootOf(world));
}

/** Task tokens are opaque to callers; this one names its execution and number so SendTask* finds it. */
export function mintToken(executionArn: string, n: number): string {
  return `AQ${Buffer.from(`${executionArn}#${n}`, 'utf8').toString('base64url')}`;
}
export function tokenExecution(token: string): string | undefined {
  if (!token.startsWith('AQ')) return undefined;
  const m = /^(arn:aws[\w-]*:states:[\w-]+:\d{12}:execution:[^:]+:[^:#]+)#\d+$/.exec(
    Buffer.from(token.slice(2), 'base64url').toString('utf8'),
  );
  return m?.[1];
}

export const namedError = (name: string, message: string) => Object.assign(new Error(message), { name });

export class StatesRuntime {
  private readonly running = new Map<string, Running>();
  private readonly pending = new Map<string, (a: Answer) => void>();
  private activity = 0;

  constructor(private readonly o: StatesRuntimeOptions) {}

  /** Start (or restart, replaying kept outcomes) an execution whose status is RUNNING. */
  launch(exec: ExecutionT, machine: StateMachineT): void {
    if (this.running.has(exec.executionArn)) return;
    const run: Running = { abort: () => {}, done: Promise.resolve(), inflight: 0, failed: new Map(), entered: new Set() };
    this.running.set(exec.executionArn, run);
    this.activity++;
    // After the API call that started it has answered, as AWS starts an execution asynchronously.
    run.done = new Promise<void>((r) => setTimeout(r, 0))
      .then(() => this.execute(exec, machine, run))
      .finally(() => {
        this.running.delete(exec.executionArn);
        this.activity++;
      });
  }

  /** Whether this process runs the execution now (a waiting one included). */
  isRunning(executionArn: string): boolean {
    return this.running.has(executionArn);
  }

  /** Hand an answer to the task waiting on the token in this process; false when no task here waits on it. */
  answer(token: string, a: Answer): boolean {
    const resolve = this.pending.get(token);
    if (!resolve) return false;
    this.pending.delete(token);
    resolve(a);
    return true;
  }

  abort(executionArn: string): void {
    this.running.get(executionArn)?.abort();
  }

  /**
   * Resolves when every execution this process runs has ended or waits on a task token with no
   * Lambda invocation under way (for rehearsals and tests: the point where a person is needed).
   */
  async idle(): Promise<void> {
    for (;;) {
      const seen = this.activity;
      await new Promise((r) => setTimeout(r, 10));
      const busy = [...this.running.values()].some((r) => r.inflight > 0);
      const waiting = this.pending.size;
      if (!busy && seen === this.activity && (this.running.size === 0 || waiting > 0)) return;
    }
  }

  private async execute(exec: ExecutionT, machine: StateMachineT, run: Running): Promise<void> {
    const { StateMachine, ExecutionAbortedError, ExecutionTimeoutError } = await import('aws-local-stepfunctions');
    const asl = JSON.parse(machine.definition) as Definition;
    const handlers: Record<string, (input: unknown) => Promise<never>> = {};
    for (const [name, st] of statesOf(asl))
      if (st.Type === 'Task') handlers[name] = (input) => this.task(exec, run, name, st, input as TaskInput) as Promise<never>;
    const waits = Object.fromEntries([...statesOf(asl)].filter(([, s]) => s.Type === 'Wait').map(([n]) => [n, 0]));
    const retries = Object.fromEntries([...statesOf(asl)].filter(([, s]) => s.Retry).map(([n]) => [n, 0]));
    const execution = new StateMachine(asl as never, { validationOptions: { checkPaths: false, checkArn: false } }).run(
      JSON.parse(exec.input),
      {
        overrides: { taskResourceLocalHandlers: handlers, waitTimeOverrides: waits, retryIntervalOverrides: retries },
        context: {
          Task: { Token: CONTEXT_TOKEN },
          Execution: {
            Id: exec.executionArn,
            Name: exec.name,
            Input: JSON.parse(exec.input),
            StartTime: exec.startDate,
            RoleArn: machine.roleArn,
          },
          StateMachine: { Id: exec.stateMachineArn, Name: machine.name },
        },
      },
    );
    run.abort = execution.abort;
    const caught = (async () => {
      for await (const e of execution.eventLogs) {
        if (e.type !== 'StateCaught') continue;
        // The failure a Catch handled is a finished task: a redrive takes the Catch path again without running it.
        const list = run.failed.get(e.state.name) ?? [];
        const i = list.findIndex((f) => e.index === undefined || f.index === undefined || f.index === e.index);
        if (i < 0) continue;
        const [f] = list.splice(i, 1);
        exec.tasks[f!.key] = { error: f!.error, cause: f!.cause };
      }
    })();
    try {
      const output = await execution.result;
      this.end(exec, { status: 'SUCCEEDED', output: JSON.stringify(output ?? null) });
    } catch (err) {
      if (err instanceof ExecutionAbortedError) this.end(exec, { status: 'ABORTED' });
      else if (err instanceof ExecutionTimeoutError) this.end(exec, { status: 'TIMED_OUT', error: 'States.Timeout', cause: '' });
      else {
        const cause = ((err as { cause?: Error }).cause ?? err) as Error;
        this.end(exec, { status: 'FAILED', error: cause.name, cause: cause.message });
      }
    }
    await caught.catch(() => undefined);
  }

  private end(exec: ExecutionT, o: { status: ExecutionT['status']; output?: string; error?: string; cause?: string }): void {
    // StopExecution already closed an aborted execution (with its own error and cause).
    if (exec.status === 'RUNNING') {
      exec.status = o.status;
      exec.stopDate = this.o.clock.now().toISOString();
      if (o.output !== undefined) exec.output = o.output;
      if (o.error !== undefined) exec.error = o.error;
      if (o.cause !== undefined) exec.cause = o.cause;
    }
    for (const t of exec.tokens) if (t.status !== 'closed') this.close(t);
  }

  private close(t: TokenT): void {
    t.status = 'closed';
    this.pending.delete(t.token);
  }

  private async task(exec: ExecutionT, run: Running, name: string, st: StateDef, input: TaskInput): Promise<unknown> {
    const key = `${name}@${createHash('sha256').update(JSON.stringify(input)).digest('hex').slice(0, 24)}`;
    const kept = run.entered.has(key) ? undefined : exec.tasks[key];
    run.entered.add(key);
    if (kept) {
      if ('output' in kept) return kept.output;
      throw namedError(kept.error, kept.cause);
    }
    this.activity++;
    try {
      const output = await this.runTask(exec, run, key, st, input);
      exec.tasks[key] = { output };
      return output;
    } catch (err) {
      const e = err as Error;
      const payload = input.Payload as TaskInput | undefined;
      const index = typeof input.index === 'number' ? input.index : typeof payload?.index === 'number' ? payload.index : undefined;
      const list = run.failed.get(name) ?? [];
      list.push({ key, error: e.name, cause: e.message, ...(index === undefined ? {} : { index }) });
      run.failed.set(name, list);
      throw err;
    } finally {
      this.activity++;
    }
  }

  private async runTask(exec: ExecutionT, run: Running, key: string, st: StateDef, input: TaskInput): Promise<unknown> {
    const invoke = async (fn: string, payload: unknown) => {
      run.inflight++;
      try {
        return await this.o.invoke(fn, payload, { executionArn: exec.executionArn });
      } finally {
        run.inflight--;
      }
    };
    if (st.Resource === TOKEN_TASK) {
      let token = exec.tokens.find((t) => t.key === key && t.status !== 'closed');
      let answered: Promise<Answer> | undefined;
      if (!token) {
        token = { token: mintToken(exec.executionArn, exec.tokens.length + 1), key, status: 'waiting' };
        if (typeof st.TimeoutSeconds === 'number')
          token.deadline = new Date(this.o.clock.now().getTime() + st.TimeoutSeconds * 1000).toISOString();
        exec.tokens.push(token);
        // Listening before the function runs: it may answer its own token (Firebreak's worker does, on a repeat).
        answered = this.listen(token.token);
        await invoke(String(input.FunctionName), withToken(input.Payload, token.token)).catch((err) => {
          this.close(token!);
          throw err;
        });
      }
      const a = token.status === 'answered' && token.answer ? token.answer : await (answered ?? this.listen(token.token));
      this.close(token);
      if ('output' in a) return JSON.parse(a.output);
      throw namedError(a.error, a.cause);
    }
    if (st.Resource === INVOKE_TASK) return { StatusCode: 200, Payload: await invoke(String(input.FunctionName), input.Payload) };
    if (typeof st.Resource === 'string' && LAMBDA_ARN.test(st.Resource)) return invoke(st.Resource, input);
    throw namedError('States.Runtime', `the simulated Step Functions runs Lambda tasks only, not ${String(st.Resource)}`);
  }

  private listen(token: string): Promise<Answer> {
    this.activity++;
    return new Promise<Answer>((resolve) => this.pending.set(token, resolve));
  }
}

/** The Payload with the task's own token where the definition put `$$.Task.Token`. */
function withToken(v: unknown, token: string): unknown {
  if (v === CONTEXT_TOKEN) return token;
  if (Array.isArray(v)) return v.map((x) => withToken(x, token));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withToken(x, token)]));
  return v;
}

/** A Task state's effective input (its Parameters), as the interpreter hands it over. */
type TaskInput = Record<string, unknown>;

interface StateDef {
  Type: string;
  Resource?: string;
  Retry?: unknown[];
  TimeoutSeconds?: number;
  Iterator?: Definition;
  ItemProcessor?: Definition;
  Branches?: Definition[];
}
interface Definition {
  States: Record<string, StateDef>;
}

/** Every state of a definition, Map iterators and Parallel branches included. */
function* statesOf(d: Definition): Generator<[string, StateDef]> {
  for (const [name, st] of Object.entries(d.States ?? {})) {
    yield [name, st];
    const inner = st.ItemProcessor ?? st.Iterator;
    if (inner) yield* statesOf(inner);
    for (const b of st.Branches ?? []) yield* statesOf(b);
  }
}
