/**
 * The alert router on Step Functions: an alert is routed and checked as `firebreak trigger` does
 * (prepareAlert), then its run starts as an execution of the route's playbook, named by the alert's
 * dedup key. A repeat (ExecutionAlreadyExists, or the start of a running execution answered with its
 * original date) is recorded on the existing run once its journal exists; before that, in the trigger log.
 */
import type { SFNClient } from '@aws-sdk/client-sfn';
import { FirebreakError, InputError } from '../core/errors.js';
import { localRunStore } from '../engine/local-store.js';
import type { Alert } from '../triggers/alert.js';
import { prepareAlert, recordRepeat, type TriggerContext } from '../triggers/dispatch.js';
import { startRunExecution } from './router.js';

export type ExecutionOutcome =
  | { kind: 'ignored'; runId: null; reasons: string[] }
  | { kind: 'started'; runId: string; executionArn: string }
  | { kind: 'repeated'; runId: string; journaled: boolean };

/** `FIREBREAK_STATE_MACHINES`: each routed playbook's state machine ARN, by playbook id (JSON). */
export function parseStateMachines(text: string): Record<string, string> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new InputError(`FIREBREAK_STATE_MACHINES is not JSON: ${(err as Error).message}`, { field: 'FIREBREAK_STATE_MACHINES' });
  }
  if (typeof v !== 'object' || v === null || Object.values(v).some((a) => typeof a !== 'string'))
    throw new InputError('FIREBREAK_STATE_MACHINES must map playbook ids to state machine ARNs', { field: 'FIREBREAK_STATE_MACHINES' });
  return v as Record<string, string>;
}

export async function startAlertExecution(
  alert: Alert,
  ctx: TriggerContext,
  o: { machines: Record<string, string>; sfn: Pick<SFNClient, 'send'> },
): Promise<ExecutionOutcome> {
  const prepared = await prepareAlert(alert, ctx);
  if ('ignored' in prepared) {
    await ctx.log.append('alert.ignored', { via: ctx.via, reasons: prepared.ignored });
    return { kind: 'ignored', runId: null, reasons: prepared.ignored };
  }
  const pb = prepared.route.loaded.playbook;
  const stateMachineArn = o.machines[pb.id];
  if (!stateMachineArn)
    throw new FirebreakError(`failed to start a run of ${pb.id}: the deployment has no state machine for it`, {
      hint: 'firebreak deploy-template --routes routes.yaml, then deploy the template again',
    });
  const started = await startRunExecution(o.sfn, {
    stateMachineArn,
    dedupKey: alert.dedupKey,
    input: {
      inputs: prepared.inputs,
      run: { id: alert.runId, incident: prepared.incident ?? alert.runId, playbook: pb.id, approval: prepared.route.approval },
    },
  });
  if (started.kind === 'started') {
    await ctx.log.append('alert.started', { via: ctx.via, runId: alert.runId, execution: started.executionArn });
    return { kind: 'started', runId: alert.runId, executionArn: started.executionArn };
  }
  const known = await localRunStore(ctx)
    .open(alert.runId)
    .then(
      () => true,
      (err: unknown) => {
        if (err instanceof InputError) return false;
        throw err;
      },
    );
  if (known) {
    const r = await recordRepeat(alert, ctx);
    return { kind: 'repeated', runId: alert.runId, journaled: r.kind === 'repeated' && r.journaled };
  }
  await ctx.log.append('alert.repeated', {
    via: ctx.via,
    runId: alert.runId,
    journaled: false,
    reason: 'the execution has not journaled its run yet',
    execution: started.name,
  });
  return { kind: 'repeated', runId: alert.runId, journaled: false };
}
