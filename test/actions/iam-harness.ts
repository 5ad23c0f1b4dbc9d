/**
 * Actions of the iam and support families driven as the engine drives them: real SDK clients
 * answered by the simulated cloud, the permission guard on every client, and each phase run
 * inside the call context that carries the action's declared permissions.
 */
import { parse as parseYaml } from 'yaml';
import { createClients, type AwsClients } from '../../src/cloud/clients.js';
import { withCallContext } from '../../src/cloud/call-context.js';
import { permissionGuard } from '../../src/cloud/middleware.js';
import { ConfigSchema } from '../../src/config/config.js';
import { SimClock } from '../../src/core/clock.js';
import { guardrails } from '../../src/engine/guardrails.js';
import type { ActionContext, ActionDef, Check, Plan } from '../../src/actions/define.js';
import { createSimCloud, worldSchema, type SimCloud, type World } from '../../src/sim/index.js';

export const ACCOUNT = '111122223333';
export const RUN_ID = '20260101-000000-a1b2c3';
export const LEAKED_KEY = 'AKIAIOSFODNN7DEPLOY1';
export const OTHER_KEY = 'AKIAI44QH8DHBDEPLOY2';
export const INSTANCE = 'i-0abc123def4567890';
export const WEB_PROFILE_ARN = `arn:aws:iam::${ACCOUNT}:instance-profile/web-app-profile`;
export const QUARANTINE_PROFILE_ARN = `arn:aws:iam::${ACCOUNT}:instance-profile/firebreak-quarantine`;

/** A small account: a leaked deploy key, an instance role with a live session, a service-linked role. */
export const WORLD_YAML = `
account: { id: "${ACCOUNT}" }
region: us-east-1
caller: { arn: "arn:aws:iam::${ACCOUNT}:user/oncall-responder", userId: AIDAEXAMPLEONCALL0001 }
time: "2026-01-01T00:00:00Z"
ec2:
  vpcs: [{ id: vpc-0a1b2c3d4e5f60718, cidrBlock: 10.0.0.0/16 }]
  subnets: [{ id: subnet-0aa11bb22cc33dd44, vpcId: vpc-0a1b2c3d4e5f60718, cidrBlock: 10.0.1.0/24, availabilityZone: us-east-1a }]
  instances:
    - { id: ${INSTANCE}, subnetId: subnet-0aa11bb22cc33dd44, tags: { Name: web-1 } }
    - { id: i-0fedcba9876543210, subnetId: subnet-0aa11bb22cc33dd44, tags: { Name: db-1, "firebreak:protected": "true" } }
  iamInstanceProfileAssociations:
    - { id: iip-assoc-0123456789abcdef0, instanceId: ${INSTANCE}, instanceProfileArn: "${WEB_PROFILE_ARN}" }
iam:
  users:
    - { name: oncall-responder, id: AIDAEXAMPLEONCALL0001 }
    - name: deploy-bot
      accessKeys:
        - { id: ${LEAKED_KEY}, createDate: "2025-06-01T00:00:00Z", lastUsed: { date: "2025-12-31T23:41:00Z", service: ec2, region: us-east-1 } }
        - { id: ${OTHER_KEY}, status: Inactive, createDate: "2025-09-15T00:00:00Z" }
    - name: ci-bot
      accessKeys: [{ id: AKIAIOSFODNN7CIBOT01 }]
    - name: vault-admin
      tags: { "firebreak:protected": "true" }
      accessKeys: [{ id: AKIAIOSFODNN7VAULT01 }]
  roles:
    - name: web-app-role
      trustPolicy: { Version: "2012-10-17", Statement: [{ Effect: Allow, Principal: { Service: ec2.amazonaws.com }, Action: "sts:AssumeRole" }] }
    - name: firebreak-quarantine-role
      trustPolicy: { Version: "2012-10-17", Statement: [{ Effect: Allow, Principal: { Service: ec2.amazonaws.com }, Action: "sts:AssumeRole" }] }
    - name: AWSServiceRoleForAutoScaling
      path: /aws-service-role/autoscaling.amazonaws.com/
      trustPolicy: { Version: "2012-10-17", Statement: [{ Effect: Allow, Principal: { Service: autoscaling.amazonaws.com }, Action: "sts:AssumeRole" }] }
  instanceProfiles:
    - { name: web-app-profile, roles: [web-app-role] }
    - { name: firebreak-quarantine, roles: [firebreak-quarantine-role] }
  sessions:
    - { sessionId: imds-web-1, roleArn: "arn:aws:iam::${ACCOUNT}:role/web-app-role", accessKeyId: ASIAEXAMPLEWEB1IMDS0, issuedAt: "2025-12-31T23:00:00Z", expiresAt: "2026-01-01T05:00:00Z" }
support:
  plan: business
`;

