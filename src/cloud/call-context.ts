/**
 * Which step an AWS call belongs to, carried through async code without threading it through
 * every action: the engine runs each step inside `withCallContext`, and the client middleware
 * (audit journal, permission check) reads it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface CallContext {
  step: string; // step key, e.g. "isolate" or "snapshot#2"
  action: string; // action id
  /** IAM actions the action declared. Undefined: not checked (e.g. the run's own STS call). */
  permissions?: ReadonlySet<string>;
}

const storage = new AsyncLocalStorage<CallContext>();

export function withCallContext<T>(ctx: CallContext, fn: () => Promise<T>): Promise<T> {
  return storage.run(ctx, fn);
}

export function currentCallContext(): CallContext | undefined {
  return storage.getStore();
}
