/**
 * A test interpreter for the subset of Amazon States Language (JSONata query language, workflow
 * variables, task tokens) that the playbook compiler emits.
 *
 * Why it exists: aws-local-stepfunctions (3.0.0, the interpreter on npm) runs JSONPath definitions
 * only — no `QueryLanguage: JSONata`, no `Assign`/variables (nibble-4bits/aws-local-stepfunctions#98,
 * open), no `.waitForTaskToken`. This one follows the documented semantics it needs and is stricter
 * than Step Functions where that catches compiler bugs: an expression that yields undefined where a
 * value is needed, or a Choice condition that is not a boolean, fails with States.QueryEvaluationError;
 * a Distributed Map's item processor cannot see the parent's variables (as in Step Functions).
 *
 * Semantics followed (https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html,
 * .../transforming-data.html): Assign and Output of a state are evaluated against the variables as
 * they were when the state was entered; a Parallel branch or Map iteration reads outer variables and
 * assigns its own; Retry counts retries after the first attempt; Catch's Output/Assign see
 * `$states.errorOutput` ({ Error, Cause }) and `$states.input`.
 */
import jsonata from 'jsonata';

type Json = unknown;
type State = Record<string, any>;

export class StatesError extends Error {
  constructor(
    readonly error: string,
    readonly cause_: string,
  ) {
    super(`${error}: ${cause_}`);
  }
}

export interface TaskCall {
  resource: string;
  state: string;
  payload: any;
  token?: string;
}

/** Plays the Lambda: returns its result, or throws an Error whose `name` is the error Step Functions sees. */
export type TaskHandler = (call: TaskCall) => Promise<Json>;

export interface RunResult {
  status: 'SUCCEEDED' | 'FAILED';
  output?: Json;
  error?: string;
  cause?: string;
  /** Every state entered, in order (Step Functions bills one state transition per entry). */
  entered: string[];
  waits: Array<{ state: string; seconds: number }>;
}

class Scope {
  readonly vars = new Map<string, Json>();
  constructor(readonly parent?: Scope) {}
  all(): Record<string, Json> {
    return { ...(this.parent?.all() ?? {}), ...Object.fromEntries(this.vars) };
  }
}

export class AslExecution {
  private readonly tokens = new Map<string, { resolve: (v: Json) => void; reject: (e: Error) => void }>();
  private tokenSeq = 0;
  private readonly entered: string[] = [];
  private readonly waits: Array<{ state: string; seconds: number }> = [];

  constructor(
    private readonly definition: State,
    private readonly handler: TaskHandler,
  ) {}

  /** SendTaskSuccess. */
  sendTaskSuccess(token: string, output: Json): void {
    const t = this.take(token);
    t.resolve(output);
  }

  /** SendTaskFailure. */
  sendTaskFailure(token: string, error: string, cause = ''): void {
    const t = this.take(token);
    t.reject(Object.assign(new Error(cause), { name: error }));
  }

  private take(token: string) {
    const t = this.tokens.get(token);
    if (!t) throw Object.assign(new Error(`Invalid token ${token}`), { name: 'TaskTimedOut' });
    this.tokens.delete(token);
    return t;
  }

  async run(input: Json): Promise<RunResult> {
    try {
      const output = await this.runStates(this.definition, input, new Scope());
      return { status: 'SUCCEEDED', output, entered: this.entered, waits: this.waits };
    } catch (e) {
      if (e instanceof StatesError) return { status: 'FAILED', error: e.error, cause: e.cause_, entered: this.entered, waits: this.waits };
      throw e;
    }
  }

  private async runStates(machine: State, input: Json, scope: Scope): Promise<Json> {
    let name: string = machine.StartAt;
    let data = input;
    for (;;) {
      const state: State = machine.States[name];
      if (!state) throw new Error(`no state ${name}`);
      this.entered.push(name);
      const step = await this.runState(name, state, data, scope);
      if (step.end) return step.output;
      name = step.next!;
      data = step.output;
    }
  }

