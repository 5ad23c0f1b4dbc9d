/**
 * Every shipped playbook's ASL, executed: Task states call a worker double that keeps the worker
 * contract, task tokens are answered as `firebreak approve` answers them, and the path taken (steps
 * visited, each step's final status, the outcome) must equal the path the playbook's own XState machine
 * takes with the same scripted outcomes. The end-to-end run with the real worker (engine, simulated
 * cloud, journal) comes when the engine's run API is wired to `RunWorkerPhase`.
 */
import { describe, expect, it } from 'vitest';
import { actionIds, actions, getAction } from '../../src/actions/registry.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import type { PlaybookT } from '../../src/playbook/schema.js';
import { compileToAsl, type CompileOptions } from '../../src/sfn/compile.js';
import { AslExecution } from './asl-interpreter.js';
import { referenceRun, runInputs, workerDouble, type Script } from './worker-double.js';

const load = (name: string) => loadPlaybook(`playbooks/${name}.yaml`, { actionIds, actionInputs: (id) => actions.get(id)?.input }).playbook;

const INSTANCE = 'i-0123456789abcdef0';
const fleet = (n: number) => Array.from({ length: n }, (_, i) => `i-${(0x1000000 + i).toString(16).padStart(17, '0')}`);

async function execute(pb: PlaybookT, given: Record<string, unknown>, script: Script, opts: Partial<CompileOptions> = {}) {
  const asl = compileToAsl(pb, { permissionsOf: (a) => getAction(a).permissions, ...opts });
  const inputs = runInputs(pb, given);
  let exec!: AslExecution;
  const worker = workerDouble(script, () => exec);
  exec = new AslExecution(asl, worker.handler);
  const result = await exec.run({ inputs, run: { id: 'run-1', incident: 'inc-1', playbook: pb.id, approval: {} } });
  const ends = new Set(
    Object.entries(pb.steps)
      .filter(([, s]) => s.type === 'end')
      .map(([id]) => id),
  );
  const stepIds = new Set<string>();
  const walk = (steps: PlaybookT['steps']) => {
    for (const [id, s] of Object.entries(steps)) {
      if (s.type === 'end') ends.add(id);
      stepIds.add(id);
      if (s.type === 'parallel') s.branches.forEach((b) => walk(b.steps));
    }
  };
  walk(pb.steps);
  const visited = result.entered.filter((n) => stepIds.has(n) && !ends.has(n));
  const reference = await referenceRun(pb, inputs, script);
  return { result, visited, reference, calls: worker.calls, asl };
}

const statuses = (steps: Record<string, { status: string }>) =>
  Object.fromEntries(
    Object.entries(steps)
      .map(([k, v]) => [k, v.status])
      .sort(),
  );

interface Case {
  name: string;
  playbook: string;
  inputs: Record<string, unknown>;
  script: Script;
  opts?: Partial<CompileOptions>;
  outcome: string;
  path: string[];
}

const eicOutputs: Script['outputs'] = {
  'take-role': () => ({ roleName: 'web-role' }),
  resnapshot: ({ steps }) => ({ round: (steps.resnapshot?.output?.round ?? 1) + 1 }),
};

