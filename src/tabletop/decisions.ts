/**
 * Scripted player decisions (`--decisions FILE`): per step key, approve / skip / abort (steps that
 * change the cloud) or done / skip / abort (manual tasks), optionally with the simulated minutes
 * the decision took; and player actions done by hand, outside the playbook (a one-step security
 * group swap in the console, a key deleted with the AWS CLI), at a time or instead of a skipped
 * step. Tests and CI play the classic mistakes with these files.
 *
 * A step key is the playbook's step id (`isolate`), its n-th visit (`isolate#2`), or either
 * prefixed with the playbook id (`ec2-instance-compromise:isolate`) when several playbooks run.
 */
import * as z from 'zod';
import { actions } from '../actions/registry.js';
import { parseDuration } from '../core/clock.js';
import { InputError, type SourcePos } from '../core/errors.js';
import { combine, issuesToErrors, parseYamlSource, suggestion, validateWith, type SourcePath } from '../core/yaml-source.js';
import { allSteps } from '../playbook/compile.js';
import type { LoadedScenario } from './load.js';
import { commandFor } from './sdk-commands.js';
import { ExpectSchema, Name } from './scenario.js';
import { readInputFile } from '../core/read-input.js';

const Duration = z.union([z.string().regex(/^\d+(\.\d+)?(ms|s|m|h|d)?$/, 'a duration such as 30s, 15m or 2h'), z.number().nonnegative()]);
const Service = z.enum(['ec2', 'iam', 'sts', 'autoscaling', 'elbv2', 'dlm', 'support', 'sns']);

const playerActionShape = {
  id: Name.optional(),
  title: z.string().optional(),
  action: z
    .string()
    .regex(/^[a-z0-9-]+\.[a-z0-9-]+$/, 'an action id such as ec2.restore-security-groups')
    .optional()
    .describe('a Firebreak action, run plan → apply → verify'),
  with: z.record(z.string(), z.unknown()).optional(),
  call: z
    .strictObject({
      service: Service,
      operation: z.string().regex(/^[A-Z][A-Za-z0-9]+$/),
      input: z.record(z.string(), z.unknown()).default({}),
    })
    .optional()
    .describe('one AWS call, as a person makes it in the console or the AWS CLI'),
};
const oneOfActionOrCall = (a: { action?: unknown; call?: unknown; with?: unknown }, ctx: z.RefinementCtx) => {
  if ((a.action === undefined) === (a.call === undefined))
    ctx.addIssue({ code: 'custom', path: [], message: "a player action needs one of 'action' or 'call'" });
  if (a.with !== undefined && a.action === undefined)
    ctx.addIssue({ code: 'custom', path: ['with'], message: "'with' gives the inputs of an 'action'" });
};
export const PlayerActionSchema = z.strictObject(playerActionShape).superRefine(oneOfActionOrCall);
const TimedPlayerAction = z.strictObject({ at: Duration, ...playerActionShape }).superRefine(oneOfActionOrCall);

const Word = z.enum(['approve', 'skip', 'abort', 'done']);
const DecisionObject = z.strictObject({
  decision: Word,
  minutes: z.number().nonnegative().optional().describe('simulated minutes the decision (or the manual task) took'),
  note: z.string().optional(),
  manual: z.enum(['done', 'skip', 'abort']).optional().describe('the answer when the step falls back to a manual task'),
  instead: PlayerActionSchema.optional().describe('what the players do by hand instead of the skipped step'),
});

