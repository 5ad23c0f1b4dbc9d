/**
 * The Step Functions execution behind a run: which one it is (run.started's executor names it) and
 * where it stands — what `firebreak runs` shows beside the journal's own status, and what
 * `firebreak resume` decides on.
 */
import { DescribeExecutionCommand, SFNClient, type ExecutionStatus } from '@aws-sdk/client-sfn';

type Events = ReadonlyArray<{ type: string; step?: unknown; executor?: { kind?: string; execution?: string } }>;

/** The execution's ARN, when the run is one (`executor.execution` of run.started). */
export function executionArnOf(events: Events): string | undefined {
  const started = events.find((e) => e.type === 'run.started');
  return started?.executor?.kind === 'stepfunctions' ? started.executor.execution : undefined;
}

/** Steps the run asked a person about (approval or manual task) that no answer or outcome closed yet. */
export function waitingSteps(events: Events): string[] {
  const open = new Set<string>();
  for (const e of events) {
    if (e.type === 'approval.requested' || e.type === 'manual.requested') open.add(String(e.step));
    if (e.type === 'approval.answered' || e.type === 'step.completed') open.delete(String(e.step));
  }
  return [...open];
}

/** A Step Functions client for the execution's own Region (its ARN names it), with the SDK's standard configuration otherwise. */
export function sfnClientFor(executionArn: string): SFNClient {
  const region = /^arn:aws[\w-]*:states:([\w-]+):/.exec(executionArn)?.[1];
  return new SFNClient(region ? { region } : {});
}

export interface ExecutionView {
  executionArn: string;
  status: ExecutionStatus;
  /** Steps the execution waits on a person for (RUNNING only). */
  waiting: string[];
  redriveCount: number;
  error?: string;
  cause?: string;
  stopDate?: string;
}

export async function describeRunExecution(sfn: Pick<SFNClient, 'send'>, executionArn: string, events: Events): Promise<ExecutionView> {
  const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  return {
    executionArn,
    status: d.status!,
    waiting: d.status === 'RUNNING' ? waitingSteps(events) : [],
    redriveCount: d.redriveCount ?? 0,
    ...(d.error ? { error: d.error } : {}),
    ...(d.cause ? { cause: d.cause } : {}),
    ...(d.stopDate ? { stopDate: d.stopDate.toISOString() } : {}),
  };
}
