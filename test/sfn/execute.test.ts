/**
 * Every shipped playbook's ASL, executed by aws-local-stepfunctions (an independent interpreter): Task
 * states call a worker double behind the real worker contract, task tokens are answered through
 * SendTaskSuccess / SendTaskFailure as `firebreak approve` answers them, and the path taken (steps
 * visited, each step's final status, the outcome) must equal the path the playbook's own XState
 * machine takes with the same scripted outcomes. The end-to-end run with the real worker (engine,
 * simulated cloud, journal) comes when the engine's run API is wired to `RunWorkerPhase`.
 */
import { describe, expect, it } from 'vitest';
import { actionIds, actions, getAction } from '../../src/actions/registry.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import type { PlaybookT } from '../../src/playbook/schema.js';
import { answerTask } from '../../src/sfn/answer.js';
import { compileToAsl, type CompileOptions } from '../../src/sfn/compile.js';
import { LOCAL_SFN_RUNS, NODE_MAJOR, runLocal, TaskTokens } from './local-sfn.js';
import { referenceRun, runInputs, workerDouble, type Script } from './worker-double.js';

const load = (name: string) => loadPlaybook(`playbooks/${name}.yaml`, { actionIds, actionInputs: (id) => actions.get(id)?.input }).playbook;

const INSTANCE = 'i-0123456789abcdef0';
const WORKER = 'arn:aws:lambda:us-east-1:111122223333:function:firebreak-worker';
const fleet = (n: number) => Array.from({ length: n }, (_, i) => `i-${(0x1000000 + i).toString(16).padStart(17, '0')}`);

function stepIdsOf(pb: PlaybookT) {
  const ids = new Set<string>();
  const ends = new Set<string>();
  const walk = (steps: PlaybookT['steps']) => {
    for (const [id, s] of Object.entries(steps)) {
      ids.add(id);
      if (s.type === 'end') ends.add(id);
      if (s.type === 'parallel') for (const b of s.branches) walk(b.steps);
    }
  };
  walk(pb.steps);
  return { ids, ends };
}

