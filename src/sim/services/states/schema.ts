/** The Step Functions slice of the world: state machines and their executions. */
import * as z from 'zod';
import { Timestamp } from '../../kit.js';

/** State machine and execution names: 1–80 characters, no whitespace, brackets, wildcards or special characters (API_StartExecution). */
const NAME_CHARS = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/]{1,80}$/;
/** Control characters (U+0000–U+001F, U+007F–U+009F) are refused too. */
export const isName = (s: string): boolean =>
  NAME_CHARS.test(s) && ![...s].some((c) => c.charCodeAt(0) < 0x20 || (c.charCodeAt(0) >= 0x7f && c.charCodeAt(0) <= 0x9f));

export const StateMachine = z.strictObject({
  name: z.string().refine(isName, '1–80 characters without whitespace, brackets, wildcards or special characters'),
  /** The Amazon States Language definition, as CreateStateMachine takes it (JSON text). */
  definition: z.string(),
  roleArn: z.string().default('arn:aws:iam::000000000000:role/firebreak-states'),
  type: z.enum(['STANDARD', 'EXPRESS']).default('STANDARD'),
  creationDate: Timestamp.default('2025-01-01T00:00:00Z'),
});

/** A task token Step Functions handed out, and what it was answered with. */
export const Token = z.strictObject({
  token: z.string(),
  /** The task it belongs to: the state name and a digest of its effective input (see runtime.ts). */
  key: z.string(),
  /** waiting → answered (SendTask*, not yet taken by the execution) → closed (the task finished, or the execution stopped). */
  status: z.enum(['waiting', 'answered', 'closed']),
  /** The task's TimeoutSeconds, from when the token was issued. */
  deadline: Timestamp.optional(),
  answer: z.union([z.strictObject({ output: z.string() }), z.strictObject({ error: z.string(), cause: z.string() })]).optional(),
});

/** A task's outcome kept for a redrive: its result, or a failure a Catch handled (not run again). */
export const TaskOutcome = z.union([z.strictObject({ output: z.unknown() }), z.strictObject({ error: z.string(), cause: z.string() })]);

export const Execution = z.strictObject({
  executionArn: z.string(),
  stateMachineArn: z.string(),
  name: z.string(),
  input: z.string(),
  status: z.enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']),
  startDate: Timestamp,
  stopDate: Timestamp.optional(),
  output: z.string().optional(),
  error: z.string().optional(),
  cause: z.string().optional(),
  redriveCount: z.number().int().nonnegative().default(0),
  redriveDate: Timestamp.optional(),
  /** Outcomes of the tasks that finished, by task key: what a redrive keeps instead of running them again. */
  tasks: z.record(z.string(), TaskOutcome).default({}),
  tokens: z.array(Token).default([]),
});

export const schema = z
  .strictObject({
    stateMachines: z.array(StateMachine).default([]),
    executions: z.array(Execution).default([]),
  })
  .prefault({});

export type StatesWorld = z.infer<typeof schema>;
export type ExecutionT = z.infer<typeof Execution>;
export type StateMachineT = z.infer<typeof StateMachine>;
export type TokenT = z.infer<typeof Token>;
export interface WithStates {
  states: StatesWorld;
}
