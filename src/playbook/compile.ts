/**
 * Playbook → XState v5 machine. One generic compiler, no hand-written machine per playbook.
 *
 * The machine is the control-flow graph: one state per step (state id = step id, unique in the
 * whole playbook, so every transition targets `#<id>`), parallel steps become parallel states
 * with one region per branch. Every working step invokes the single `runStep` promise actor;
 * the engine provides its implementation with `machine.provide({ actors })` and keeps step data
 * (inputs, plans, outputs) itself, in the journal. That is deliberate: on restore XState restarts
 * in-flight invocations and loses `after` timers (statelyai/xstate#5331), so the journal, not the
 * machine snapshot, decides what has run; on resume the machine is replayed from the start and
 * `runStep` answers completed steps from the journal.
 */
import { assign, fromPromise, setup } from 'xstate';
import type { OnErrorT, PlaybookT, StepT } from './schema.js';

export interface RunStepInput {
  stepId: string;
}
/** What a step actor resolves to. Choice steps name the branch taken; others return nothing. */
export interface RunStepOutput {
  next?: string;
}

export interface MachineContext {
  outcome?: string;
  error?: unknown;
  halted?: unknown;
}

/** Errors that stop the run without taking any `onError` path (waiting, aborted, interrupted). */
export type HaltPredicate = (error: unknown) => boolean;

export const FINAL = { succeeded: '__succeeded', failed: '__failed', halted: '__halted' } as const;

type StateNodeConfig = Record<string, unknown>;

export function compilePlaybook(pb: PlaybookT, isHalt: HaltPredicate) {
  const base = setup({
    types: {
      context: {} as MachineContext,
      output: {} as MachineContext,
    },
    actors: {
      runStep: fromPromise<RunStepOutput, RunStepInput>(async () => {
        throw new Error('runStep is provided by the engine');
      }),
    },
  });

  const errorTransitions = (onError: OnErrorT | undefined, scopeErrorTarget: string) => {
    const list: unknown[] = [
      {
        guard: ({ event }: { event: { error: unknown } }) => isHalt(event.error),
        target: `#${FINAL.halted}`,
        actions: assign({ halted: ({ event }: { event: { error: unknown } }) => event.error }),
      },
    ];
    if (onError !== undefined) {
      const target = typeof onError === 'string' ? onError : onError.next;
      const codes = typeof onError === 'string' ? undefined : onError.codes;
      list.push({
        guard: ({ event }: { event: { error: unknown } }) => !codes || codes.includes(errorCode(event.error)),
        target: `#${target}`,
        actions: assign({ error: ({ event }: { event: { error: unknown } }) => event.error }),
      });
    }
    list.push({ target: scopeErrorTarget, actions: assign({ error: ({ event }: { event: { error: unknown } }) => event.error }) });
    return list;
  };

  const compileSteps = (
    steps: Record<string, StepT>,
    endTarget: string,
    errorTarget: string,
    topLevel: boolean,
  ): Record<string, StateNodeConfig> => {
    const states: Record<string, StateNodeConfig> = {};
    for (const [id, step] of Object.entries(steps)) {
      const nextTarget = (next: string | undefined) => (next ? `#${next}` : endTarget);
      const type = step.type ?? 'action';
      switch (type) {
        case 'end': {
          const outcome = (step as { outcome?: string }).outcome ?? 'success';
          states[id] = topLevel ? { id, type: 'final', entry: assign({ outcome }) } : { id, type: 'final' };
          break;
        }
        case 'choice': {
          const s = step as Extract<StepT, { type: 'choice' }>;
          const targets = [...new Set([...s.choices.map((c) => c.next), s.default])];
          states[id] = {
            id,
            invoke: {
              src: 'runStep',
              input: { stepId: id },
              onDone: targets.map((t) => ({
                guard: ({ event }: { event: { output: RunStepOutput } }) => event.output.next === t,
                target: `#${t}`,
              })),
              onError: errorTransitions(undefined, errorTarget),
            },
          };
          break;
        }
        case 'parallel': {
          const s = step as Extract<StepT, { type: 'parallel' }>;
          const branchError = s.onError ? `#${typeof s.onError === 'string' ? s.onError : s.onError.next}` : errorTarget;
          const regions: Record<string, StateNodeConfig> = {};
          s.branches.forEach((branch, i) => {
            const endId = `__end_${id}_${i}`;
            regions[`branch${i}`] = {
              initial: branch.start,
              states: { ...compileSteps(branch.steps, `#${endId}`, branchError, false), [endId]: { id: endId, type: 'final' } },
            };
          });
          states[id] = { id, type: 'parallel', states: regions, onDone: { target: nextTarget(s.next) } };
          break;
        }
        default: {
          const s = step as { next?: string; onError?: OnErrorT };
          states[id] = {
            id,
            invoke: {
              src: 'runStep',
              input: { stepId: id },
              onDone: { target: nextTarget(s.next) },
              onError: errorTransitions(s.onError, errorTarget),
            },
          };
        }
      }
    }
    return states;
  };

  const states = {
    ...compileSteps(pb.steps, `#${FINAL.succeeded}`, `#${FINAL.failed}`, true),
    [FINAL.succeeded]: { id: FINAL.succeeded, type: 'final', entry: assign({ outcome: 'success' }) },
    [FINAL.failed]: { id: FINAL.failed, type: 'final', entry: assign({ outcome: 'failure' }) },
    [FINAL.halted]: { id: FINAL.halted, type: 'final' },
  };

  // The states are generated from the playbook, so XState's per-literal config types cannot check them here.
  type MachineConfig = Parameters<typeof base.createMachine>[0];
  return base.createMachine({
    id: pb.id,
    context: {},
    initial: pb.start,
    states: states as MachineConfig['states'],
    output: ({ context }) => context,
  });
}

export type PlaybookMachine = ReturnType<typeof compilePlaybook>;

function errorCode(err: unknown): string {
  const e = err as { code?: unknown; name?: unknown };
  if (typeof e?.code === 'string') return e.code;
  if (typeof e?.name === 'string') return e.name;
  return 'Error';
}

/** Every step of a playbook, flattened (branch steps included), with the branch path it sits in. */
export function allSteps(pb: PlaybookT): Array<{ id: string; step: StepT; path: (string | number)[] }> {
  const out: Array<{ id: string; step: StepT; path: (string | number)[] }> = [];
  const walk = (steps: Record<string, StepT>, path: (string | number)[]) => {
    for (const [id, step] of Object.entries(steps)) {
      out.push({ id, step, path: [...path, id] });
      if (step.type === 'parallel') for (const [i, b] of step.branches.entries()) walk(b.steps, [...path, id, 'branches', i, 'steps']);
    }
  };
  walk(pb.steps, ['steps']);
  return out;
}
