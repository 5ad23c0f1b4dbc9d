/**
 * A runbook's example plan: the playbook run with `--dry-run` against the simulated demo world,
 * in this process, in a throw-away home folder. The plan shown is exactly what the engine and
 * the actions compute (no hand-written sample), and it is deterministic: fixed run id, incident
 * and simulated clock, steps in playbook order (parallel branches plan in any order).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { actions } from '../actions/registry.js';
import { Journal } from '../audit/journal.js';
import { ConfigSchema } from '../config/config.js';
import { SimClock } from '../core/clock.js';
import { InputError } from '../core/errors.js';
import { autoHost } from '../engine/auto-host.js';
import type { Change } from '../engine/events.js';
import { startRun } from '../engine/session.js';
import { chooseBackend } from '../backend/backend.js';
import { allSteps } from '../playbook/compile.js';
import { checkValue, compilePattern } from '../playbook/inputs.js';
import type { InputDeclT, LoadedPlaybook } from '../playbook/schema.js';
import { loadWorld } from '../sim/index.js';
import { DEMO_WORLD_EXAMPLES, EXAMPLE_INCIDENT, EXAMPLE_RUN_ID, INCIDENT_INPUTS } from './example-inputs.js';
import { demoWorldFile, packageRoot } from './paths.js';

export { EXAMPLE_INCIDENT, EXAMPLE_RUN_ID };

export interface ExampleStep {
  key: string;
  stepId: string;
  kind: 'plan' | 'choice' | 'wait' | 'skipped' | 'failed';
  action?: string;
  /** A lookup: it reads and changes nothing, so "no change" is all it can plan. */
  readOnly?: boolean;
  input?: unknown;
  items?: number;
  changes: Change[];
  alreadyDone: boolean;
  notes: string[];
  next?: string;
  until?: string;
  error?: { code: string; message: string };
}

export type ExamplePlan =
  | {
      available: true;
      world: string;
      inputs: Record<string, unknown>;
      steps: ExampleStep[];
      status: string;
      error?: { code: string; message: string };
    }
  | { available: false; world: string; reason: string };

/** Example values for every input the run needs (demo-world table, then `examples`, then `default`), or the required inputs none could be found for. */
export function exampleInputs(decls: Readonly<Record<string, InputDeclT>>): { inputs: Record<string, unknown>; missing: string[] } {
  const inputs: Record<string, unknown> = {};
  const missing: string[] = [];
  for (const [name, decl] of Object.entries(decls)) {
    const pattern = compilePattern(decl.pattern);
    const fits = (v: unknown) => v !== undefined && !('error' in pattern) && checkValue(v, decl, pattern.value) === undefined;
    const table = INCIDENT_INPUTS.has(name) ? EXAMPLE_INCIDENT : DEMO_WORLD_EXAMPLES[name];
    const candidate = [table, decl.examples?.[0], decl.default].find(fits);
    if (candidate !== undefined) {
      // Defaults are filled in by the run itself; only non-default values are passed, so the
      // example shows what a responder would type.
      if (candidate !== decl.default) inputs[name] = candidate;
    } else if (decl.required) missing.push(name);
  }
  return { inputs, missing };
}

export async function examplePlan(loaded: LoadedPlaybook, opts: { worldFile?: string } = {}): Promise<ExamplePlan> {
  const worldFile = opts.worldFile ?? demoWorldFile();
  const world = relative(packageRoot(), worldFile).split('\\').join('/');
  const { inputs, missing } = exampleInputs(loaded.playbook.inputs);
  if (missing.length > 0) {
    return {
      available: false,
      world,
      reason: `no example value for ${missing.map((m) => `\`${m}\``).join(', ')}: add \`examples:\` to ${missing.length === 1 ? 'that input' : 'those inputs'} in the playbook`,
    };
  }
  const home = mkdtempSync(join(tmpdir(), 'firebreak-docs-'));
  try {
    const clock = new SimClock((await loadWorld(worldFile)).time ?? '2026-01-01T00:00:00Z');
    const runsDir = join(home, 'runs');
    let outcome: Awaited<Awaited<ReturnType<typeof startRun>>['result']>;
    try {
      const handle = await startRun({
        run: { playbook: loaded.file, inputs, dryRun: true, runId: EXAMPLE_RUN_ID, incident: EXAMPLE_INCIDENT },
        backend: chooseBackend({ sim: worldFile, clock }),
        host: autoHost(),
        home,
        runsDir,
        clock,
        config: ConfigSchema.parse({}),
      });
      outcome = await handle.result;
    } catch (err) {
      if (err instanceof InputError) return { available: false, world, reason: `the dry run refused the example inputs: ${err.line}` };
      throw err;
    }
    const events = Journal.read(join(outcome.runDir, 'journal.jsonl'));
    return {
      available: true,
      world,
      inputs,
      steps: orderSteps(loaded, collectSteps(events)),
      status: outcome.status,
      ...(outcome.error && outcome.status !== 'planned' ? { error: { code: outcome.error.code, message: outcome.error.message } } : {}),
    };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

function collectSteps(events: ReadonlyArray<{ type: string; [k: string]: unknown }>): ExampleStep[] {
  const steps = new Map<string, ExampleStep>();
  const get = (key: string): ExampleStep => {
    let s = steps.get(key);
    if (!s) {
      s = { key, stepId: key.replace(/#\d+$/, ''), kind: 'plan', changes: [], alreadyDone: false, notes: [] };
      steps.set(key, s);
    }
    return s;
  };
  for (const e of events) {
    const key = e.step as string | undefined;
    if (!key) continue;
    switch (e.type) {
      case 'step.planned': {
        const s = get(key);
        const plan = e.plan as { changes: Change[]; alreadyDone: boolean; notes: string[] };
        Object.assign(s, { kind: 'plan', changes: plan.changes, alreadyDone: plan.alreadyDone, notes: plan.notes });
        if (e.action) {
          s.action = e.action as string;
          if (actions.get(s.action)?.mutating === false) s.readOnly = true;
        }
        if (e.input !== undefined) s.input = e.input;
        if (e.items !== undefined) s.items = e.items as number;
        break;
      }
      case 'choice.taken':
        Object.assign(get(key), { kind: 'choice', next: e.next as string });
        break;
      case 'wait.started':
        Object.assign(get(key), { kind: 'wait', until: e.until as string });
        break;
      case 'step.completed':
        if (e.status === 'condition-false')
          Object.assign(get(key), { kind: 'skipped', notes: ['skipped: its `when` condition is false for these inputs'] });
        break;
      case 'step.failed':
        Object.assign(get(key), { kind: 'failed', error: e.error as { code: string; message: string } });
        break;
    }
  }
  return [...steps.values()];
}

/** Playbook order, then visit number: the journal's order varies between parallel branches. */
function orderSteps(loaded: LoadedPlaybook, steps: ExampleStep[]): ExampleStep[] {
  const order = new Map(allSteps(loaded.playbook).map((s, i) => [s.id, i]));
  const visit = (key: string) => Number(/#(\d+)$/.exec(key)?.[1] ?? 1);
  return [...steps].sort((a, b) => (order.get(a.stepId) ?? 1e9) - (order.get(b.stepId) ?? 1e9) || visit(a.key) - visit(b.key));
}
