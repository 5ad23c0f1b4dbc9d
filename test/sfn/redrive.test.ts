/**
 * `firebreak resume RUN` for a run on Step Functions: a fleet execution that fails on its targets
 * (EC2 refuses CreateSnapshots), redriven through the simulated Step Functions after the cause is
 * fixed, converges — every target's steps applied exactly once (the journal), the cloud as after a
 * run nothing interrupted. And what resume says of a running and of a succeeded execution.
 */
import { describe, expect, it } from 'vitest';
import { resume } from '../../src/cli/commands/run.js';
import { executionResumeOutput } from '../../src/docs/output-schemas.js';
import { LOCAL_SFN_RUNS } from './local-sfn.js';
import { captureOutput, deploy, fixCause, fleetWorld, journalOf, worldOf } from './sim-sfn.js';

const INPUTS = { imageIds: ['ami-0c55b159cbfafe1f0'] };
const FLEET = 6;

describe.skipIf(!LOCAL_SFN_RUNS)('firebreak resume of a run on Step Functions', () => {
  it('redrives a failed fleet execution once the cause is fixed: every target done exactly once, the cloud as after an uninterrupted run', async () => {
    const failing = await deploy('ec2-fleet-compromise', fleetWorld(FLEET, [{ operation: 'ec2:CreateSnapshots', error: 'AccessDenied' }]));
    const arn = await failing.start('run-1', INPUTS);
    expect(await failing.settle('run-1', arn)).toBe('FAILED');
    const before = await journalOf(failing.home, 'run-1');
    expect(before.filter((e) => e.type === 'item.failed' && e.step === 'snapshot')).toHaveLength(FLEET);
    const appliedBefore = failing.tasks.length;

    fixCause(failing.home, 'run-1');
    const printed = await captureOutput(() => resume('run-1', { home: failing.home, sfn: failing.sfn, json: true }));
    expect(executionResumeOutput.parse(JSON.parse(printed.stdout))).toEqual({
      runId: 'run-1',
      execution: arn,
      status: 'RUNNING',
      action: 'redriven',
      waiting: [],
      redriveCount: 1,
    });
    expect(await failing.settle('run-1', arn)).toBe('SUCCEEDED');
    // The redrive ran the failed snapshot items and what follows them, nothing that had succeeded.
    const rerun = failing.tasks.slice(appliedBefore);
    expect(rerun.filter((t) => t.startsWith('item snapshot'))).toHaveLength(FLEET);
    expect(rerun.some((t) => /isolate|preserve|detach|find/.test(t))).toBe(false);

    const events = await journalOf(failing.home, 'run-1');
    const redriven = events.filter((e) => e.type === 'execution.redriven');
    expect(redriven).toEqual([expect.objectContaining({ execution: arn, from: 'FAILED', error: 'UnauthorizedOperation' })]);
    const applied = events.filter((e) => e.type === 'step.applied').map((e) => `${e.step}[${e.item}]`);
    expect(applied.length).toBeGreaterThan(FLEET * 3);
    expect(new Set(applied).size).toBe(applied.length);
    for (const step of ['isolate', 'preserve', 'snapshot']) expect(applied.filter((a) => a.startsWith(`${step}[`))).toHaveLength(FLEET);

    const clean = await deploy('ec2-fleet-compromise', fleetWorld(FLEET));
    const cleanArn = await clean.start('run-1', INPUTS);
    expect(await clean.settle('run-1', cleanArn)).toBe('SUCCEEDED');
    expect(worldOf(failing.home, 'run-1')).toEqual(worldOf(clean.home, 'run-1'));
  }, 240_000);

  it('leaves a running execution alone, naming the step it waits on; a succeeded one has nothing to resume', async () => {
    const d = await deploy('block-attack-source', fleetWorld(1));
    const arn = await d.start('run-2', { cidrs: ['203.0.113.0/24'], subnetIds: ['subnet-0aa11bb22cc33dd44'] });
    await d.idle();
    const running = await captureOutput(() => resume('run-2', { home: d.home, sfn: d.sfn }));
    expect(running.stdout).toContain('run run-2: execution RUNNING, waiting for block; nothing to resume');
    expect(running.stdout).toContain('next: firebreak approve run-2 block');
    expect(running.exitCode).toBe(3);
    expect(await d.settle('run-2', arn)).toBe('SUCCEEDED');
    const done = await captureOutput(() => resume('run-2', { home: d.home, sfn: d.sfn }));
    expect([done.stdout.trim(), done.exitCode]).toEqual(['run run-2: execution SUCCEEDED; nothing to resume', 0]);
    expect((await journalOf(d.home, 'run-2')).some((e) => e.type === 'execution.redriven')).toBe(false);
  }, 120_000);
});
