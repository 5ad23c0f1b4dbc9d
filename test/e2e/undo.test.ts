/** `firebreak undo`: the reverse of a run's completed steps, as a run of its own, journaled both ways. */
import { describe, expect, it } from 'vitest';
import { cli, journal, mutatingCalls, runIds, tempHome, world } from '../helpers/cli.js';

const INSTANCE = 'i-0abc123def4567890';

async function contained(home: string): Promise<{ id: string; before: any }> {
  const pristine = tempHome();
  await cli(['run', 'ec2-instance-compromise', '--sim', '--dry-run', '--input', `instanceId=${INSTANCE}`], { home: pristine });
  const before = world(pristine, runIds(pristine)[0]!);
  const r = await cli(['run', 'ec2-instance-compromise', '--sim', '--auto', '--input', `instanceId=${INSTANCE}`], { home });
  expect(r.code, r.stderr).toBe(3);
  return { id: runIds(home)[0]!, before };
}

const groupsOf = (w: any) => Object.fromEntries(w.ec2.networkInterfaces.map((n: any) => [n.id, n.groups]));

describe('firebreak undo', () => {
  it('restores the security groups and termination protection, newest step first', async () => {
    const home = tempHome();
    const { id, before } = await contained(home);
    const r = await cli(['undo', id, '--auto'], { home });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const undoId = `${id}-undo-1`;
    const w = world(home, undoId);
    expect(groupsOf(w)).toEqual(groupsOf(before));
    expect(w.ec2.instances.find((i: any) => i.id === INSTANCE).disableApiTermination).toBe(false);
    const events = journal(home, undoId);
    // Every step of the source run that recorded an undo, newest first, each applied.
    const undoable = journal(home, id)
      .filter((e) => e.type === 'step.applied' && e.undo)
      .map((e) => e.step)
      .reverse();
    expect(undoable).toEqual(expect.arrayContaining(['isolate', 'preserve']));
    const completed = events.filter((e) => e.type === 'step.completed');
    expect(completed.map((e) => e.step.replace(/^undo-\d+-/, ''))).toEqual(undoable);
    expect(completed.every((e) => e.status === 'applied')).toBe(true);
    const source = journal(home, id);
    expect(source.filter((e) => e.type.startsWith('undo.')).map((e) => [e.type, e.undoRun])).toEqual([
      ['undo.requested', undoId],
      ['undo.finished', undoId],
    ]);
    expect((await cli(['audit', 'verify', id], { home })).code).toBe(0);
  });

  it('undoes only the named step, and a second undo of it changes nothing', async () => {
    const home = tempHome();
    const { id, before } = await contained(home);
    expect((await cli(['undo', id, 'isolate', '--auto'], { home })).code).toBe(0);
    const w = world(home, `${id}-undo-1`);
    expect(groupsOf(w)).toEqual(groupsOf(before));
    expect(w.ec2.instances.find((i: any) => i.id === INSTANCE).disableApiTermination).toBe(true);
    expect((await cli(['undo', id, 'isolate', '--auto'], { home })).code).toBe(0);
    const again = journal(home, `${id}-undo-2`);
    expect(again.find((e) => e.type === 'step.completed')).toMatchObject({ status: 'already-done' });
    expect(mutatingCalls(again)).toEqual([]);
  });

  it('rejects a step that was never applied (exit 2, no undo run)', async () => {
    const home = tempHome();
    const { id } = await contained(home);
    const r = await cli(['undo', id, 'nonsense', '--auto'], { home });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no applied step 'nonsense'/);
    expect(runIds(home)).toEqual([id]);
  });
});
