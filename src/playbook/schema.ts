/**
 * The playbook file format, as a zod schema. The JSON Schema that editors use is generated from
 * this (`firebreak schemas`), never written by hand.
 *
 * Expressions are JSONata inside `{% … %}` (the syntax AWS Step Functions uses): a string value
 * that is exactly `{% expr %}` is evaluated; any other string is a literal. Expressions read
 * `$inputs`, `$steps.<id>.output`, `$run` (id, incident, playbook), and in a map step `$item`
 * and `$index`.
 */
import * as z from 'zod';

export const StepId = z
  .string()
  .regex(/^[a-z][a-zA-Z0-9_-]*$/, 'a step id starts with a lower-case letter and uses letters, digits, - and _');

const Duration = z.union([z.string().regex(/^\d+(\.\d+)?(ms|s|m|h|d)?$/, 'a duration such as 30s, 15m or 2h'), z.number().nonnegative()]);

export const InputDecl = z.strictObject({
  type: z.enum(['string', 'number', 'boolean', 'string[]']).default('string'),
  description: z.string().optional(),
  pattern: z.string().optional().describe('a regular expression each value must match (each item, for string[])'),
  required: z.boolean().default(false),
  default: z.unknown().optional(),
  examples: z.array(z.unknown()).optional(),
});

/**
 * Who may let a step change the cloud.
 *  - `auto`: runs unattended in automatic mode (an interactive engineer is still asked).
 *  - `required`: always needs a person: in automatic mode the run waits for `firebreak approve`.
 */
export const ApprovalPolicy = z.enum(['auto', 'required']);

export const RetryPolicy = z.strictObject({
  attempts: z.number().int().min(1).max(20).default(3),
  backoff: Duration.default('2s').describe('delay before the first retry'),
  factor: z.number().min(1).max(10).default(2),
  maxDelay: Duration.default('60s'),
  /** Only these AWS error codes are retried by the engine (the SDK already retries throttling and 5xx). */
  codes: z.array(z.string()).optional(),
});

const Common = {
  title: z.string().optional(),
  description: z.string().optional().describe('why this step exists: shown in the plan and the runbook'),
  controls: z.array(z.string()).optional(),
};

/** Where to go when a step fails: a step id, or a step id plus the error codes that lead there. */
export const OnError = z.union([StepId, z.strictObject({ next: StepId, codes: z.array(z.string()).optional() })]);

export const ActionStep = z.strictObject({
  type: z.literal('action').default('action'),
  ...Common,
  action: z.string().regex(/^[a-z0-9-]+\.[a-z0-9-]+$/, 'an action id such as ec2.isolate-instance'),
  with: z.record(z.string(), z.unknown()).default({}),
  /** Skip the step (recorded as skipped) when this expression is false. */
  when: z.string().optional(),
  approval: ApprovalPolicy.default('required'),
  retry: RetryPolicy.optional(),
  onError: OnError.optional(),
  next: StepId.optional(),
});

export const ChoiceStep = z.strictObject({
  type: z.literal('choice'),
  ...Common,
  choices: z.array(z.strictObject({ when: z.string(), next: StepId })).min(1),
  default: StepId,
});

export const ManualStep = z.strictObject({
  type: z.literal('manual'),
  ...Common,
  title: z.string(),
  instructions: z.string(),
  next: StepId.optional(),
});

export const WaitStep = z.strictObject({
  type: z.literal('wait'),
  ...Common,
  duration: z.union([Duration, z.string()]).describe('how long (e.g. 15m) or an expression giving seconds'),
  next: StepId.optional(),
});

export const EndStep = z.strictObject({
  type: z.literal('end'),
  ...Common,
  outcome: z.string().default('success').describe('success, failure, or a named outcome'),
});

export const MapStep = z.strictObject({
  type: z.literal('map'),
  ...Common,
  items: z.string().describe('an expression giving the list to iterate over'),
  concurrency: z.number().int().min(1).max(100).default(10),
  action: z.string().regex(/^[a-z0-9-]+\.[a-z0-9-]+$/),
  with: z.record(z.string(), z.unknown()).default({}),
  approval: ApprovalPolicy.default('required'),
  retry: RetryPolicy.optional(),
  onError: OnError.optional(),
  next: StepId.optional(),
});

// Parallel branches hold steps of their own; zod needs a lazy reference for the recursion.
export type StepT =
  | z.infer<typeof ActionStep>
  | z.infer<typeof ChoiceStep>
  | z.infer<typeof ManualStep>
  | z.infer<typeof WaitStep>
  | z.infer<typeof EndStep>
  | z.infer<typeof MapStep>
  | ParallelStepT;
export interface BranchT {
  start: string;
  steps: Record<string, StepT>;
}
export interface ParallelStepT {
  type: 'parallel';
  title?: string;
  description?: string;
  controls?: string[];
  branches: BranchT[];
  onError?: z.infer<typeof OnError>;
  next?: string;
}

export const Branch: z.ZodType<BranchT> = z.lazy(() =>
  z.strictObject({ start: StepId, steps: z.record(StepId, Step) }),
) as unknown as z.ZodType<BranchT>;

export const ParallelStep: z.ZodType<ParallelStepT> = z.lazy(() =>
  z.strictObject({
    type: z.literal('parallel'),
    ...Common,
    branches: z.array(Branch).min(1),
    onError: OnError.optional(),
    next: StepId.optional(),
  }),
) as unknown as z.ZodType<ParallelStepT>;

/** A step without `type` is an action step. */
export const Step: z.ZodType<StepT> = z.lazy(() =>
  z.union([ActionStep, ChoiceStep, ManualStep, WaitStep, EndStep, MapStep, ParallelStep]),
) as unknown as z.ZodType<StepT>;

export const Playbook = z.strictObject({
  id: z.string().regex(/^[a-z][a-z0-9-]*$/, 'lower-case letters, digits and -'),
  title: z.string(),
  description: z.string().optional(),
  controls: z.array(z.string()).default([]),
  inputs: z.record(z.string().regex(/^[a-zA-Z][a-zA-Z0-9_]*$/), InputDecl).default({}),
  start: StepId,
  steps: z.record(StepId, Step),
});

export type PlaybookT = z.infer<typeof Playbook>;
export type InputDeclT = z.infer<typeof InputDecl>;
export type ActionStepT = z.infer<typeof ActionStep>;
export type MapStepT = z.infer<typeof MapStep>;
export type ChoiceStepT = z.infer<typeof ChoiceStep>;
export type ManualStepT = z.infer<typeof ManualStep>;
export type WaitStepT = z.infer<typeof WaitStep>;
export type EndStepT = z.infer<typeof EndStep>;
export type RetryPolicyT = z.infer<typeof RetryPolicy>;
export type OnErrorT = z.infer<typeof OnError>;

/** A playbook as loaded: the parsed value, where it came from, and its content hash. */
export interface LoadedPlaybook {
  playbook: PlaybookT;
  file: string;
  sha256: string;
  /** Position of a dotted path in the source (for rule errors and runtime messages). */
  posOf(path: (string | number)[]): { file: string; line: number; col: number } | undefined;
}