export function testWorld(edit?: (w: any) => void): World {
  const raw = parseYaml(WORLD_YAML);
  edit?.(raw);
  return worldSchema.parse(raw) as World;
}

export interface Bench {
  sim: SimCloud;
  world: World & Record<string, any>;
  clock: SimClock;
  aws: AwsClients;
  ctx: ActionContext;
  notes: string[];
  /** Mutating calls answered since `from` (a count of sim.calls), as `service:Operation`. */
  writesSince(from: number): string[];
  plan<I>(def: ActionDef<I>, input: unknown): Promise<Plan<any>>;
  apply<I>(def: ActionDef<I>, input: unknown, plan: Plan<any>): Promise<any>;
  verify<I>(def: ActionDef<I>, input: unknown, output: unknown): Promise<Check[]>;
  /** plan → apply → verify, as the engine runs a step; returns all three. */
  run<I>(def: ActionDef<I>, input: unknown): Promise<{ plan: Plan<any>; output: any; checks: Check[] }>;
}

const READ = /^(Describe|Get|List)/;

export function bench(world: World = testWorld(), opts: { runId?: string; facts?: Record<string, unknown>; step?: string } = {}): Bench {
  const clock = new SimClock(world.time);
  const sim = createSimCloud(world, { clock });
  const aws = createClients({
    region: sim.region,
    credentials: sim.credentials,
    plugins: [permissionGuard(), sim.plugin],
    maxAttempts: 1,
    retryMode: 'standard',
  });
  const notes: string[] = [];
  const step = opts.step ?? 'step';
  const ctx: ActionContext = {
    aws,
    run: { id: opts.runId ?? RUN_ID, incident: 'INC-42', playbook: 'test-playbook', step },
    clock,
    guard: guardrails(ConfigSchema.parse({})),
    log: (m) => void notes.push(m),
    signal: new AbortController().signal,
    facts: opts.facts ?? { inputs: {}, steps: {} },
  };
  const inCall = <T>(def: ActionDef, fn: () => Promise<T>) =>
    withCallContext({ step, action: def.id, permissions: new Set(def.permissions) }, fn);
  const b: Bench = {
    sim,
    world: world as Bench['world'],
    clock,
    aws,
    ctx,
    notes,
    writesSince: (from) =>
      sim.calls
        .slice(from)
        .filter((c) => !READ.test(c.operation) && !c.error)
        .map((c) => c.action),
    plan: async (def, input) => inCall(def, () => def.plan(ctx, def.input.parse(input))),
    apply: async (def, input, plan) => inCall(def, () => def.apply(ctx, def.input.parse(input), plan)),
    verify: async (def, input, output) => inCall(def, () => def.verify(ctx, def.input.parse(input), output)),
    async run(def, input) {
      const plan = await b.plan(def, input);
      const output = await b.apply(def, input, plan);
      const checks = await b.verify(def, input, output);
      return { plan, output, checks };
    },
  };
  return b;
}

/** The rejection of a promise (fails the test when it resolves). */
export async function rejection(p: Promise<unknown>): Promise<Error & { code?: string; hint?: string }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a failure, but it succeeded');
}

export const user = (w: any, name: string) => w.iam.users.find((u: any) => u.name === name);
export const role = (w: any, name: string) => w.iam.roles.find((r: any) => r.name === name);
