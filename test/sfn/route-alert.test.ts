/** The router on Step Functions: a routed alert starts its playbook's execution named by its dedup key; a refusal is a repeat. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExecutionAlreadyExists, SFNClient } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { Journal } from '../../src/audit/journal.js';
import { executionName } from '../../src/sfn/router.js';
import { parseStateMachines, startAlertExecution } from '../../src/sfn/route-alert.js';
import { parseAlertValue } from '../../src/triggers/parse.js';
import { loadRoutes } from '../../src/triggers/routes.js';
import { TriggerLog } from '../../src/triggers/trigger-log.js';
import { tempHome } from '../helpers/cli.js';

function sfnClient(answer: (input: Record<string, unknown>) => unknown) {
  const client = new SFNClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } });
  const sent: Array<Record<string, unknown>> = [];
  client.middlewareStack.add(
    () => async (args: { input: object }) => {
      sent.push(args.input as Record<string, unknown>);
      return { output: answer(args.input as Record<string, unknown>) as never, response: {} };
    },
    { step: 'initialize', name: 'answerInTest' },
  );
  return { client, sent };
}

const ARN = 'arn:aws:states:us-east-1:111122223333:stateMachine:firebreak-ec2-instance-compromise';

describe('startAlertExecution', () => {
  it("starts the route's state machine named by the dedup key; ExecutionAlreadyExists is a repeat, logged", async () => {
    const home = tempHome();
    const event = JSON.parse(readFileSync('test/fixtures/alerts/guardduty-bitcoin-dns.eventbridge.json', 'utf8'));
    const [alert] = parseAlertValue(event, { file: 'event', deliveryId: 'eventbridge:1' });
    const log = new TriggerLog(join(home, 'triggers.jsonl'));
    const ctx = {
      table: loadRoutes('routes.yaml'),
      log,
      via: 'lambda' as const,
      sim: 'worlds/demo.yaml',
      home,
      print: () => {},
      warn: () => {},
    };
    let calls = 0;
    const { client, sent } = sfnClient(() => {
      if (++calls > 1) throw new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} });
      return { executionArn: `${ARN}:${executionName(alert!.dedupKey)}`, startDate: new Date() };
    });
    const machines = parseStateMachines(JSON.stringify({ 'ec2-instance-compromise': ARN }));
    const first = await startAlertExecution(alert!, ctx, { machines, sfn: client });
    expect(first).toEqual({ kind: 'started', runId: alert!.runId, executionArn: `${ARN}:${executionName(alert!.dedupKey)}` });
    const input = JSON.parse(String(sent[0]!.input));
    expect(sent[0]).toMatchObject({ stateMachineArn: ARN, name: executionName(alert!.dedupKey) });
    expect(input.run).toMatchObject({ id: alert!.runId, playbook: 'ec2-instance-compromise' });
    expect(input.inputs.instanceId).toMatch(/^i-/);
    const again = await startAlertExecution(alert!, ctx, { machines, sfn: client });
    expect(again).toEqual({ kind: 'repeated', runId: alert!.runId, journaled: false });
    expect(Journal.read(join(home, 'triggers.jsonl')).map((e) => e.type)).toEqual(['alert.started', 'alert.repeated']);
  });

  it('refuses a FIREBREAK_STATE_MACHINES that is not a map of ARNs', () => {
    expect(() => parseStateMachines('[1]')).toThrow(/must map playbook ids/);
    expect(() => parseStateMachines('{')).toThrow(/is not JSON/);
  });
});