const CASES: Case[] = [
  {
    name: 'block-attack-source, approved',
    playbook: 'block-attack-source',
    inputs: { cidrs: ['203.0.113.0/24'], subnetIds: ['subnet-0123456789abcdef0'] },
    script: {},
    outcome: 'success',
    path: ['block'],
  },
  {
    name: 'block-attack-source, denied',
    playbook: 'block-attack-source',
    inputs: { cidrs: ['203.0.113.0/24'], subnetIds: ['subnet-0123456789abcdef0'] },
    script: { decide: { block: 'deny' } },
    outcome: 'success',
    path: ['block'],
  },
  {
    name: 'ec2-instance-compromise, DLM cadence, detach refused at minimum size',
    playbook: 'ec2-instance-compromise',
    inputs: { instanceId: INSTANCE, attackerCidrs: ['203.0.113.0/24'] },
    script: { outputs: eicOutputs, fail: { detach: { code: 'GroupAtMinimumSize' } } },
    outcome: 'success',
    path: [
      'isolate',
      'contain',
      'preserve',
      'detach',
      'snapshot',
      'cadence',
      'raise-frequency',
      'block',
      'take-role',
      'revoke-role-sessions',
      'open-case',
      'scaling',
      'scale-in',
      'forensics',
      'watch',
    ],
  },
  {
    name: 'ec2-instance-compromise, 15-minute loop of 3 sets',
    playbook: 'ec2-instance-compromise',
    inputs: { instanceId: INSTANCE, snapshotEveryMinutes: 15, snapshotCount: 3 },
    script: { outputs: eicOutputs },
    outcome: 'success',
    path: [
      'isolate',
      'contain',
      'preserve',
      'detach',
      'snapshot',
      'cadence',
      'block',
      'take-role',
      'revoke-role-sessions',
      'open-case',
      'scaling',
      'forensics',
      'watch',
      'pause',
      'resnapshot',
      'rounds',
      'pause',
      'resnapshot',
      'rounds',
    ],
  },
  {
    name: 'ec2-fleet-compromise, 50 instances',
    playbook: 'ec2-fleet-compromise',
    inputs: { imageIds: ['ami-0c55b159cbfafe1f0'] },
    script: { outputs: { find: () => ({ instanceIds: fleet(50) }), isolate: ({ item }) => ({ isolated: item }) } },
    outcome: 'success',
    path: ['find', 'any', 'isolate', 'preserve', 'detach', 'snapshot', 'forensics'],
  },
  {
    name: 'ec2-fleet-compromise, 50 instances as a Distributed Map, detach fails (onError → snapshot)',
    playbook: 'ec2-fleet-compromise',
    inputs: { imageIds: ['ami-0c55b159cbfafe1f0'] },
    script: { outputs: { find: () => ({ instanceIds: fleet(50) }) }, fail: { detach: { code: 'GroupAtMinimumSize' } } },
    opts: { distributedAbove: 20 },
    outcome: 'success',
    path: ['find', 'any', 'isolate', 'preserve', 'detach', 'snapshot', 'forensics'],
  },
  {
    name: 'ec2-fleet-compromise, nothing found',
    playbook: 'ec2-fleet-compromise',
    inputs: { imageIds: ['ami-0c55b159cbfafe1f0'] },
    script: { outputs: { find: () => ({ instanceIds: [] }) } },
    outcome: 'no-targets',
    path: ['find', 'any'],
  },
  {
    name: 'iam-credential-compromise, long-term key, quarantine denied',
    playbook: 'iam-credential-compromise',
    inputs: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE' },
    script: { outputs: { lookupKey: () => ({ userName: 'ci-bot' }) }, decide: { quarantineUser: 'deny' } },
    outcome: 'success',
    path: ['classify', 'lookupKey', 'disableKey', 'quarantineUser', 'alsoRole', 'openCase', 'reviewCloudTrail', 'rotateSecrets'],
  },
  {
    name: 'iam-credential-compromise, role sessions, disable retried after throttling',
    playbook: 'iam-credential-compromise',
    inputs: { roleName: 'web-role' },
    script: { fail: { revokeSessions: { code: 'Throttling', times: 1, transient: true } } },
    outcome: 'success',
    path: ['classify', 'revokeSessions', 'openCase', 'reviewCloudTrail', 'rotateSecrets'],
  },
  {
    name: 'iam-credential-compromise, nothing given',
    playbook: 'iam-credential-compromise',
    inputs: {},
    script: {},
    outcome: 'failure',
    path: ['classify'],
  },
  {
    name: 'release-instance, everything recorded',
    playbook: 'release-instance',
    inputs: { instanceId: INSTANCE, incident: 'inc-1', attackerCidrs: ['203.0.113.0/24'] },
    script: { outputs: { record: () => ({ scheduled: true, isolated: true, preserved: true, removedFromService: true }) } },
    outcome: 'success',
    path: ['record', 'confirm', 'lower-frequency', 'unblock', 'reconnect', 'return', 'unpreserve'],
  },
];

