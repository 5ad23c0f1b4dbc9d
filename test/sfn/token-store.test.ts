/**
 * Task tokens in the AWS run store: the worker (the real one, on the simulated Step Functions) keeps
 * the token of the step it waits on in the table (dynalite), not in its working folder; `firebreak
 * approve` from another working folder, with no copy of the run, answers it and the execution runs
 * to the end; a second approve is refused as already answered, with no second SendTask call.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { approve } from '../../src/cli/commands/approve.js';
import { approveOutput } from '../../src/docs/output-schemas.js';
import { runStoreFor } from '../../src/engine/local-store.js';
import { waitingSteps } from '../../src/sfn/executions.js';
import { eventOf } from '../../src/store/types.js';
import { tempHome } from '../helpers/cli.js';
import { startStoreServers, type StoreServers } from '../store/harness.js';
import { LOCAL_SFN_RUNS } from './local-sfn.js';
import { captureOutput, deploy, fleetWorld } from './sim-sfn.js';

let servers: StoreServers;
beforeAll(async () => {
  servers = await startStoreServers();
  // The CLI's store clients find dynalite and the simulated S3 through the SDK's standard variables.
  for (const [k, v] of Object.entries(servers.env)) vi.stubEnv(k, v);
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await servers?.close();
});

/** The SFN client the approving machine uses, counting the SendTask calls it makes. */
function countingClient(sfn: SFNClient) {
  const sent: string[] = [];
  return {
    sent,
    client: {
      send: (cmd: { constructor: { name: string } }) => {
        if (/^SendTask/.test(cmd.constructor.name)) sent.push(cmd.constructor.name);
        return sfn.send(cmd as never);
      },
    } as Pick<SFNClient, 'send'>,
  };
}

describe.skipIf(!LOCAL_SFN_RUNS)('task tokens in the AWS store', () => {
  it('are kept in the table by the worker and answered once from another working folder', async () => {
    const workerHome = tempHome();
    const store = runStoreFor(servers.config, { home: workerHome }, servers.store());
    const d = await deploy('block-attack-source', fleetWorld(1), workerHome, store);
    const arn = await d.start('run-t', { cidrs: ['203.0.113.0/24'], subnetIds: ['subnet-0aa11bb22cc33dd44'] });
    await d.idle();

    const aws = servers.store();
    const kept = await aws.readTaskToken('run-t', 'block');
    expect(kept).toMatchObject({ status: 'waiting', token: expect.any(String) });
    // Not in the worker's folder, and never in the journal.
    expect(existsSync(join(workerHome, 'runs', 'run-t', 'tokens'))).toBe(false);
    const stored = await aws.readEvents('run-t');
    expect(stored.some((l) => l.line.includes(kept!.token))).toBe(false);

    const elsewhere = servers.folder();
    const config = join(elsewhere, 'firebreak.config.yaml');
    expect(readdirSync(elsewhere)).toEqual(['firebreak.config.yaml']);
    const counting = countingClient(d.sfn);
    const answered = await captureOutput(() => approve('run-t', 'block', { config, home: elsewhere, json: true, sfn: counting.client }));
    expect(approveOutput.parse(JSON.parse(answered.stdout))).toEqual({
      runId: 'run-t',
      step: 'block',
      decision: 'approve',
      delivered: 'task-token',
    });
    expect(counting.sent).toEqual(['SendTaskSuccessCommand']);
    expect(await aws.readTaskToken('run-t', 'block')).toMatchObject({ status: 'answered', answer: { decision: 'approve' } });

    // Any further step that waits is answered the same way, from the other folder.
    for (;;) {
      await d.idle();
      const status = (await d.sfn.send(new DescribeExecutionCommand({ executionArn: arn }))).status;
      if (status !== 'RUNNING') {
        expect(status).toBe('SUCCEEDED');
        break;
      }
      const events = (await aws.readEvents('run-t')).map(eventOf);
      const waiting = waitingSteps(events as never);
      expect(waiting.length).toBeGreaterThan(0);
      for (const step of waiting) await captureOutput(() => approve('run-t', step, { config, home: elsewhere, sfn: counting.client }));
    }
    const events = (await aws.readEvents('run-t')).map(eventOf);
    expect(events.filter((e) => e.type === 'approval.answered' && e.step === 'block')).toHaveLength(1);
    expect(events.some((e) => e.type === 'step.applied' && e.step === 'block')).toBe(true);
    expect(events.filter((e) => e.type === 'run.ended')).toHaveLength(1);

    const before = counting.sent.length;
    const again = approve('run-t', 'block', { config, home: elsewhere, json: true, sfn: counting.client });
    await expect(again).rejects.toThrow(/step block of run run-t was already answered: approve by .+ at 20/);
    expect(counting.sent).toHaveLength(before);
    const after = (await aws.readEvents('run-t')).map(eventOf);
    expect(after.filter((e) => e.type === 'approval.answered' && e.step === 'block')).toHaveLength(1);
  }, 120_000);
});