export const decisionsSchema = z.strictObject({
  scenario: Name.optional().describe('the scenario these decisions are for (checked when given)'),
  steps: z
    .record(
      z.string().regex(/^([a-z][a-z0-9-]*:)?[a-z][a-zA-Z0-9_-]*(#\d+)?$/, 'a step key such as isolate, isolate#2 or playbook-id:isolate'),
      z.union([Word, DecisionObject]),
    )
    .default({}),
  actions: z.array(TimedPlayerAction).default([]).describe('player actions at simulated times, outside any playbook'),
  expect: ExpectSchema.optional().describe('what this set of decisions must score'),
});

export type PlayerActionT = z.output<typeof PlayerActionSchema>;
export type TimedPlayerActionT = z.output<typeof TimedPlayerAction>;
export type DecisionWord = z.output<typeof Word>;
export interface StepDecision {
  decision: DecisionWord;
  minutes?: number;
  note?: string;
  manual?: 'done' | 'skip' | 'abort';
  instead?: PlayerActionT;
}

export interface LoadedDecisions {
  file: string;
  scenario?: string;
  steps: ReadonlyMap<string, StepDecision>;
  actions: TimedPlayerActionT[];
  expect?: z.output<typeof ExpectSchema>;
  /** The decision for a step of a playbook: `playbook:key` first, then `key`. */
  forStep(playbookId: string, key: string): StepDecision | undefined;
}

export const NO_DECISIONS: LoadedDecisions = { file: '(none)', steps: new Map(), actions: [], forStep: () => undefined };

export async function loadDecisions(file: string, scenario: LoadedScenario): Promise<LoadedDecisions> {
  const text = readInputFile(file, 'decisions', '--decisions');
  const source = parseYamlSource(text, file);
  const d = validateWith(decisionsSchema, source, file);
  const problems: InputError[] = [];
  const at = (path: SourcePath, message: string, key = false) => {
    const pos: SourcePos | undefined = key ? source.keyPosOf(path) : source.posOf(path);
    problems.push(new InputError(message, { ...(pos ? { pos } : {}), field: path.map(String).join('.') }));
  };
  if (d.scenario !== undefined && d.scenario !== scenario.scenario.id)
    at(['scenario'], `these decisions are for scenario '${d.scenario}', not '${scenario.scenario.id}'`);

  // Step types across the playbooks the scenario runs: manual steps take done, the others approve.
  const stepTypes = new Map<string, Map<string, string>>();
  for (const loaded of scenario.playbooks.values()) {
    stepTypes.set(loaded.playbook.id, new Map(allSteps(loaded.playbook).map((x) => [x.id, x.step.type ?? 'action'])));
  }
  const steps = new Map<string, StepDecision>();
  for (const [key, raw] of Object.entries(d.steps)) {
    const dec: StepDecision = typeof raw === 'string' ? { decision: raw } : raw;
    const m = /^(?:([a-z][a-z0-9-]*):)?([^#]+)(?:#\d+)?$/.exec(key)!;
    const [pb, stepId] = [m[1], m[2]!];
    const candidates = pb ? (stepTypes.has(pb) ? [stepTypes.get(pb)!] : []) : [...stepTypes.values()];
    if (pb && candidates.length === 0) {
      at(['steps', key], `the scenario runs no playbook '${pb}'${suggestion(pb, stepTypes.keys())}`, true);
      continue;
    }
    const types = candidates.map((c) => c.get(stepId)).filter((t): t is string => t !== undefined);
    if (types.length === 0) {
      at(
        ['steps', key],
        `no playbook of this scenario has a step '${stepId}'${suggestion(
          stepId,
          candidates.flatMap((c) => [...c.keys()]),
        )}`,
        true,
      );
      continue;
    }
    const manual = types.every((t) => t === 'manual');
    const decidable = types.some((t) => t === 'action' || t === 'map');
    if (manual && dec.decision === 'approve') at(['steps', key], `step '${stepId}' is a manual task: answer done, skip or abort`);
    if (!manual && !decidable) at(['steps', key], `step '${stepId}' asks no decision (it is a ${types[0]} step)`);
    if (decidable && !manual && dec.decision === 'done')
      at(['steps', key], `step '${stepId}' changes the cloud: answer approve, skip or abort (use 'manual: done' for its manual fallback)`);
    if (dec.instead && dec.decision !== 'skip') at(['steps', key, 'instead'], "'instead' goes with decision: skip");
    if (dec.manual && manual) at(['steps', key, 'manual'], `step '${stepId}' is a manual task: give its answer as the decision`);
    if (dec.instead) await checkPlayerAction(dec.instead, ['steps', key, 'instead'], source, at, problems);
    steps.set(key, dec);
  }
  for (const [i, a] of d.actions.entries()) await checkPlayerAction(a, ['actions', i], source, at, problems);
  if (problems.length > 0) throw combine(problems);
  d.actions.sort((a, b) => parseDuration(a.at) - parseDuration(b.at));
  return {
    file,
    ...(d.scenario ? { scenario: d.scenario } : {}),
    steps,
    actions: d.actions,
    ...(d.expect ? { expect: d.expect } : {}),
    forStep: (playbookId, key) => steps.get(`${playbookId}:${key}`) ?? steps.get(key),
  };
}

async function checkPlayerAction(
  a: PlayerActionT,
  path: SourcePath,
  source: ReturnType<typeof parseYamlSource>,
  at: (p: SourcePath, m: string, key?: boolean) => void,
  problems: InputError[],
): Promise<void> {
  if (a.action !== undefined) {
    const def = actions.get(a.action);
    if (!def) {
      at([...path, 'action'], `unknown action '${a.action}'${suggestion(a.action, actions.keys())}`);
      return;
    }
    const parsed = def.input.safeParse(a.with ?? {});
    if (!parsed.success) problems.push(...issuesToErrors(parsed.error.issues, def.input as never, source, [...path, 'with']));
  }
  if (a.call && !(await commandFor(a.call.service, a.call.operation)))
    at([...path, 'call', 'operation'], `${a.call.service} has no operation '${a.call.operation}'`);
}
