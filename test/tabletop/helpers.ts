/** Play a shipped scenario in-process, with scripted decisions from test/fixtures/scenarios. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDecisions } from '../../src/tabletop/decisions.js';
import { runExercise } from '../../src/tabletop/exercise.js';
import { loadScenario } from '../../src/tabletop/load.js';
import type { TimelineEntry } from '../../src/tabletop/log.js';
import type { ExerciseResult } from '../../src/tabletop/scoring.js';
import type { SimCloud, World } from '../../src/sim/index.js';

export interface Played {
  result: ExerciseResult;
  world: World;
  status(objective: string): string | undefined;
  entries(kind: TimelineEntry['kind'], ref?: string): TimelineEntry[];
}

export async function play(scenario: string, o: { decisions?: string; auto?: boolean; seed?: number } = {}): Promise<Played> {
  const loaded = await loadScenario(`scenarios/${scenario}.yaml`);
  const decisions = o.decisions ? await loadDecisions(`test/fixtures/scenarios/${o.decisions}.yaml`, loaded) : undefined;
  let sim: SimCloud | undefined;
  const result = await runExercise({
    scenario: loaded,
    ...(decisions ? { decisions } : {}),
    auto: !!o.auto,
    seed: o.seed ?? 1,
    dir: mkdtempSync(join(tmpdir(), 'fb-tabletop-')),
    onSim: (s) => (sim = s),
  });
  return {
    result,
    world: sim!.world,
    status: (id) => result.objectives.find((x) => x.id === id)?.status,
    entries: (kind, ref) =>
      result.timeline.filter((e) => e.kind === kind && (ref === undefined || e.ref === ref || e.ref?.startsWith(`${ref}#`))),
  };
}

/** The world of the small scenarios tests write inline: one instance with one interface in one subnet. */
export const ONE_INSTANCE_WORLD = `world:
  account: { id: "111122223333" }
  ec2:
    vpcs: [{ id: vpc-0a0a0a0a0a0a0a0a0, cidrBlock: 10.0.0.0/16 }]
    subnets: [{ id: subnet-0a0a0a0a0a0a0a0a1, vpcId: vpc-0a0a0a0a0a0a0a0a0, cidrBlock: 10.0.1.0/24 }]
    securityGroups: [{ id: sg-0a0a0a0a0a0a0a0a1, name: web, vpcId: vpc-0a0a0a0a0a0a0a0a0 }]
    instances: [{ id: i-0c0ffee0000000001, subnetId: subnet-0a0a0a0a0a0a0a0a1 }]
    networkInterfaces: [{ id: eni-0c0ffee0000000001, subnetId: subnet-0a0a0a0a0a0a0a0a1, groups: [sg-0a0a0a0a0a0a0a0a1], attachment: { instanceId: i-0c0ffee0000000001, deviceIndex: 0 } }]`;

/** A timeline entry's body: GuardDuty's crypto-mining finding about that instance. */
export const CRYPTO_FINDING = `    alert:
      guardduty:
        type: CryptoCurrency:EC2/BitcoinTool.B!DNS
        severity: 8
        resource: { resourceType: Instance, instanceDetails: { instanceId: i-0c0ffee0000000001 } }`;

/** The objective of those scenarios: the instance isolated. */
export const ISOLATED_OBJECTIVE = `objectives:
  - id: isolated
    title: Isolated
    instance-isolated: { instance: i-0c0ffee0000000001 }`;