  private async runState(name: string, st: State, input: Json, scope: Scope): Promise<{ output: Json; next?: string; end?: boolean }> {
    const ctx = { input, context: {} as Record<string, Json> };
    switch (st.Type) {
      case 'Pass':
        return this.finish(st, ctx, scope, input);
      case 'Succeed':
        return { output: st.Output === undefined ? input : await this.value(st.Output, ctx, scope), end: true };
      case 'Fail':
        throw new StatesError(String(await this.value(st.Error, ctx, scope)), String(await this.value(st.Cause ?? '', ctx, scope)));
      case 'Wait': {
        const seconds = await this.value(st.Seconds, ctx, scope);
        if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 0)
          throw new StatesError('States.QueryEvaluationError', `${name}: Seconds is ${JSON.stringify(seconds)}`);
        this.waits.push({ state: name, seconds });
        return this.finish(st, ctx, scope, input);
      }
      case 'Choice': {
        for (const rule of st.Choices) {
          const ok = await this.value(rule.Condition, ctx, scope);
          if (typeof ok !== 'boolean')
            throw new StatesError('States.QueryEvaluationError', `${name}: condition gave ${JSON.stringify(ok)}`);
          if (ok) return { output: input, next: rule.Next };
        }
        if (!st.Default) throw new StatesError('States.NoChoiceMatched', name);
        return { output: input, next: st.Default };
      }
      case 'Task':
      case 'Parallel':
      case 'Map':
        return this.withRetryCatch(name, st, ctx, scope);
      default:
        throw new Error(`state type ${st.Type} not supported by the test interpreter`);
    }
  }

  private async withRetryCatch(name: string, st: State, ctx: { input: Json; context: Record<string, Json> }, scope: Scope) {
    const attempts = new Map<unknown, number>();
    for (;;) {
      try {
        const result = await this.work(name, st, ctx, scope);
        return await this.finish(st, { ...ctx, result }, scope, result);
      } catch (e) {
        const err = toStatesError(e);
        const retrier = (st.Retry ?? []).find((r: State) => matches(r.ErrorEquals, err.error));
        const used = attempts.get(retrier) ?? 0;
        if (retrier && used < (retrier.MaxAttempts ?? 3)) {
          attempts.set(retrier, used + 1);
          continue;
        }
        const catcher = (st.Catch ?? []).find((c: State) => matches(c.ErrorEquals, err.error));
        if (!catcher) throw err;
        const errorOutput = { Error: err.error, Cause: err.cause_ };
        const cctx = { ...ctx, errorOutput };
        const output = catcher.Output === undefined ? errorOutput : await this.value(catcher.Output, cctx, scope);
        await this.assign(catcher.Assign, cctx, scope);
        return { output, next: catcher.Next };
      }
    }
  }

  private async work(name: string, st: State, ctx: { input: Json; context: Record<string, Json> }, scope: Scope): Promise<Json> {
    if (st.Type === 'Task') {
      const token = String(st.Resource).endsWith('.waitForTaskToken') ? `token-${++this.tokenSeq}-${name}` : undefined;
      const args = await this.value(st.Arguments, { ...ctx, context: token ? { Task: { Token: token } } : {} }, scope);
      if (!token) {
        const payload = await this.handler({ resource: st.Resource, state: name, payload: (args as any).Payload });
        return { Payload: payload, StatusCode: 200 };
      }
      const answered = new Promise<Json>((resolve, reject) => this.tokens.set(token, { resolve, reject }));
      await this.handler({ resource: st.Resource, state: name, payload: (args as any).Payload, token });
      return await answered;
    }
    if (st.Type === 'Parallel') {
      const branchInput = st.Arguments === undefined ? ctx.input : await this.value(st.Arguments, ctx, scope);
      const results: Json[] = [];
      for (const b of st.Branches) results.push(await this.runStates(b, structuredClone(branchInput), new Scope(scope)));
      return results;
    }
    // Map
    const items = await this.value(st.Items, ctx, scope);
    if (!Array.isArray(items)) throw new StatesError('States.QueryEvaluationError', `${name}: Items gave ${JSON.stringify(items)}`);
    const distributed = st.ItemProcessor.ProcessorConfig?.Mode === 'DISTRIBUTED';
    const results: Json[] = [];
    for (const [index, value] of items.entries()) {
      const itemInput =
        st.ItemSelector === undefined
          ? value
          : await this.value(st.ItemSelector, { ...ctx, context: { Map: { Item: { Value: value, Index: index } } } }, scope);
      // A Distributed Map's child executions are executions of their own: no access to the parent's variables.
      results.push(await this.runStates(st.ItemProcessor, itemInput, distributed ? new Scope() : new Scope(scope)));
    }
    return results;
  }

  /** Output and Assign, both against the variables as they were on entry. */
  private async finish(st: State, ctx: Record<string, Json>, scope: Scope, dflt: Json) {
    const output = st.Output === undefined ? dflt : await this.value(st.Output, ctx, scope);
    await this.assign(st.Assign, ctx, scope);
    return st.End ? { output, end: true } : { output, next: st.Next as string };
  }

  private async assign(assign: Record<string, Json> | undefined, ctx: Record<string, Json>, scope: Scope) {
    if (!assign) return;
    const values: Array<[string, Json]> = [];
    for (const [k, v] of Object.entries(assign)) values.push([k, await this.value(v, ctx, scope)]);
    for (const [k, v] of values) scope.vars.set(k, v);
  }

  private async value(tpl: Json, states: Record<string, Json>, scope: Scope): Promise<Json> {
    if (typeof tpl === 'string') {
      const m = /^\s*\{%([\s\S]*)%\}\s*$/.exec(tpl);
      if (!m) return tpl;
      let v: Json;
      try {
        v = await jsonata(m[1]!).evaluate({}, { ...scope.all(), states });
      } catch (e) {
        throw new StatesError('States.QueryEvaluationError', `${(e as Error).message} in ${tpl}`);
      }
      if (v === undefined) throw new StatesError('States.QueryEvaluationError', `undefined: ${tpl}`);
      return normalize(v);
    }
    if (Array.isArray(tpl)) return Promise.all(tpl.map((x) => this.value(x, states, scope)));
    if (tpl && typeof tpl === 'object') {
      const out: Record<string, Json> = {};
      for (const [k, v] of Object.entries(tpl)) out[k] = await this.value(v, states, scope);
      return out;
    }
    return tpl;
  }
}

// JSONata marks sequences with a hidden property; state data is plain JSON.
const normalize = (v: Json): Json => JSON.parse(JSON.stringify(v));

function matches(list: string[], error: string): boolean {
  return (
    list.includes(error) ||
    (list.includes('States.ALL') && error !== 'States.Runtime') ||
    (list.includes('States.TaskFailed') && error !== 'States.Timeout')
  );
}

function toStatesError(e: unknown): StatesError {
  if (e instanceof StatesError) return e;
  const err = e as Error;
  return new StatesError(err.name && err.name !== 'Error' ? err.name : 'Error', err.message);
}
