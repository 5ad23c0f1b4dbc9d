/**
 * The action contract. One file per action, registered by id in registry.ts.
 *
 * An action never imports the CLI or the engine: it gets everything through `ActionContext`.
 * Lifecycle (run by the engine): plan (read-only) → approval gate → apply (converges) → verify
 * (read-only). `undo` names the action that reverses this one and how to build its input from
 * this action's output.
 */
import type * as z from 'zod';
import type { Clock } from '../core/clock.js';
import type { AwsClients } from '../cloud/clients.js';
import { FirebreakError } from '../core/errors.js';

/** One field of one resource that the action will change: what the engineer approves. */
export interface Change {
  resource: string; // e.g. "i-0abc… (eni-0123…)" or an ARN
  field: string; // e.g. "security groups"
  before: unknown;
  after: unknown;
}

export interface Plan<F = unknown> {
  changes: Change[];
  /** True when the resource is already in the target state: apply would change nothing. */
  alreadyDone: boolean;
  notes: string[];
  /** What plan learned that apply needs (resolved ids, current state). Journaled with the plan. */
  facts: F;
}

export interface Check {
  name: string;
  ok: boolean;
  detail?: string;
}

/** A resource an action touches: checked against guardrails and locked for the run. */
export interface Target {
  kind: string; // 'instance', 'access-key', 'role', 'user', 'subnet', 'network-acl', …
  id: string;
}

export interface Guardrails {
  /** Throws GuardrailRefusal if the resource carries the protected tag. */
  assertNotProtected(resource: string, tags: ReadonlyArray<{ Key?: string; Value?: string }> | undefined): void;
}

export interface ActionContext {
  aws: AwsClients;
  /** `startedAt`: ISO time of the run's `run.started` event (stable across resumes). */
  run: { id: string; incident: string; playbook: string; step: string; actor?: string; startedAt?: string };
  clock: Clock;
  guard: Guardrails;
  /** A note in the journal, attributed to the current step. */
  log(message: string, data?: Record<string, unknown>): void;
  signal: AbortSignal;
  /** Templates folder and rendered run facts, for actions that write text (support cases). */
  facts?: Record<string, unknown>;
  /** The map step this target belongs to, when writes its targets share may wait for all their plans. */
  step?: StepScope;
}

/**
 * One run of a map step whose plans do not wait for its applies (batched plans, or a person seeing
 * every plan first). Writes many targets share (CreateTags takes 1,000 resources) are sent once for
 * the step from the plans, instead of once per target or per batch window.
 */
export interface StepScope {
  /** Settles once every target of the step still to run has been planned (or has failed to plan). */
  planned: Promise<void>;
}

export interface UndoSpec<I, O> {
  action: string;
  input(output: O, input: I): unknown;
}

export interface ActionDef<I = unknown, O = unknown, F = unknown> {
  id: string;
  summary: string;
  /** Why and how, for the generated runbook. Markdown. */
  description?: string;
  /** Critical Security Controls this action serves (CC8, CC18, …). */
  controls?: string[];
  input: z.ZodType<I>;
  /** Every IAM action this action may send. Tests fail on a command not covered here. */
  permissions: readonly string[];
  /** False for read-only actions (lookups): they need no approval and run in dry-run. */
  mutating: boolean;
  targets?(input: I): Target[];
  /**
   * Every read of `plan` goes through the run's read batcher (src/cloud/batch.ts), or is paced per
   * client where AWS has no batched form (`paced`), so a map step may plan all its targets at once:
   * their reads coalesce into a few calls instead of one each, while applies still run
   * `concurrency` at a time.
   */
  batchedPlan?: boolean;
  plan(ctx: ActionContext, input: I): Promise<Plan<F>>;
  apply(ctx: ActionContext, input: I, plan: Plan<F>): Promise<O>;
  /**
   * What apply would return, from the plan alone, when the plan can tell: a dry run shows later
   * steps that read this output (their condition, their input) as they would run.
   */
  predict?(input: I, plan: Plan<F>): O;
  verify(ctx: ActionContext, input: I, output: O): Promise<Check[]>;
  undo?: UndoSpec<I, O>;
  /** The AWS CLI commands a responder runs by hand when Firebreak is unavailable. */
  fallback?: (input: Record<string, string>) => string[];
}

export function defineAction<I, O, F = unknown>(def: ActionDef<I, O, F>): ActionDef<I, O, F> {
  return def;
}

/**
 * Thrown by an action when the step cannot be done by API and becomes a manual task
 * (e.g. no Business support plan: the case text is printed for the console instead).
 */
export class ManualTaskRequired extends FirebreakError {
  constructor(
    readonly reason: string,
    readonly task: { title: string; instructions: string; output?: unknown },
  ) {
    super(reason);
  }
}
