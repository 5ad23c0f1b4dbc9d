/** World files for the benchmarks: written to a temporary folder, passed to `--sim`. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseWorld } from '../../src/sim/world.js';
import type { RateLimits } from '../../src/sim/ratelimit.js';
import { ROOT } from './child.js';

export const DEMO_INSTANCE = 'i-0abc123def4567890';
const DEMO_VPC = 'vpc-0a1b2c3d4e5f60718';

/** 17 hex digits, unique per (kind, n): never collides with ids the simulation hands out. */
const hexId = (prefix: string, kind: number, n: number) => `${prefix}-0b${kind.toString(16)}${n.toString(16).padStart(14, '0')}`;

/** The isolation groups as a first containment in a VPC leaves them (or as a team pre-provisions them). */
function firebreakGroups(vpcId: string) {
  return [
    {
      id: hexId('sg', 1, 1),
      name: 'firebreak-isolation',
      description: 'Firebreak isolation: no inbound, no outbound',
      vpcId,
      ingress: [],
      egress: [],
      tags: { 'firebreak:managed': 'true' },
    },
    {
      id: hexId('sg', 1, 2),
      name: 'firebreak-isolation-transit',
      description: 'Firebreak isolation transit: allows all so tracked flows become untracked',
      vpcId,
      ingress: [
        { protocol: '-1', cidr: '0.0.0.0/0' },
        { protocol: '-1', ipv6Cidr: '::/0' },
      ],
      egress: [
        { protocol: '-1', cidr: '0.0.0.0/0' },
        { protocol: '-1', ipv6Cidr: '::/0' },
      ],
      tags: { 'firebreak:managed': 'true' },
    },
  ];
}

export interface ContainmentWorldOptions {
  latencyMs: number;
  /** The VPC already has Firebreak's isolation and transit groups. */
  warm: boolean;
}

/** The demo world (two interfaces, an attacker's tracked SSH session) with modelled latency. */
export function containmentWorld(dir: string, o: ContainmentWorldOptions): string {
  const demo = join(ROOT, 'worlds/demo.yaml');
  const world = parseWorld(readFileSync(demo, 'utf8'), demo) as unknown as Record<string, any>;
  world.latencyMs = o.latencyMs;
  if (o.warm) world.ec2.securityGroups.push(...firebreakGroups(DEMO_VPC));
  const file = join(dir, `containment-${o.warm ? 'warm' : 'cold'}-${o.latencyMs}ms.json`);
  writeFileSync(file, JSON.stringify(world));
  return file;
}

export interface FleetWorldOptions {
  instances: number;
  latencyMs: number;
  rateLimits: RateLimits;
}

/** N running web instances, one interface each, in one VPC whose isolation groups exist. */
export function fleetWorld(dir: string, o: FleetWorldOptions): { file: string; instanceIds: string[] } {
  const vpcId = hexId('vpc', 0, 1);
  const subnetId = hexId('subnet', 0, 1);
  const webSg = hexId('sg', 0, 1);
  const instances = [];
  const enis = [];
  for (let n = 0; n < o.instances; n++) {
    const id = hexId('i', 2, n);
    const ip = `10.1.${Math.floor(n / 250)}.${(n % 250) + 4}`;
    instances.push({ id, instanceType: 't3.medium', subnetId, privateIpAddress: ip, tags: { Name: `web-${n}`, role: 'web', env: 'prod' } });
    enis.push({ id: hexId('eni', 2, n), subnetId, privateIpAddress: ip, groups: [webSg], attachment: { instanceId: id, deviceIndex: 0 } });
  }
  const world = {
    account: { id: '111122223333' },
    region: 'us-east-1',
    latencyMs: o.latencyMs,
    rateLimits: o.rateLimits,
    ec2: {
      vpcs: [{ id: vpcId, cidrBlock: '10.1.0.0/16' }],
      subnets: [{ id: subnetId, vpcId, cidrBlock: '10.1.0.0/16', availabilityZone: 'us-east-1a' }],
      securityGroups: [
        {
          id: webSg,
          name: 'web',
          description: 'web fleet',
          vpcId,
          ingress: [{ protocol: 'tcp', fromPort: 443, toPort: 443, cidr: '0.0.0.0/0' }],
        },
        ...firebreakGroups(vpcId),
      ],
      instances,
      networkInterfaces: enis,
    },
  };
  const file = join(dir, `fleet-${o.instances}.json`);
  // Validated here so a bad world fails the benchmark before any process is timed.
  parseWorld(JSON.stringify(world), file);
  writeFileSync(file, JSON.stringify(world));
  return { file, instanceIds: instances.map((i) => i.id) };
}