async function execute(
  pb: PlaybookT,
  given: Record<string, unknown>,
  script: Script,
  opts: Partial<CompileOptions> = {},
  approval: Record<string, 'auto' | 'required'> = {},
) {
  const asl = compileToAsl(pb, { permissionsOf: (a) => getAction(a).permissions, workerFunction: WORKER, ...opts });
  const inputs = runInputs(pb, given);
  const tokens = new TaskTokens();
  const worker = workerDouble(pb, script, tokens.client);
  const result = await runLocal(
    asl,
    { inputs, run: { id: 'run-1', incident: 'inc-1', playbook: pb.id, approval } },
    worker.handler,
    tokens,
  );
  expect(worker.answerErrors).toEqual([]);
  expect(tokens.waiting).toBe(0);
  const { ids, ends } = stepIdsOf(pb);
  const visited = result.entered.filter((n) => ids.has(n) && !ends.has(n));
  const reference = await referenceRun(pb, inputs, script);
  return { result, visited, reference, calls: worker.calls, asl, tokens };
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

describe.skipIf(!LOCAL_SFN_RUNS)(
  `compiled playbooks, executed by aws-local-stepfunctions${LOCAL_SFN_RUNS ? '' : ` (skipped: it needs Node >= 22, this is Node ${process.versions.node})`}`,
  () => {
    it('runs on Node 22 or later', () => {
      expect(NODE_MAJOR).toBeGreaterThanOrEqual(22);
    });

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
        expect(result.output.outcome).toBe(c.outcome);
        expect(statuses(result.output.steps)).toEqual(statuses(reference.steps));
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
      expect(result.status).toBe('SUCCEEDED');
      for (const step of ['isolate', 'preserve', 'detach', 'snapshot']) {
        expect(calls.filter((t) => t.stepId === step && t.phase === 'plan')).toHaveLength(1);
        const items = calls.filter((t) => t.stepId === step && t.phase === 'item');
        expect(items.map((t) => t.item).sort()).toEqual([...ids].sort());
        expect(items.map((t) => t.stepKey).sort()).toEqual(ids.map((_, i) => `${step}[${i}]`).sort());
      }
      // The record keeps the outputs in item order, whatever order the items finished in.
      expect(result.output.steps.isolate.output).toEqual(ids.map((id) => ({ isolated: id })));
      expect(result.output.steps.preserve.output).toEqual(ids.map(() => null));
      // Each map ran with its rate budget: the library runs at most MaxConcurrency iterations at once.
      expect(result.entered.filter((n) => n === 'isolate.apply.inline.item')).toHaveLength(50);
    });

    it('the loop gives each visit its own journal key and waits what the worker worked out', async () => {
      const { calls, result } = await execute(
        load('ec2-instance-compromise'),
        { instanceId: INSTANCE, snapshotEveryMinutes: 15, snapshotCount: 3 },
        { outputs: eicOutputs },
      );
      expect(calls.filter((t) => t.stepId === 'resnapshot').map((t) => t.stepKey)).toEqual(['resnapshot', 'resnapshot#2']);
      expect(calls.filter((t) => t.stepId === 'rounds').map((t) => t.stepKey)).toEqual(['rounds', 'rounds#2']);
      const waits = result.events.filter((e) => e.type === 'StateEntered' && (e as any).state.name === 'pause.wait');
      expect(waits.map((e) => (e as any).state.input.wait.seconds)).toEqual([900, 900]);
    });

    it('a transient failure is retried under the same journal key; the step is not run again after it succeeded', async () => {
      const { calls, result } = await execute(
        load('iam-credential-compromise'),
        { roleName: 'web-role' },
        { fail: { revokeSessions: { code: 'Throttling', times: 2, transient: true } } },
      );
      expect(calls.filter((t) => t.stepId === 'revokeSessions').map((t) => `${t.phase}:${t.stepKey}`)).toEqual([
        'run:revokeSessions',
        'run:revokeSessions',
        'run:revokeSessions',
      ]);
      expect(result.events.filter((e) => e.type === 'StateRetried').map((e) => (e as any).state.name)).toEqual([
        'revokeSessions',
        'revokeSessions',
      ]);
      expect(result.output.steps.revokeSessions.status).toBe('applied');
    });

    it('retries run out: the failure goes on to the Catch with its code', async () => {
      const { result, calls } = await execute(
        load('ec2-instance-compromise'),
        { instanceId: INSTANCE },
        { outputs: eicOutputs, fail: { detach: { code: 'Throttling', transient: true } } },
      );
      expect(calls.filter((t) => t.stepId === 'detach')).toHaveLength(3); // attempts: 3
      expect(result.status).toBe('SUCCEEDED');
      expect(result.output.steps.detach).toEqual({
        status: 'failed',
        error: { code: 'Firebreak.Transient', message: 'detach failed (scripted)' },
      });
      expect(result.entered).toContain('detach.failed');
      expect(result.entered).toContain('detach-by-hand');
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
      expect(result).toMatchObject({ status: 'FAILED', error: 'Firebreak.Aborted', cause: 'aborted by tester' });
      expect(calls.map((t) => t.stepId)).not.toContain('openCase');
      // Planned, then the run's end (journaled by the step's `.uncaught` task, which fails with the abort): never applied.
      expect(calls.filter((t) => t.stepId === 'quarantineUser').map((t) => t.phase)).toEqual(['plan', 'end']);
    });

    it('an approved step is planned with its own task token, waits for SendTaskSuccess, and is applied once', async () => {
      const { calls, tokens, result } = await execute(
        load('block-attack-source'),
        { cidrs: ['203.0.113.0/24'], subnetIds: ['subnet-0123456789abcdef0'] },
        {},
      );
      expect(calls.map((t) => `${t.phase}:${t.stepKey}:${t.taskToken ?? '-'}`)).toEqual([
        `plan:block:${tokens.issued[0]}`,
        'apply:block:-',
        'end:done:-',
      ]);
      expect(result.output.steps.block.status).toBe('applied');
      // An answered token is gone: answering again is refused as Step Functions refuses it.
      await expect(
        answerTask(tokens.client, tokens.issued[0]!, { kind: 'approval', decision: 'approve', by: 'late' }),
      ).rejects.toMatchObject({
        name: 'TaskDoesNotExist',
      });
    });

    it('a denied step is recorded as denied and never applied; the run goes on', async () => {
      const { calls, result } = await execute(
        load('block-attack-source'),
        { cidrs: ['203.0.113.0/24'], subnetIds: ['subnet-0123456789abcdef0'] },
        { decide: { block: 'deny' } },
      );
      expect(calls.map((t) => t.phase)).toEqual(['plan', 'end']);
      expect(result.status).toBe('SUCCEEDED');
      expect(result.output.steps.block).toEqual({ status: 'denied' });
    });

    it('a manual task a person skips is recorded as skipped', async () => {
      const { result } = await execute(
        load('ec2-instance-compromise'),
        { instanceId: INSTANCE },
        { outputs: eicOutputs, manual: { forensics: 'skip' } },
      );
      expect(result.output.steps.forensics).toEqual({ status: 'skipped' });
    });

    it.each([
      ['auto', ['run:isolate']],
      ['required', ['plan:isolate', 'apply:isolate']],
    ] as const)('a step whose approval the route chooses (%s) takes that path', async (policy, expected) => {
      const { calls, result } = await execute(
        load('ec2-instance-compromise'),
        { instanceId: INSTANCE },
        { outputs: eicOutputs },
        { approvalPerRun: ['isolate'] },
        { isolate: policy },
      );
      expect(result.status).toBe('SUCCEEDED');
      expect(calls.filter((t) => t.stepId === 'isolate').map((t) => `${t.phase}:${t.stepKey}`)).toEqual(expected);
    });

    it('a route that does not name the step waits for a person', async () => {
      const { calls } = await execute(
        load('ec2-instance-compromise'),
        { instanceId: INSTANCE },
        { outputs: eicOutputs },
        { approvalPerRun: ['isolate'] },
      );
      expect(calls.filter((t) => t.stepId === 'isolate').map((t) => t.phase)).toEqual(['plan', 'apply']);
    });

    it('a step inside a parallel branch that a person denies ends its branch; the run goes on after the parallel step', async () => {
      const { calls, result } = await execute(
        load('ec2-instance-compromise'),
        { instanceId: INSTANCE },
        { outputs: eicOutputs, decide: { preserve: 'deny' } },
        { approvalPerRun: ['preserve'] },
        { preserve: 'required' },
      );
      expect(result.status).toBe('SUCCEEDED');
      expect(result.entered).toContain('preserve.denied');
      expect(result.output.steps.preserve).toEqual({ status: 'denied' });
      expect(result.output.steps.detach.status).toBe('applied');
      expect(calls.filter((t) => t.stepId === 'preserve').map((t) => t.phase)).toEqual(['plan']);
      expect(calls.map((t) => t.stepId)).toContain('snapshot');
    });
  },
);
