/**
 * `firebreak runs` beside Step Functions: a run an execution runs shows that execution's status as
 * DescribeExecution answers it (the simulated Step Functions, through the SDK's SFNClient) — waiting
 * for an approval, failed, succeeded after a redrive — and `--json` matches its schema.
 */
import { describe, expect, it } from 'vitest';
import { resume } from '../../src/cli/commands/run.js';
import { runs } from '../../src/cli/commands/runs.js';
import { runsOutput } from '../../src/docs/output-schemas.js';
import { LOCAL_SFN_RUNS } from '../sfn/local-sfn.js';
import { captureOutput, deploy, fixCause, fleetWorld } from '../sfn/sim-sfn.js';

const BLOCK = { cidrs: ['203.0.113.0/24'], subnetIds: ['subnet-0aa11bb22cc33dd44'] };

describe.skipIf(!LOCAL_SFN_RUNS)('firebreak runs with runs on Step Functions', () => {
  it('shows each execution: running and waiting for its approval, failed, then succeeded once redriven', async () => {
    const d = await deploy('block-attack-source', fleetWorld(1, [{ operation: 'ec2:CreateNetworkAclEntry', error: 'AccessDenied' }]));
    const waitingArn = await d.start('run-a', BLOCK);
    await d.idle();
    d.cloud.clock.advance(60_000);
    const failedArn = await d.start('run-b', BLOCK);
    expect(await d.settle('run-b', failedArn)).toBe('FAILED');

    const listed = async () => {
      const printed = await captureOutput(() => runs({ home: d.home, json: true, sfn: d.sfn }));
      return runsOutput.parse(JSON.parse(printed.stdout));
    };
    const byId = (rows: Awaited<ReturnType<typeof listed>>) => Object.fromEntries(rows.map((r) => [r.id, r.execution]));
    expect(byId(await listed())).toEqual({
      'run-a': { arn: waitingArn, status: 'RUNNING', waiting: ['block'], redriveCount: 0 },
      'run-b': { arn: failedArn, status: 'FAILED', waiting: [], redriveCount: 0 },
    });
    const text = await captureOutput(() => runs({ home: d.home, sfn: d.sfn }));
    const lines = text.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^RUN +PLAYBOOK +STATUS +STARTED +ACTOR +EXECUTION$/);
    expect(lines.find((l) => l.startsWith('run-a'))).toMatch(/RUNNING waiting for block$/);
    expect(lines.find((l) => l.startsWith('run-b'))).toMatch(/FAILED$/);

    fixCause(d.home, 'run-b');
    await captureOutput(() => resume('run-b', { home: d.home, sfn: d.sfn }));
    expect(await d.settle('run-b', failedArn)).toBe('SUCCEEDED');
    expect(byId(await listed())['run-b']).toEqual({ arn: failedArn, status: 'SUCCEEDED', waiting: [], redriveCount: 1 });
    const again = await captureOutput(() => runs({ home: d.home, sfn: d.sfn }));
    expect(again.stdout.split('\n').find((l) => l.startsWith('run-b'))).toMatch(/SUCCEEDED \(redriven 1×\)$/);
  }, 120_000);
});