describe('compiled playbooks, executed', () => {
  it.each(CASES)('$name', async (c) => {
    const pb = load(c.playbook);
    const { result, visited, reference } = await execute(pb, c.inputs, c.script, c.opts);
    expect(visited).toEqual(c.path);
    // The XState machine enters a parallel step's regions without invoking anything for the step itself.
    const parallels = new Set(
      Object.entries(pb.steps)
        .filter(([, s]) => s.type === 'parallel')
        .map(([id]) => id),
    );
    expect(reference.visited).toEqual(c.path.filter((id) => !parallels.has(id)));
    if (c.outcome === 'failure') {
      expect(result).toMatchObject({ status: 'FAILED', error: 'Firebreak.Failure' });
    } else {
      expect(result.status).toBe('SUCCEEDED');
      const out = result.output as { outcome: string; steps: Record<string, { status: string }> };
      expect(out.outcome).toBe(c.outcome);
      expect(statuses(out.steps)).toEqual(statuses(reference.steps));
    }
    expect(reference.outcome).toBe(c.outcome);
  });

  it('a 50-instance fleet: every map step asks the worker once per instance, and approval once per step', async () => {
    const ids = fleet(50);
    const { calls, result } = await execute(
      load('ec2-fleet-compromise'),
      { imageIds: ['ami-0c55b159cbfafe1f0'] },
      { outputs: { find: () => ({ instanceIds: ids }), isolate: ({ item }) => ({ isolated: item }) } },
    );
    for (const step of ['isolate', 'preserve', 'detach', 'snapshot']) {
      expect(calls.filter((t) => t.stepId === step && t.phase === 'plan')).toHaveLength(1);
      const items = calls.filter((t) => t.stepId === step && t.phase === 'item');
      expect(items.map((t) => t.item)).toEqual(ids);
      expect(items.map((t) => t.stepKey)).toEqual(ids.map((_, i) => `${step}[${i}]`));
    }
    const steps = (result.output as { steps: Record<string, { output?: unknown }> }).steps;
    expect(steps.isolate!.output).toEqual(ids.map((id) => ({ isolated: id })));
  });

  it('the loop gives each visit its own journal key and waits the cadence', async () => {
    const { calls, result } = await execute(
      load('ec2-instance-compromise'),
      { instanceId: INSTANCE, snapshotEveryMinutes: 15, snapshotCount: 3 },
      { outputs: eicOutputs },
    );
    expect(calls.filter((t) => t.stepId === 'resnapshot').map((t) => t.stepKey)).toEqual(['resnapshot', 'resnapshot#2']);
    expect(result.waits).toEqual([
      { state: 'pause', seconds: 900 },
      { state: 'pause', seconds: 900 },
    ]);
  });

  it('a transient failure is retried under the same journal key; the step is not run again after it succeeded', async () => {
    const { calls } = await execute(
      load('iam-credential-compromise'),
      { roleName: 'web-role' },
      { fail: { revokeSessions: { code: 'Throttling', times: 2, transient: true } } },
    );
    expect(calls.filter((t) => t.stepId === 'revokeSessions').map((t) => `${t.phase}:${t.stepKey}`)).toEqual([
      'run:revokeSessions',
      'run:revokeSessions',
      'run:revokeSessions',
    ]);
  });

  it('a failure the step does not catch fails the execution with its code', async () => {
    const { result, reference } = await execute(
      load('block-attack-source'),
      { cidrs: ['203.0.113.0/24'], subnetIds: ['subnet-0123456789abcdef0'] },
      { fail: { block: { code: 'NetworkAclEntryLimitExceeded' } } },
    );
    expect(result).toMatchObject({ status: 'FAILED', error: 'NetworkAclEntryLimitExceeded' });
    expect(reference.final).toBe('__failed');
  });

  it('an approval answered with --abort stops the run: the step after it never runs', async () => {
    const { result, calls } = await execute(
      load('iam-credential-compromise'),
      { accessKeyId: 'AKIAIOSFODNN7EXAMPLE' },
      { outputs: { lookupKey: () => ({ userName: 'ci-bot' }) }, decide: { quarantineUser: 'abort' } },
    );
    expect(result).toMatchObject({ status: 'FAILED', error: 'Firebreak.Aborted' });
    expect(calls.map((t) => t.stepId)).not.toContain('openCase');
    expect(calls.filter((t) => t.stepId === 'quarantineUser').map((t) => t.phase)).toEqual(['plan']);
  });

  it('an approved step is planned (with a task token) before it is applied, and applied once', async () => {
    const { calls } = await execute(
      load('block-attack-source'),
      { cidrs: ['203.0.113.0/24'], subnetIds: ['subnet-0123456789abcdef0'] },
      {},
    );
    expect(calls.map((t) => `${t.phase}:${t.stepKey}:${t.taskToken ? 'token' : '-'}`)).toEqual(['plan:block:token', 'apply:block:-']);
  });

  it('a denied step is recorded as denied and never applied; the run goes on', async () => {
    const { calls, result } = await execute(
      load('block-attack-source'),
      { cidrs: ['203.0.113.0/24'], subnetIds: ['subnet-0123456789abcdef0'] },
      { decide: { block: 'deny' } },
    );
    expect(calls.map((t) => t.phase)).toEqual(['plan']);
    expect((result.output as { steps: Record<string, unknown> }).steps.block).toEqual({ status: 'denied' });
  });

  it.each([
    ['auto', ['run:isolate']],
    ['required', ['plan:isolate', 'apply:isolate']],
  ])('a step whose approval the route chooses (%s) takes that path', async (policy, expected) => {
    const pb = load('ec2-instance-compromise');
    const asl = compileToAsl(pb, { permissionsOf: (a) => getAction(a).permissions, approvalPerRun: ['isolate'] });
    let exec!: AslExecution;
    const worker = workerDouble({ outputs: eicOutputs }, () => exec);
    exec = new AslExecution(asl, worker.handler);
    const result = await exec.run({
      inputs: runInputs(pb, { instanceId: INSTANCE }),
      run: { id: 'run-1', incident: 'inc-1', playbook: pb.id, approval: { isolate: policy } },
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(worker.calls.filter((t) => t.stepId === 'isolate').map((t) => `${t.phase}:${t.stepKey}`)).toEqual(expected);
  });

  it('a step inside a parallel branch that a person denies ends its branch; the run goes on after the parallel step', async () => {
    const pb = load('ec2-instance-compromise');
    const asl = compileToAsl(pb, { permissionsOf: (a) => getAction(a).permissions, approvalPerRun: ['preserve'] });
    let exec!: AslExecution;
    const worker = workerDouble({ outputs: eicOutputs, decide: { preserve: 'deny' } }, () => exec);
    exec = new AslExecution(asl, worker.handler);
    const result = await exec.run({
      inputs: runInputs(pb, { instanceId: INSTANCE }),
      run: { id: 'run-1', incident: 'inc-1', playbook: pb.id, approval: { preserve: 'required' } },
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.entered).toContain('preserve.done');
    const steps = (result.output as { steps: Record<string, { status: string }> }).steps;
    expect(steps.preserve).toEqual({ status: 'denied' });
    expect(steps.detach!.status).toBe('applied');
    expect(worker.calls.filter((t) => t.stepId === 'preserve').map((t) => t.phase)).toEqual(['plan']);
    expect(worker.calls.map((t) => t.stepId)).toContain('snapshot');
  });
});
