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
    entries: (kind, ref) => result.timeline.filter((e) => e.kind === kind && (ref === undefined || e.ref === ref || e.ref?.startsWith(`${ref}#`))),
  };
}
