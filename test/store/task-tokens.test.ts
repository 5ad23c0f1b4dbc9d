/**
 * A waiting step's task token in the AWS store (dynalite): kept beside the run, taken once by a
 * conditional update, given back when its answer could not be sent; and `approveOnStepFunctions`
 * over it: Step Functions' refusals (InvalidToken) named, a throttled send retried with one call.
 */
import { type SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import { localRunStore } from '../../src/engine/local-store.js';
import { approveOnStepFunctions } from '../../src/sfn/approve-task.js';
import { TokenAlreadyAnswered } from '../../src/store/errors.js';
import { tempHome } from '../helpers/cli.js';
import { clientFor, createTestCloud } from '../sim/services-harness.js';
import { startDynalite, storeWorld } from './harness.js';

let dyn: Awaited<ReturnType<typeof startDynalite>>;
beforeAll(async () => {
  dyn = await startDynalite();
});
afterAll(() => dyn?.close());

const ANSWER = { decision: 'approve', by: 'alice', at: '2026-03-01T00:00:00.000Z' };

describe('task tokens in the AWS store', () => {
  it('are kept beside the run, readable by another process, and taken once', async () => {
    const w = await storeWorld(dyn.endpoint);
    await w.store().keepTaskToken('run-1', 'block', 'token-a');
    const other = w.store();
    expect(await other.readTaskToken('run-1', 'block')).toEqual({ token: 'token-a', status: 'waiting' });
    expect(await other.readTaskToken('run-1', 'other')).toBeUndefined();

    await other.claimTaskToken('run-1', 'block', 'token-a', ANSWER);
    // The worker retried with the same token: the answer stands.
    await w.store().keepTaskToken('run-1', 'block', 'token-a');
    const second = w.store().claimTaskToken('run-1', 'block', 'token-a', { ...ANSWER, by: 'bob', at: '2026-03-01T00:01:00.000Z' });
    await expect(second).rejects.toBeInstanceOf(TokenAlreadyAnswered);
    await expect(second).rejects.toThrow('step block of run run-1 was already answered: approve by alice at 2026-03-01T00:00:00.000Z');
    expect(await other.readTaskToken('run-1', 'block')).toEqual({ token: 'token-a', status: 'answered', answer: ANSWER });
    // Our own claim again (a retried update whose response was lost) is not a second answer.
    await other.claimTaskToken('run-1', 'block', 'token-a', ANSWER);
  });

  it('a released claim can be taken again; a new token (the step waits again) replaces an answered one', async () => {
    const w = await storeWorld(dyn.endpoint);
    const s = w.store();
    await s.keepTaskToken('run-2', 'block', 'token-a');
    await s.claimTaskToken('run-2', 'block', 'token-a', ANSWER);
    await s.releaseTaskToken('run-2', 'block', 'token-a', ANSWER);
    expect(await s.readTaskToken('run-2', 'block')).toEqual({ token: 'token-a', status: 'waiting' });
    await s.claimTaskToken('run-2', 'block', 'token-a', ANSWER);

    await s.keepTaskToken('run-2', 'block', 'token-b');
    expect(await s.readTaskToken('run-2', 'block')).toEqual({ token: 'token-b', status: 'waiting' });
    await expect(s.claimTaskToken('run-2', 'block', 'token-a', ANSWER)).rejects.toThrow('waits with another task token now');
  });
});

/** A local run with a journal (empty: the answer's lines are the test's subject). */
async function waitingRun(runId: string) {
  const record = await localRunStore({ home: tempHome() }).create(runId);
  record.openJournal(systemClock).close();
  return record;
}

describe('approveOnStepFunctions over a kept token', () => {
  const answer = { decision: 'approve', by: 'alice', via: 'approve-command' } as const;

  it('names a token Step Functions refuses (InvalidToken) and keeps it answered', async () => {
    const record = await waitingRun('run-3');
    await record.keepTaskToken('block', 'not-a-token');
    const sfn = clientFor(createTestCloud(), SFNClient);
    const first = approveOnStepFunctions(record, 'block', answer, { sfn });
    await expect(first).rejects.toThrow(
      /failed to answer block of run run-3: Step Functions no longer waits on its task token \(InvalidToken/,
    );
    await expect(approveOnStepFunctions(record, 'block', answer, { sfn })).rejects.toBeInstanceOf(TokenAlreadyAnswered);
  });

  it('names a task that timed out (TaskTimedOut), pointing at resume, and keeps its token answered', async () => {
    const record = await waitingRun('run-5');
    await record.keepTaskToken('block', 'token-y');
    const timedOut = {
      send: async () => {
        throw Object.assign(new Error('Task Timed Out'), { name: 'TaskTimedOut' });
      },
    } as unknown as Pick<SFNClient, 'send'>;
    const err = await approveOnStepFunctions(record, 'block', answer, { sfn: timedOut }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      message: 'failed to answer block of run run-5: its task timed out before the answer came (TaskTimedOut)',
      hint: expect.stringContaining('firebreak resume run-5'),
    });
    await expect(approveOnStepFunctions(record, 'block', answer, { sfn: timedOut })).rejects.toBeInstanceOf(TokenAlreadyAnswered);
  });

  it('gives the token back when sending failed otherwise: the next approve sends it once', async () => {
    const record = await waitingRun('run-4');
    await record.keepTaskToken('block', 'token-z');
    const sent: string[] = [];
    const throttled = {
      send: async () => {
        throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      },
    } as unknown as Pick<SFNClient, 'send'>;
    await expect(approveOnStepFunctions(record, 'block', answer, { sfn: throttled })).rejects.toThrow('Rate exceeded');
    const ok = {
      send: async (cmd: SendTaskSuccessCommand) => {
        sent.push(cmd.input.taskToken!);
        return {};
      },
    } as unknown as Pick<SFNClient, 'send'>;
    await approveOnStepFunctions(record, 'block', answer, { sfn: ok });
    expect(sent).toEqual(['token-z']);
    await expect(approveOnStepFunctions(record, 'block', answer, { sfn: ok })).rejects.toBeInstanceOf(TokenAlreadyAnswered);
    expect(sent).toEqual(['token-z']);
  });
});
