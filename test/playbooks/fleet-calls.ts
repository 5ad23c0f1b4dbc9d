/**
 * A fleet of N single-interface, single-volume web instances in one VPC (without Firebreak's
 * isolation groups unless `warm`), and what `ec2-fleet-compromise` costs on it in AWS calls,
 * counted from the run's journal. Shared by the pinning test and `bench/fleet.ts`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SimClock } from '../../src/core/clock.js';
import type { RunHost } from '../../src/engine/host.js';
import { startRun } from '../../src/engine/session.js';
import { journal } from '../helpers/cli.js';

const hexId = (prefix: string, kind: number, n: number) => `${prefix}-0b${kind.toString(16)}${n.toString(16).padStart(14, '0')}`;
export const FLEET_VPC = hexId('vpc', 0, 1);

export function fleetWorldDoc(n: number, o: { warm?: boolean; latencyMs?: number; rateLimits?: unknown } = {}) {
  const vpcId = FLEET_VPC;
  const subnetId = hexId('subnet', 0, 1);
  const webSg = hexId('sg', 0, 1);
  const instances = [];
  const enis = [];
  const volumes = [];
  for (let i = 0; i < n; i++) {
    const id = hexId('i', 2, i);
    const ip = `10.1.${Math.floor(i / 250)}.${(i % 250) + 4}`;
    const vol = hexId('vol', 2, i);
    instances.push({
      id,
      subnetId,
      privateIpAddress: ip,
      blockDevices: [{ deviceName: '/dev/xvda', volumeId: vol, deleteOnTermination: true }],
      tags: { Name: `web-${i}`, role: 'web' },
    });
    enis.push({ id: hexId('eni', 2, i), subnetId, privateIpAddress: ip, groups: [webSg], attachment: { instanceId: id, deviceIndex: 0 } });
    volumes.push({ id: vol, size: 8, availabilityZone: 'us-east-1a' });
  }
  const groups: unknown[] = [{ id: webSg, name: 'web', description: 'web fleet', vpcId, ingress: [{ protocol: 'tcp', fromPort: 443, toPort: 443, cidr: '0.0.0.0/0' }] }];
  if (o.warm)
    groups.push(
      { id: hexId('sg', 1, 1), name: 'firebreak-isolation', description: 'isolation', vpcId, ingress: [], egress: [] },
      {
        id: hexId('sg', 1, 2),
        name: 'firebreak-isolation-transit',
        description: 'transit',
        vpcId,
        ingress: [{ protocol: '-1', cidr: '0.0.0.0/0' }, { protocol: '-1', ipv6Cidr: '::/0' }],
        egress: [{ protocol: '-1', cidr: '0.0.0.0/0' }, { protocol: '-1', ipv6Cidr: '::/0' }],
      },
    );
  return {
    account: { id: '111122223333' },
    region: 'us-east-1',
    ...(o.latencyMs ? { latencyMs: o.latencyMs } : {}),
    ...(o.rateLimits ? { rateLimits: o.rateLimits } : {}),
    ec2: {
      vpcs: [{ id: vpcId, cidrBlock: '10.1.0.0/16' }],
      subnets: [{ id: subnetId, vpcId, cidrBlock: '10.1.0.0/16', availabilityZone: 'us-east-1a' }],
      securityGroups: groups,
      instances,
      networkInterfaces: enis,
      volumes,
    },
  };
}

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
  const out = await startRun({
    playbook: 'ec2-fleet-compromise',
    inputs: { tags: ['role=web'] },
    host: unattended,
    sim: world,
    clock: new SimClock('2026-03-01T12:00:00Z'),
    home,
    incident: 'IR-50',
    approvalOverrides: Object.fromEntries(FLEET_STEPS.map((s) => [s, 'auto' as const])),
  });
  const events = journal(home, out.runId);
  const byStep: FleetCalls['byStep'] = {};
  const errors: Record<string, number> = {};
  let reads = 0;
  let writes = 0;
  for (const e of events.filter((x) => x.type === 'aws.call')) {
    const step = String(e.step ?? '').replace(/\[\d+\]$/, '');
    const op = String(e.operation);
    (byStep[step] ??= {})[op] = (byStep[step][op] ?? 0) + 1;
    if (op === 'GetCallerIdentity') continue;
    if (isRead(op)) reads++;
    else writes++;
    if (e.error?.code) errors[e.error.code] = (errors[e.error.code] ?? 0) + 1;
  }
  return { status: out.status, byStep, reads, writes, errors, events };
}
