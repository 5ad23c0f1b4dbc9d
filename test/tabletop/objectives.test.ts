/** Objectives are predicates over the world, the runs and the timeline, decided at the moment they change. */
import { describe, expect, it } from 'vitest';
import { SimClock } from '../../src/core/clock.js';
import { createSimCloud, parseWorld, type World } from '../../src/sim/index.js';
import { Attacker } from '../../src/tabletop/attacker.js';
import { ObjectiveTracker, type ExerciseFacts } from '../../src/tabletop/objectives.js';
import { seededRng } from '../../src/tabletop/rng.js';
import { AttackerSchema, ObjectiveSchema } from '../../src/tabletop/scenario.js';

const WORLD = `
account: { id: "111122223333" }
time: "2026-01-01T00:00:00Z"
ec2:
  vpcs: [{ id: vpc-0a0a0a0a0a0a0a0a0, cidrBlock: 10.0.0.0/16 }]
  subnets: [{ id: subnet-0a0a0a0a0a0a0a0a1, vpcId: vpc-0a0a0a0a0a0a0a0a0, cidrBlock: 10.0.1.0/24 }]
  securityGroups:
    - { id: sg-0a0a0a0a0a0a0a0a1, name: web, vpcId: vpc-0a0a0a0a0a0a0a0a0, ingress: [{ protocol: tcp, fromPort: 22, toPort: 22, cidr: 0.0.0.0/0 }] }
    - { id: sg-0a0a0a0a0a0a0a0a9, name: empty, vpcId: vpc-0a0a0a0a0a0a0a0a0, egress: [] }
  instances:
    - { id: i-0c0ffee0000000001, subnetId: subnet-0a0a0a0a0a0a0a0a1, tags: { env: prod } }
    - { id: i-0c0ffee0000000002, subnetId: subnet-0a0a0a0a0a0a0a0a1, tags: { env: prod } }
  networkInterfaces:
    - { id: eni-0c0ffee0000000001, subnetId: subnet-0a0a0a0a0a0a0a0a1, groups: [sg-0a0a0a0a0a0a0a0a1], attachment: { instanceId: i-0c0ffee0000000001, deviceIndex: 0 } }
    - { id: eni-0c0ffee0000000002, subnetId: subnet-0a0a0a0a0a0a0a0a1, groups: [sg-0a0a0a0a0a0a0a0a1], attachment: { instanceId: i-0c0ffee0000000002, deviceIndex: 0 } }
  connections:
    - { id: ssh, instanceId: i-0c0ffee0000000001, remoteIp: 203.0.113.66, localPort: 22 }
`;
const min = (n: number) => n * 60_000;

function setup(objectives: unknown[]) {
  const clock = new SimClock('2026-01-01T00:00:00Z');
  const world: World = parseWorld(WORLD, 'world.yaml');
  const sim = createSimCloud(world, { clock });
  const attacker = new Attacker(sim, AttackerSchema.parse({ addresses: ['203.0.113.66'] }), seededRng(1));
  const facts: ExerciseFacts = {
    start: clock.now(),
    initial: structuredClone(world),
    attacker,
    injectFired: new Map(),
    attacks: new Map(),
    firings: new Map(),
    steps: [],
    calls: sim.calls,
    firstAlertAt: 0,
  };
  const changes: string[] = [];
  const deadlines: number[] = [];
  const tracker = new ObjectiveTracker(
    objectives.map((o) => ObjectiveSchema.parse(o)),
    world,
    facts,
    clock,
    (s) => changes.push(`${s.objective.id} ${s.status} ${s.t}`),
    (d) => deadlines.push(d),
  );
  const at = (m: number) => {
    clock.set(new Date(Date.parse('2026-01-01T00:00:00Z') + min(m)));
    tracker.evaluate(min(m));
  };
  return { world, facts, tracker, changes, deadlines, at };
}

