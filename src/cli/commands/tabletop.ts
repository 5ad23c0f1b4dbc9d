/**
 * `firebreak tabletop SCENARIO`: run a tabletop exercise against the simulated cloud on a simulated
 * clock. The facilitator view (stderr) shows the clock, each inject as it fires, what the players
 * and the attacker did and each objective as it is met or missed; the after-action report (Markdown
 * and HTML) and the JSON result are written to the exercise folder.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EXIT, InputError } from '../../core/errors.js';
import type { Decision } from '../../engine/events.js';
import { homeDir } from '../../engine/home.js';
import { loadDecisions } from '../../tabletop/decisions.js';
import { runExercise } from '../../tabletop/exercise.js';
import type { PlayerPrompt } from '../../tabletop/host.js';
import { findScenario, loadScenario } from '../../tabletop/load.js';
import { elapsed, type TimelineEntry } from '../../tabletop/log.js';
import { renderAfterAction } from '../../tabletop/report.js';
import type { ExerciseResult } from '../../tabletop/scoring.js';
import { formatPlan } from '../display.js';
import { c, err, out, printJson } from '../output.js';
import { choose } from '../prompts.js';

export interface TabletopCliOptions {
  auto?: boolean;
  seed?: string;
  speed?: string;
  decisions?: string;
  interactive?: boolean;
  out?: string;
  runsDir?: string;
  json?: boolean;
}

export async function tabletop(scenarioName: string, opts: TabletopCliOptions): Promise<void> {
  const seed = Number(opts.seed ?? '1');
  if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 32 - 1)
    throw new InputError(`--seed must be a whole number from 0 to ${2 ** 32 - 1}, got '${opts.seed}'`, { field: '--seed' });
  const speed = opts.speed === undefined ? undefined : Number(opts.speed);
  if (speed !== undefined && !(Number.isFinite(speed) && speed > 0))
    throw new InputError(`--speed must be a positive number of simulated seconds per real second, got '${opts.speed}'`, {
      field: '--speed',
    });

  const scenario = await loadScenario(findScenario(scenarioName));
  const decisions = opts.decisions ? await loadDecisions(opts.decisions, scenario) : undefined;
  const interactive = !opts.auto && !decisions;
  if (interactive && !process.stdin.isTTY && !opts.interactive) {
    throw new InputError('an exercise with players needs a terminal to ask them', {
      field: '--auto',
      hint: "add --auto (the playbooks' policy decides), --decisions FILE (scripted players) or --interactive (answers from stdin)",
    });
  }
  const dir = exerciseDir(scenario.scenario.id, seed, opts.out);

  const board = new Map<string, 'met' | 'missed'>();
  const ac = new AbortController();
  const onSignal = () => ac.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  let result: ExerciseResult;
  try {
    err(
      c.bold(`▶ tabletop ${scenario.scenario.id}: ${scenario.scenario.title}`) +
        c.dim(` · seed ${seed} · ${opts.auto ? 'automatic policy' : decisions ? 'scripted players' : 'players'}`),
    );
    result = await runExercise({
      scenario,
      ...(decisions ? { decisions } : {}),
      auto: !!opts.auto,
      seed,
      dir,
      ...(speed ? { speed } : {}),
      ...(interactive ? { prompt: terminalPrompt() } : {}),
      onEntry: (e) => {
        for (const l of facilitatorLines(e)) err(l);
        if (e.kind === 'objective') board.set(e.ref!, e.ok ? 'met' : 'missed');
        // After each run, where the objectives stand: the facilitator's cue for the hot wash.
        if (e.kind === 'run' && !/ starts playbook /.test(e.text))
          err(
            statusBoard(
              scenario.scenario.objectives.map((o) => o.id),
              board,
            ),
          );
      },
      signal: ac.signal,
    });
  } finally {
    process.off('SIGINT', onSignal);
  }

  const report = renderAfterAction(result, scenario);
  const files = { markdown: join(dir, 'after-action.md'), html: join(dir, 'after-action.html'), json: join(dir, 'result.json') };
  writeFileSync(files.markdown, report.markdown);
  writeFileSync(files.html, report.html);
  writeFileSync(files.json, `${JSON.stringify(result, null, 2)}\n`);

  if (opts.json) {
    printJson({
      scenario: result.scenario.id,
      score: result.score,
      objectives: result.objectives,
      expectation: result.expectation ?? null,
      files,
    });
  } else {
    out('');
    out(c.bold(`score: ${result.score.points} of ${result.score.total} points (${result.score.percent}%)`));
    for (const o of result.objectives) {
      out(
        `  ${o.status === 'met' ? c.green('✔ met   ') : c.red('✖ missed')} ${o.title} ${c.dim(`(${o.points} points${o.t !== undefined ? `, ${elapsed(o.t)}` : ''})`)}`,
      );
      if (o.status === 'missed') out(c.dim(`      ${o.detail}`));
    }
    if (result.expectation) {
      out(
        result.expectation.ok
          ? c.green(`expected score matched (${result.expectation.source})`)
          : c.red(`expected by the ${result.expectation.source}, not matched: ${result.expectation.problems.join('; ')}`),
      );
    }
    out(`after-action report: ${files.markdown}`);
    out(`                     ${files.html}`);
    out(`result:              ${files.json}`);
  }
  process.exitCode = result.expectation && !result.expectation.ok ? EXIT.failed : EXIT.ok;
}

/** `--out`, or a new folder under <home>/exercises named after the scenario and seed. */
function exerciseDir(id: string, seed: number, outDir: string | undefined): string {
  if (outDir) {
    const dir = resolve(outDir);
    if (existsSync(join(dir, 'result.json')) || (existsSync(join(dir, 'runs')) && readdirSync(join(dir, 'runs')).length > 0)) {
      throw new InputError(`${outDir} already holds an exercise`, {
        field: '--out',
        hint: 'choose another --out folder, or remove that one',
      });
    }
    mkdirSync(dir, { recursive: true });
    return dir;
  }
  const base = join(homeDir(), 'exercises');
  for (let n = 1; ; n++) {
    const dir = join(base, `${id}-seed${seed}-${n}`);
    if (!existsSync(dir)) {
      mkdirSync(dir, { recursive: true });
      return dir;
    }
  }
}

