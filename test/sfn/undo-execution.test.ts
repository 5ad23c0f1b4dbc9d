/**
 * `firebreak undo RUN` for a run on Step Functions starts an execution of the deployment's undo state
 * machine (on the simulated Step Functions, every task the real worker): after a fleet isolation, the
 * undo execution — each entry approved through its task token, or by --auto — restores every
 * instance's original security groups, and both runs' journals record it.
 */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { undo } from '../../src/cli/commands/undo.js';
import { undoExecutionOutput } from '../../src/docs/output-schemas.js';
import { LOCAL_SFN_RUNS } from './local-sfn.js';
import { captureOutput, deploy, fleetWorld, journalOf } from './sim-sfn.js';

/** Each attached ENI's groups, by instance, in a world file (YAML or JSON). */
const groupsIn = (file: string) =>
  Object.fromEntries(
    (
      parse(readFileSync(file, 'utf8')).ec2.networkInterfaces as Array<{
        id: string;
        groups: string[];
        attachment?: { instanceId: string };
      }>
    )
      .filter((n) => n.attachment)
      .map((n) => [n.attachment!.instanceId, n.groups]),
  );
const groups = (home: string, runId: string) => groupsIn(join(home, 'runs', runId, 'world.json'));

describe.skipIf(!LOCAL_SFN_RUNS)('firebreak undo of a run on Step Functions', () => {
  it.each([
    ['approved step by step through task tokens', false],
    ['approved by --auto', true],
  ])(
    'an undo execution restores the original groups of an isolated fleet (%s)',
    async (_name, auto) => {
      const world = fleetWorld(3);
      const d = await deploy('ec2-fleet-compromise', (home, arn) =>
        arn.includes(':run-1-undo-') ? join(home, 'runs', 'run-1', 'world.json') : world,
      );
      const arn = await d.start('run-1', { imageIds: ['ami-0c55b159cbfafe1f0'] });
      expect(await d.settle('run-1', arn)).toBe('SUCCEEDED');
      const found = (await journalOf(d.home, 'run-1')).find((e) => e.type === 'step.completed' && e.step === 'find') as {
        output: { instanceIds: string[] };
      };
      const fleet = found.output.instanceIds;
      expect(fleet).toHaveLength(3);
      const isolated = Object.fromEntries(Object.entries(groups(d.home, 'run-1')).filter(([id]) => fleet.includes(id)));
      expect(Object.keys(isolated)).toHaveLength(3);
      const original = groupsIn(world);
      for (const [id, g] of Object.entries(isolated)) expect(g).not.toEqual(original[id]);

      const printed = await captureOutput(() => undo('run-1', ['isolate'], { home: d.home, sfn: d.sfn, json: true, auto }));
      const started = undoExecutionOutput.parse(JSON.parse(printed.stdout));
      expect(started).toMatchObject({ runId: 'run-1', undoRun: 'run-1-undo-1', approval: auto ? 'auto' : 'required' });
      expect(started.steps).toHaveLength(3);
      const before = d.tasks.length;
      expect(await d.settle('run-1-undo-1', started.execution)).toBe('SUCCEEDED');
      expect(d.tasks.slice(before).map((t) => t.split(' ')[0])).toEqual(
        auto ? ['run', 'run', 'run'] : ['plan', 'apply', 'plan', 'apply', 'plan', 'apply'],
      );

      const restored = Object.fromEntries(Object.entries(groups(d.home, 'run-1-undo-1')).filter(([id]) => fleet.includes(id)));
      expect(Object.keys(restored).sort()).toEqual(Object.keys(isolated).sort());
      for (const [id, g] of Object.entries(restored)) expect(g).toEqual(original[id]);

      const source = await journalOf(d.home, 'run-1');
      expect(source.filter((e) => e.type === 'undo.requested')).toEqual([
        expect.objectContaining({
          undoRun: 'run-1-undo-1',
          execution: started.execution,
          steps: ['isolate[2]', 'isolate[1]', 'isolate[0]'],
        }),
      ]);
      const undone = await journalOf(d.home, 'run-1-undo-1');
      expect(undone.filter((e) => e.type === 'step.applied').map((e) => e.step)).toEqual(started.steps);
      expect(undone.filter((e) => e.type === 'approval.answered').map((e) => e.by === 'policy')).toEqual(
        auto ? [true, true, true] : [false, false, false],
      );
    },
    180_000,
  );
});
