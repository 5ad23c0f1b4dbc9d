/**
 * The alert router's side of Step Functions: one execution per alert. The execution's name is the
 * alert's dedup key, so Step Functions itself refuses a second start — `ExecutionAlreadyExists` (a
 * Standard workflow keeps names unique for 90 days after the execution ends) means a duplicate or a
 * repeat of the alert, to be recorded on the run that exists, never an error.
 *
 * One AWS quirk: StartExecution is idempotent for Standard workflows — the same name *and the same
 * input* as a running execution succeeds and answers the original execution. A repeat delivery of the
 * same event looks like a start then; its `startDate` (the original's) tells it apart.
 *
 * What the integrator wires: the router Lambda's handler parses and routes the alert as
 * `firebreak trigger` does (src/triggers), then calls `startRunExecution` with the route's state
 * machine and `executionInput(...)`, and records a repeat on the existing run through the run store.
 */
import { createHash } from 'node:crypto';
import { ExecutionAlreadyExists, StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';

/** Step Functions execution names: 1–80 characters (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html). */
const NAME_MAX = 80;

/**
 * The execution name for a dedup key: the key itself when it is already a valid name; otherwise the
 * characters Firebreak keeps ([A-Za-z0-9-_], the rest replaced by `-`) cut to leave room for a hash of
 * the whole key, so two keys that differ only in dropped characters never share a name.
 */
export function executionName(dedupKey: string): string {
  if (dedupKey.length === 0) throw new Error('failed to name the execution: the alert has an empty dedup key');
  if (dedupKey.length <= NAME_MAX && /^[A-Za-z0-9_-]+$/.test(dedupKey)) return dedupKey;
  const hash = createHash('sha256').update(dedupKey, 'utf8').digest('hex').slice(0, 32);
  const readable = dedupKey.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '');
  const room = NAME_MAX - hash.length - 1;
  return readable ? `${readable.slice(0, room).replace(/-+$/, '')}-${hash}` : hash;
}

/** The execution input the compiled state machine's `Start` state reads. */
export interface ExecutionInput {
  inputs: Record<string, unknown>;
  run: {
    id: string;
    incident: string;
    playbook: string;
    approval: Record<string, 'auto' | 'required'>;
    /** The execution's own ARN (known before it starts: it is named), so the worker records it in run.started. */
    execution?: string;
  };
}

/** An execution's ARN: its state machine's, with `execution` for `stateMachine`, and its name. */
export const executionArnFor = (stateMachineArn: string, name: string) =>
  `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;

export type StartOutcome =
  | { kind: 'started'; executionArn: string; startDate?: Date }
  | { kind: 'repeat'; name: string; executionArn?: string };

/** An execution that started this much before we asked is an earlier one (clocks of AWS and the router differ a little). */
const REPEAT_SKEW_MS = 5_000;

export async function startRunExecution(
  client: Pick<SFNClient, 'send'>,
  o: { stateMachineArn: string; dedupKey: string; input: ExecutionInput; now?: () => Date },
): Promise<StartOutcome> {
  const name = executionName(o.dedupKey);
  const asked = (o.now ?? (() => new Date()))();
  try {
    // The run carries its execution's ARN, so `firebreak resume`, `undo` and `runs` find the execution from the journal.
    const input = { ...o.input, run: { ...o.input.run, execution: executionArnFor(o.stateMachineArn, name) } };
    const out = await client.send(new StartExecutionCommand({ stateMachineArn: o.stateMachineArn, name, input: JSON.stringify(input) }));
    if (out.startDate && out.startDate.getTime() < asked.getTime() - REPEAT_SKEW_MS)
      return { kind: 'repeat', name, executionArn: out.executionArn! };
    return { kind: 'started', executionArn: out.executionArn!, ...(out.startDate ? { startDate: out.startDate } : {}) };
  } catch (err) {
    // Only this named error is a repeat; anything else (AccessDenied, a deleted state machine) fails the invocation.
    if (err instanceof ExecutionAlreadyExists || (err as { name?: string }).name === 'ExecutionAlreadyExists')
      return { kind: 'repeat', name };
    throw err;
  }
}