const KIND_STYLE: Record<TimelineEntry['kind'], (t: string) => string> = {
  alert: (t) => c.yellow(t),
  duplicate: (t) => c.dim(t),
  run: (t) => c.cyan(t),
  decision: (t) => t,
  step: (t) => t,
  attacker: (t) => c.red(t),
  player: (t) => c.cyan(t),
  ops: (t) => c.yellow(t),
  note: (t) => c.dim(t),
  question: (t) => c.bold(t),
  objective: (t) => t,
  snapshot: (t) => c.dim(t),
};

/** One timeline entry as the facilitator sees it: clock, kind, what happened, and what it teaches. */
export function facilitatorLines(e: TimelineEntry): string[] {
  const clock = c.dim(elapsed(e.t).padEnd(11));
  const mark =
    e.kind === 'objective'
      ? e.ok
        ? c.green('✔ ')
        : c.red('✖ ')
      : e.ok === false
        ? c.red('✖ ')
        : e.ok === true && (e.kind === 'attacker' || e.kind === 'player')
          ? c.yellow('✔ ')
          : '';
  const [first, ...rest] = e.text.split('\n');
  const lines = [`${clock}${KIND_STYLE[e.kind](e.kind.toUpperCase().padEnd(9))} ${mark}${first}`];
  for (const r of rest) lines.push(`${' '.repeat(21)}${r}`);
  if (e.detail && (e.kind === 'objective' || e.kind === 'decision' || e.kind === 'alert'))
    lines.push(c.dim(`${' '.repeat(21)}${e.detail}`));
  if (e.lesson) lines.push(`${' '.repeat(21)}${c.yellow(`→ ${e.lesson}`)}`);
  return lines;
}

/** `objectives: ✔ isolated  ✖ evidence  · no-collateral` (· still open). */
export function statusBoard(ids: readonly string[], status: ReadonlyMap<string, 'met' | 'missed'>): string {
  const mark = (id: string) =>
    status.get(id) === 'met' ? c.green(`✔ ${id}`) : status.get(id) === 'missed' ? c.red(`✖ ${id}`) : c.dim(`· ${id}`);
  return `${' '.repeat(11)}${c.bold('objectives:')} ${ids.map(mark).join('  ')}`;
}

/** Players answer at the terminal: approve / skip / abort, or done / skip for manual tasks. */
function terminalPrompt(): PlayerPrompt {
  return {
    async approve(view, signal) {
      err('');
      err(`${c.bold(view.stepId)} — ${view.title} ${c.dim(`(policy: ${view.policy})`)}`);
      for (const l of formatPlan(view.plan, '  ')) err(l);
      const decision = await choose<Decision>(
        `Players: apply step '${view.stepId}'?`,
        [
          { key: 'y', name: 'approve', value: 'approve' },
          { key: 's', name: 'skip this step', value: 'skip' },
          { key: 'q', name: 'abort the run', value: 'abort' },
        ],
        { signal, runId: view.runId },
      );
      return { decision };
    },
    async manual(view, signal) {
      err('');
      err(`${c.bold(view.stepId)} — ${c.yellow('manual task')}: ${view.title}`);
      for (const l of view.instructions.trim().split('\n')) err(`  ${l}`);
      const decision = await choose<Decision>(
        'Players: is the task done?',
        [
          { key: 'y', name: 'done', value: 'approve' },
          { key: 's', name: 'skip it', value: 'skip' },
          { key: 'q', name: 'abort the run', value: 'abort' },
        ],
        { signal, runId: view.runId },
      );
      return { decision };
    },
  };
}
