/** What `ec2-fleet-compromise` costs in AWS calls on a fleet (bench/lib/fleet-world.ts), counted from the run's journal. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SimClock } from '../../src/core/clock.js';
import type { RunHost } from '../../src/engine/host.js';
import { chooseBackend } from '../../src/backend/backend.js';
import { startRun } from '../../src/engine/session.js';
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

export interface FleetCalls {
  status: string;
  /** step → operation → calls */
  byStep: Record<string, Record<string, number>>;
  reads: number;
  writes: number;
  errors: Record<string, number>;
  events: any[];
}

const isRead = (op: string) => /^(Describe|Get|List)/.test(op);

export async function runFleet(home: string, n: number, o: { warm?: boolean } = {}): Promise<FleetCalls> {
  mkdirSync(home, { recursive: true });
  const world = join(home, `fleet-${n}.json`);
  writeFileSync(world, JSON.stringify(fleetWorldDoc(n, o)));
  const clock = new SimClock('2026-03-01T12:00:00Z');
  const handle = await startRun({
    run: {
      playbook: 'ec2-fleet-compromise',
      inputs: { tags: ['role=web'] },
      incident: 'IR-50',
      approvalOverrides: Object.fromEntries(FLEET_STEPS.map((s) => [s, 'auto' as const])),
    },
    backend: chooseBackend({ sim: world, clock }),
    host: unattended,
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
  return { status: out.status, byStep, reads, writes, errors, events };
}
