/** Undo reverses only what its run did, on the cloud as it is now, and refuses options that would do nothing. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { undoEntries } from '../../src/engine/undo.js';
import { cli, journal, runIds, tempHome, world } from '../helpers/cli.js';

const INSTANCE = 'i-0abc123def4567890';
const incidentTags = (w: any) =>
  Object.keys(w.ec2.instances.find((i: any) => i.id === INSTANCE).tags)
    .filter((k) => k.startsWith('firebreak:incident') || k === 'firebreak:isolated-at' || k === 'firebreak:run')
    .sort();
const groupsOf = (w: any) => Object.fromEntries(w.ec2.networkInterfaces.map((n: any) => [n.id, n.groups]));
const undoSteps = (home: string, id: string) =>
  journal(home, id)
    .filter((e) => e.type === 'step.completed')
    .map((e) => e.step.replace(/^undo-\d+-/, ''));

describe('undo of two incidents on one instance', () => {
  it('records undo only for what each run changed, keeps the instance for the incident that still holds it, and acts on the current world', async () => {
    const home = tempHome();
    const contain = (incident: string, sim: string | true) =>
      cli(
        [
          'run',
          'ec2-instance-compromise',
          ...(sim === true ? ['--sim'] : ['--sim', sim]),
          '--auto',
          '--incident',
          incident,
          '--input',
          `instanceId=${INSTANCE}`,
        ],
        {
          home,
        },
      );
    const pristine = tempHome();
    await cli(['run', 'ec2-instance-compromise', '--sim', '--dry-run', '--input', `instanceId=${INSTANCE}`], { home: pristine });
    const before = world(pristine, runIds(pristine)[0]!);
    expect((await contain('INC-1', true)).code).toBe(3);
    const [first] = runIds(home);
    // The second incident's run continues the first run's world: the instance is already contained.
    expect((await contain('INC-2', join(home, 'runs', first!, 'world.json'))).code).toBe(3);
    const second = runIds(home).find((id) => id !== first)!;
    const w2 = world(home, second);
    expect(incidentTags(w2)).toEqual(['firebreak:incident:INC-1', 'firebreak:incident:INC-2', 'firebreak:isolated-at']);
    // Already done in the second run: no undo recorded for it.
    const undone = journal(home, second)
      .filter((e) => e.type === 'step.applied' && e.undo)
      .map((e) => e.step);
    expect(undone).toContain('isolate');
    expect(undone).not.toContain('preserve');
    expect(undone).not.toContain('take-role');

    // Undo the first incident while the second still holds the instance, on the current (second run's) world.
    expect((await cli(['undo', first!, '--auto'], { home })).code).toBe(0);
    const u1 = world(home, `${first}-undo-1`);
    expect(incidentTags(u1)).toEqual(['firebreak:incident:INC-2', 'firebreak:isolated-at']);
    expect(groupsOf(u1)).toEqual(groupsOf(w2));
    const keep = journal(home, `${first}-undo-1`).find((e) => e.type === 'step.planned' && e.action === 'ec2.restore-security-groups');
    expect(keep.plan.notes.join(' ')).toMatch(/kept isolated: incident INC-2 \(run /);

    // Undo the second: it plans only what it changed, and as the last holder it releases the instance.
    expect((await cli(['undo', second, '--auto'], { home })).code).toBe(0);
    expect(undoSteps(home, `${second}-undo-1`)).toEqual([...undone].reverse());
    const u2 = world(home, `${second}-undo-1`);
    expect(incidentTags(u2)).toEqual([]);
    expect(groupsOf(u2)).toEqual(groupsOf(before));
    expect(u2.ec2.instances.find((i: any) => i.id === INSTANCE).disableApiTermination).toBe(false);
  });
});

describe('undo records', () => {
  it('takes a retried step once, with the undo of its first application', () => {
    const applied = (seq: number, groups: string[]) => ({
      seq,
      ts: '',
      type: 'step.applied',
      step: 'isolate',
      action: 'ec2.isolate-instance',
      output: {},
      undo: { action: 'ec2.restore-security-groups', input: { groups } },
    });
    const events = [applied(1, ['sg-original']), applied(2, ['sg-after-attempt-1']), applied(3, ['sg-after-attempt-2'])];
    expect(undoEntries(events as never)).toEqual([
      { step: 'isolate', action: 'ec2.restore-security-groups', input: { groups: ['sg-original'] } },
    ]);
  });
});

describe('options undo and resume cannot honour', () => {
  it.each([['undo'], ['resume']])('%s --sim is refused (exit 2) and changes nothing', async (command) => {
    const home = tempHome();
    expect((await cli(['run', 'ec2-instance-compromise', '--sim', '--auto', '--input', `instanceId=${INSTANCE}`], { home })).code).toBe(3);
    const [id] = runIds(home);
    const lines = journal(home, id!).length;
    const r = await cli([command!, id!, '--sim', '--auto'], { home });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`--sim is not an option of ${command}: ${command} acts where run ${id} acted .*run\\.started`));
    expect(runIds(home)).toEqual([id]);
    expect(journal(home, id!).length).toBe(lines);
  });

  it('undo --help says --auto approves every undo step', async () => {
    const r = await cli(['undo', '--help'], { home: tempHome() });
    expect(r.stdout).toMatch(/--auto\s+approve every undo step/);
    expect(r.stdout).not.toMatch(/still follows/);
    expect(r.stdout).not.toMatch(/--sim/);
  });
});
