/** One execution per alert: the dedup key names the execution; Step Functions' refusal is a repeat. */
import { ExecutionAlreadyExists, SFNClient } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { executionName, startRunExecution, type ExecutionInput } from '../../src/sfn/router.js';

const VALID = /^[A-Za-z0-9_-]{1,80}$/;

describe('executionName', () => {
  it.each([
    ['gd-6ec2b1f0a9d84e7c', 'gd-6ec2b1f0a9d84e7c'],
    ['a'.repeat(80), 'a'.repeat(80)],
  ])('keeps a key that is already a valid name: %s', (key, name) => {
    expect(executionName(key)).toBe(name);
  });

  it.each([
    'guardduty:111122223333:us-east-1:arn:aws:guardduty:us-east-1:111122223333:detector/x/finding/y',
    'a'.repeat(81),
    'securityhub/Findings Imported/é',
    '::::',
  ])('turns %s into a valid name', (key) => {
    const name = executionName(key);
    expect(name).toMatch(VALID);
    expect(executionName(key)).toBe(name);
  });

  it('keeps two keys apart that differ only in characters a name cannot hold', () => {
    expect(executionName('alarm:cpu/high')).not.toBe(executionName('alarm:cpu:high'));
  });

  it('refuses an empty key', () => {
    expect(() => executionName('')).toThrow(/empty dedup key/);
  });
});

/** An SFN client answered by a function in its middleware: the real command objects, no network. */
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

const INPUT: ExecutionInput = {
  inputs: { instanceId: 'i-0123456789abcdef0' },
  run: { id: 'gd-6ec2b1f0a9d8', incident: 'gd-6ec2b1f0a9d8', playbook: 'ec2-instance-compromise', approval: { isolate: 'auto' } },
};
const ARN = 'arn:aws:states:us-east-1:111122223333:stateMachine:firebreak-ec2-instance-compromise';
const NOW = new Date('2026-05-01T12:00:00Z');

describe('startRunExecution', () => {
  it('starts an execution named by the dedup key with the run as its input', async () => {
    const { client, sent } = sfnClient(() => ({ executionArn: `${ARN}:x`, startDate: NOW }));
    const out = await startRunExecution(client, { stateMachineArn: ARN, dedupKey: 'gd:finding/1', input: INPUT, now: () => NOW });
    expect(out).toEqual({ kind: 'started', executionArn: `${ARN}:x`, startDate: NOW });
    const name = executionName('gd:finding/1');
    const execution = `${ARN.replace(':stateMachine:', ':execution:')}:${name}`;
    expect(sent).toEqual([{ stateMachineArn: ARN, name, input: JSON.stringify({ ...INPUT, run: { ...INPUT.run, execution } }) }]);
  });

  it('ExecutionAlreadyExists is a repeat of the alert', async () => {
    const { client } = sfnClient(() => {
      throw new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} });
    });
    expect(await startRunExecution(client, { stateMachineArn: ARN, dedupKey: 'gd-1', input: INPUT, now: () => NOW })).toEqual({
      kind: 'repeat',
      name: 'gd-1',
    });
  });

  it('an idempotent answer with the earlier execution (same name and input, still running) is a repeat too', async () => {
    const { client } = sfnClient(() => ({ executionArn: `${ARN}:gd-1`, startDate: new Date(NOW.getTime() - 60_000) }));
    expect(await startRunExecution(client, { stateMachineArn: ARN, dedupKey: 'gd-1', input: INPUT, now: () => NOW })).toEqual({
      kind: 'repeat',
      name: 'gd-1',
      executionArn: `${ARN}:gd-1`,
    });
  });

  it('any other error fails the start', async () => {
    const { client } = sfnClient(() => {
      throw Object.assign(new Error('not authorized to perform states:StartExecution'), { name: 'AccessDeniedException' });
    });
    await expect(startRunExecution(client, { stateMachineArn: ARN, dedupKey: 'gd-1', input: INPUT })).rejects.toThrow(/StartExecution/);
  });
});
