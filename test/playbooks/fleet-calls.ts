/** What `ec2-fleet-compromise` costs in AWS calls on a fleet (bench/lib/fleet-world.ts), counted from the run's journal. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SimClock } from '../../src/core/clock.js';
import type { RunHost } from '../../src/engine/host.js';
import { chooseBackend } from '../../src/backend/backend.js';
import { startRun } from '../../src/engine/session.js';
import { prepareUndo } from '../../src/engine/undo.js';
import { journal } from '../helpers/cli.js';
import { fleetWorldDoc } from '../../bench/lib/fleet-world.js';

export { FLEET_VPC } from '../../bench/lib/fleet-world.js';

const FLEET_STEPS = ['isolate', 'preserve', 'detach', 'snapshot'];

/** What a route that sets every fleet step to `auto` gives the run: nobody reads the plans. */
const unattended: RunHost = {
  kind: 'auto',
  approvesUnseen: (p) => p === 'auto',
  approve: async () => ({ decision: 'approve', by: 'policy', via: 'script' }),
  manual: async () => ({ decision: 'approve', by: 'alice', via: 'script' }),
};

/** A person approving each step after seeing every target's plan (the map step plans all targets first). */
const attendedHost: RunHost = {
  kind: 'auto',
  approvesUnseen: () => false,
  approve: async () => ({ decision: 'approve', by: 'alice', via: 'script' }),
  manual: async () => ({ decision: 'approve', by: 'alice', via: 'script' }),
};

export interface FleetCalls {
  status: string;
  /** step → operation → calls */
  byStep: Record<string, Record<string, number>>;
  reads: number;
  writes: number;
  errors: Record<string, number>;
  events: any[];
  runId: string;
}

const isRead = (op: string) => /^(Describe|Get|List)/.test(op);

/** Undo the run as `firebreak undo RUN --auto` does: every completed step reversed, on the run's current world. */
export async function undoFleet(home: string, runId: string): Promise<{ status: string; world: any }> {
  const prep = prepareUndo(runId, [], 'auto', { home });
  const handle = await startRun({
    run: { playbook: prep.playbookFile, inputs: {}, runId: prep.undoRunId, incident: prep.incident, trigger: { undoOf: runId } },
    backend: chooseBackend({ sim: prep.worldFile! }),
    host: unattended,
    home,
  });
  const out = await handle.result;
  return { status: out.status, world: JSON.parse(readFileSync(join(home, 'runs', out.runId, 'world.json'), 'utf8')) };
}

export async function runFleet(home: string, n: number, o: { warm?: boolean; attended?: boolean } = {}): Promise<FleetCalls> {
  mkdirSync(home, { recursive: true });
  const world = join(home, `fleet-${n}.json`);
  writeFileSync(world, JSON.stringify(fleetWorldDoc(n, o)));
  const clock = new SimClock('2026-03-01T12:00:00Z');
  const handle = await startRun({
    run: {
      playbook: 'ec2-fleet-compromise',
      inputs: { tags: ['role=web'] },
      incident: 'IR-50',
      approvalOverrides: Object.fromEntries(FLEET_STEPS.map((s) => [s, o.attended ? ('required' as const) : ('auto' as const)])),
    },
    backend: chooseBackend({ sim: world, clock }),
    host: o.attended ? attendedHost : unattended,
    clock,
    home,
  });
  const out = await handle.result;
  const events = journal(home, out.runId);
  const byStep: FleetCalls['byStep'] = {};
  const errors: Record<string, number> = {};
  let reads = 0;
  let writes = 0;
  for (const e of events.filter((x) => x.type === 'aws.call')) {
    const step = String(e.step ?? '').replace(/\[\d+\]$/, '');
    const op = String(e.operation);
    byStep[step] ??= {};
    byStep[step][op] = (byStep[step][op] ?? 0) + 1;
    if (op === 'GetCallerIdentity') continue;
    if (isRead(op)) reads++;
    else writes++;
    if (e.error?.code) errors[e.error.code] = (errors[e.error.code] ?? 0) + 1;
  }
  return { status: out.status, byStep, reads, writes, errors, events, runId: out.runId };
}
