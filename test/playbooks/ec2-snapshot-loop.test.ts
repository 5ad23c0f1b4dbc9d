/**
 * The sub-hour snapshot loop of ec2-instance-compromise, run by the engine in-process on a
 * simulated clock shared with the simulated cloud (waits take no real time), with a host that
 * approves every step and confirms every manual task.
 */
import { chooseBackend } from '../../src/backend/backend.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SimClock } from '../../src/core/clock.js';
import type { RunHost } from '../../src/engine/host.js';
import { resumeRun, startRun } from '../../src/engine/session.js';
import { journal, tempHome } from '../helpers/cli.js';

const FIXTURE = 'test/fixtures/worlds/ec2-response.yaml';
const WEB2 = 'i-0b2000000000000b2';

const host: RunHost = {
  kind: 'auto',
  approve: async () => ({ decision: 'approve', by: 'test', via: 'script' }),
  manual: async () => ({ decision: 'approve', by: 'test', via: 'script' }),
};

const forensicSets = (home: string, runId: string) => {
  const w = JSON.parse(readFileSync(join(home, 'runs', runId, 'world.json'), 'utf8'));
  return w.ec2.snapshots
    .filter((s: any) => s.tags['firebreak:instance-id'] === WEB2 && s.tags['firebreak:purpose'] === 'forensic')
    .map((s: any) => [s.tags['firebreak:round'], s.startTime]);
};

describe('snapshots more often than DLM can: the loop', () => {
  it('takes snapshotCount crash-consistent sets, snapshotEveryMinutes apart, and no lifecycle policy', async () => {
    const home = tempHome();
    const clock = new SimClock('2026-03-01T12:00:00Z');
    const out = await (
      await startRun({
        run: {
          playbook: 'ec2-instance-compromise',
          inputs: { instanceId: WEB2, snapshotEveryMinutes: 15, snapshotCount: 3 },
          incident: 'IR-11',
        },
        backend: chooseBackend({ sim: FIXTURE, clock }),
        host,
        clock,
        home,
      })
    ).result;
    expect(out.status).toBe('succeeded');
    const sets = forensicSets(home, out.runId);
    expect(sets.map((s: string[]) => s[0])).toEqual(['1', '2', '3']);
    const times = sets.map((s: string[]) => Date.parse(s[1]!));
    expect(times[1]! - times[0]!).toBe(15 * 60_000);
    expect(times[2]! - times[1]!).toBe(15 * 60_000);
    const events = journal(home, out.runId);
    expect(events.filter((e) => e.type === 'wait.started').map((e) => e.step)).toEqual(['pause', 'pause#2']);
    expect(events.filter((e) => e.type === 'choice.taken' && e.step.startsWith('rounds')).map((e) => e.next)).toEqual(['pause', 'done']);
    expect(events.some((e) => e.type === 'step.started' && e.step === 'raise-frequency')).toBe(false);
    const w = JSON.parse(readFileSync(join(home, 'runs', out.runId, 'world.json'), 'utf8'));
    expect(w.dlm.policies).toEqual([]);
  });

  it('a run stopped between rounds resumes the loop without taking a round twice', async () => {
    const home = tempHome();
    const clock = new SimClock('2026-03-01T12:00:00Z');
    const stop = new AbortController();
    const first = await (
      await startRun({
        run: {
          playbook: 'ec2-instance-compromise',
          inputs: { instanceId: WEB2, snapshotEveryMinutes: 20, snapshotCount: 3 },
          incident: 'IR-12',
        },
        backend: chooseBackend({ sim: FIXTURE, clock }),
        host,
        clock,
        home,
        signal: stop.signal,
        observers: [
          (e) => {
            if (e.type === 'wait.started' && e.step === 'pause#2') stop.abort(new Error('SIGTERM'));
          },
        ],
      })
    ).result;
    expect(first.status).toBe('interrupted');
    expect(forensicSets(home, first.runId).map((s: string[]) => s[0])).toEqual(['1', '2']);

    const resumed = await (await resumeRun({ runId: first.runId, backend: chooseBackend({ clock }), host, clock, home })).result;
    expect(resumed.status).toBe('succeeded');
    expect(forensicSets(home, first.runId).map((s: string[]) => s[0])).toEqual(['1', '2', '3']);
    const events = journal(home, first.runId);
    const applied = events.filter((e) => e.type === 'step.applied' && String(e.step).startsWith('resnapshot')).map((e) => e.step);
    expect(applied).toEqual(['resnapshot', 'resnapshot#2']);
  });
});
