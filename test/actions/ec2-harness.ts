/**
 * Actions as the engine runs them, against the simulated cloud: the real SDK clients with the
 * permission guard (a command the action did not declare fails), plan → apply → verify, and the
 * undo the action names, built from its output.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ActionContext, ActionDef, Check, Plan } from '../../src/actions/define.js';
import { getAction } from '../../src/actions/registry.js';
import { withCallContext } from '../../src/cloud/call-context.js';
import { createClients } from '../../src/cloud/clients.js';
import { permissionGuard } from '../../src/cloud/middleware.js';
import { ConfigSchema } from '../../src/config/config.js';
import { SimClock } from '../../src/core/clock.js';
import { guardrails } from '../../src/engine/guardrails.js';
import { createSimCloud, parseWorld, type SimCloud, type World } from '../../src/sim/index.js';

export const WORLD_FILE = fileURLToPath(new URL('../fixtures/worlds/ec2-response.yaml', import.meta.url));
const WORLD_TEXT = readFileSync(WORLD_FILE, 'utf8');

export const WEB1 = 'i-0b1000000000000b1';
export const WEB2 = 'i-0b2000000000000b2';
export const SOLO = 'i-0b3000000000000b3';
export const VAULT = 'i-0b4000000000000b4';
export const SUBNET_A = 'subnet-0a1000000000000a1';
export const SUBNET_B = 'subnet-0a2000000000000a2';
export const SUBNET_CROWDED = 'subnet-0a3000000000000a3';
export const ACL_DEFAULT = 'acl-0d0000000000000d0';
export const ACL_WEB = 'acl-0e1000000000000e1';
export const ACL_FULL = 'acl-0e3000000000000e3';
export const ACL_SPARE = 'acl-0e9000000000000e9';
export const WEB1_VOLUMES = ['vol-0a1100000000000a1', 'vol-0a1200000000000a2', 'vol-0a1300000000000a3'];

export function fixtureWorld(edit?: (w: World) => void): World {
  const w = parseWorld(WORLD_TEXT, WORLD_FILE);
  edit?.(w);
  return w;
}

export interface Run<O = any> {
  input: any;
  plan: Plan;
  output: O;
  checks: Check[];
  /** Operations this run sent, as `service:Operation`. */
  calls: string[];
}

const READ_ONLY = /^(Describe|Get|List)/;
/** The calls that could change the world (everything but Describe/Get/List). */
export const mutating = (calls: string[]) => calls.filter((c) => !READ_ONLY.test(c.split(':')[1]!));

export function harness(world: World = fixtureWorld(), opts: { runId?: string; incident?: string } = {}) {
  const clock = new SimClock(world.time);
  const sim: SimCloud = createSimCloud(world, { clock });
  const aws = createClients({
    region: sim.region,
    credentials: sim.credentials,
    plugins: [permissionGuard(), sim.plugin],
    maxAttempts: 1,
    retryMode: 'standard',
  });
  const notes: Array<{ message: string; data?: Record<string, unknown> }> = [];
  const runId = opts.runId ?? '20260301-120000-abc123';
  const ctx: ActionContext = {
    aws,
    run: { id: runId, incident: opts.incident ?? 'IR-7', playbook: 'test', step: 'step' },
    clock,
    guard: guardrails(ConfigSchema.parse({})),
    log: (message, data) => void notes.push({ message, ...(data ? { data } : {}) }),
    signal: new AbortController().signal,
  };
  const inStep = <T>(def: ActionDef, fn: () => Promise<T>) =>
    withCallContext({ step: 'step', action: def.id, permissions: new Set(def.permissions) }, fn);
  const callsSince = (seq: number) => sim.calls.filter((c) => c.seq > seq).map((c) => c.action);
  const lastSeq = () => sim.calls.at(-1)?.seq ?? 0;

  const h = {
    sim,
    world,
    clock,
    ctx,
    notes,
    callsSince,
    lastSeq,
    plan: async (def: ActionDef, raw: unknown) => {
      const input = def.input.parse(raw);
      return inStep(def, () => def.plan(ctx, input));
    },
    /** plan → apply → verify, as the engine does (without approval). */
    run: async <O = any>(def: ActionDef, raw: unknown): Promise<Run<O>> => {
      const from = lastSeq();
      const input = def.input.parse(raw);
      const plan = await inStep(def, () => def.plan(ctx, input));
      const output = await inStep(def, () => def.apply(ctx, input, plan));
      const checks = await inStep(def, () => def.verify(ctx, input, output));
      return { input, plan, output: output as O, checks, calls: callsSince(from) };
    },
    /** The undo the action names, with the input built from its output. */
    undo: async (def: ActionDef, done: Run): Promise<Run> => {
      if (!def.undo) throw new Error(`${def.id} has no undo`);
      return h.run(getAction(def.undo.action), def.undo.input(done.output, done.input));
    },
  };
  return h;
}

export const allOk = (checks: Check[]) => checks.every((c) => c.ok);
export const clone = <T>(v: T): T => structuredClone(v);