describe('ObjectiveTracker', () => {
  it('instance-isolated needs groups without rules AND no connection left open; met at that moment, within its deadline', () => {
    const { world, changes, deadlines, at } = setup([
      { id: 'iso', title: 'isolated', within: '15m', 'instance-isolated': { instance: 'i-0c0ffee0000000001' } },
    ]);
    at(1);
    expect(deadlines).toEqual([min(15)]);
    world.ec2.networkInterfaces[0]!.groups = ['sg-0a0a0a0a0a0a0a0a9'];
    at(5);
    expect(changes).toEqual([]); // the tracked SSH session is still open
    world.ec2.connections[0]!.state = 'closed';
    at(7);
    expect(changes).toEqual([`iso met ${min(7)}`]);
  });

  it('a deadline that passes is a miss at the deadline; what is still pending at the end is a miss then', () => {
    const { tracker, changes, at } = setup([
      { id: 'late', title: 'late', within: '10m', 'connections-closed': { instance: 'i-0c0ffee0000000001' } },
      { id: 'never', title: 'never', 'attacker-locked-out': {} },
    ]);
    at(12);
    expect(changes).toEqual([`late missed ${min(10)}`]);
    const final = tracker.finish(min(30));
    expect(final.map((s) => [s.objective.id, s.status, s.t])).toEqual([
      ['late', 'missed', min(10)],
      ['never', 'missed', min(30)],
    ]);
    expect(final[1]!.detail).toContain('open connections: ssh');
  });

  it('sustained: lost when it stops holding; no-collateral: met only at the end, violated for good', () => {
    const { world, tracker, changes, at } = setup([
      { id: 'closed', title: 'closed', sustained: true, 'connections-closed': {} },
      { id: 'others', title: 'others untouched', 'no-collateral': { tags: { env: 'prod' }, except: ['i-0c0ffee0000000001'] } },
    ]);
    world.ec2.connections[0]!.state = 'closed';
    at(2);
    world.ec2.connections.push({
      id: 'back',
      instanceId: 'i-0c0ffee0000000001',
      remoteIp: '203.0.113.66',
      localPort: 22,
      protocol: 'tcp',
      direction: 'inbound',
      state: 'open',
    });
    at(3);
    expect(changes).toEqual([`closed met ${min(2)}`, `closed missed ${min(3)}`]);
    world.ec2.networkInterfaces[1]!.groups = ['sg-0a0a0a0a0a0a0a0a9'];
    at(4);
    world.ec2.networkInterfaces[1]!.groups = ['sg-0a0a0a0a0a0a0a0a1'];
    const final = tracker.finish(min(10));
    expect(final[1]).toMatchObject({ status: 'missed', t: min(4) });
    expect(final[1]!.detail).toContain('i-0c0ffee0000000002');
  });

  it('step-completed reads the runs; support-case-opened counts a case confirmed by hand', () => {
    const { facts, changes, at } = setup([
      { id: 'snap', title: 'snapshots', 'step-completed': { step: 'snapshot' } },
      { id: 'case', title: 'case', 'support-case-opened': {} },
    ]);
    facts.steps.push({
      runId: 'r-1',
      playbook: 'p',
      key: 'snapshot',
      stepId: 'snapshot',
      action: 'ec2.forensic-snapshots',
      status: 'skipped',
      t: min(1),
    });
    at(1);
    expect(changes).toEqual([]);
    facts.steps.push({
      runId: 'r-1',
      playbook: 'p',
      key: 'snapshot#2',
      stepId: 'snapshot',
      action: 'ec2.forensic-snapshots',
      status: 'applied',
      t: min(2),
    });
    facts.steps.push({
      runId: 'r-1',
      playbook: 'p',
      key: 'open-case',
      stepId: 'open-case',
      action: 'support.open-case',
      status: 'manual',
      t: min(2),
    });
    at(2);
    expect(changes).toEqual([`snap met ${min(2)}`, `case met ${min(2)}`]);
  });
});
