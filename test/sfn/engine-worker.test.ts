/**
 * The compiled ASL executed by aws-local-stepfunctions with its Task states calling the REAL worker
 * (`engineWorker`: the engine's own step code, journal and audited clients) against the simulated
 * cloud and a local run store; task tokens are answered through `approveOnStepFunctions`, the path
 * `firebreak approve` takes for a run on Step Functions. Each run is compared with the same playbook
 * run by `startRun`/`resumeRun` (the CLI's path, answered with the CLI's `approve`) on the same world:
 * the simulated cloud's end state and the journal's decisions must be equal.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseBackend } from '../../src/backend/backend.js';
import { approve } from '../../src/cli/commands/approve.js';
import { autoHost } from '../../src/engine/auto-host.js';
import { localRunStore } from '../../src/engine/local-store.js';
import { operator, resumeRun, startRun } from '../../src/engine/session.js';
import { systemClock } from '../../src/core/clock.js';
import { engineWorker } from '../../src/sfn/engine-worker.js';
import { workerHandler } from '../../src/sfn/worker.js';
import { tempHome } from '../helpers/cli.js';
import { LOCAL_SFN_RUNS } from './local-sfn.js';
import { type Answer, cliRun, decisions, fixCause, journalOf, sfnRun, WORLDS, worldOf } from './real-worker.js';

const WEB_1 = 'i-0abc123def4567890';
const LEAKED_KEY = 'AKIAIOSFODNN7DEPLOY1';

/** The cloud as ec2-instance-compromise left it for web-1 (run by the CLI, incident inc-1), as a world file. */
let contained: Promise<string> | undefined;
function containedWorld(): Promise<string> {
  contained ??= (async () => {
    const run = await cliRun('ec2-instance-compromise', { instanceId: WEB_1, attackerCidrs: ['203.0.113.0/24'] }, {}, WORLDS.business);
    expect(run.out.status).toBe('succeeded');
    const file = join(tempHome('fb-contained-'), 'contained.json');
    copyFileSync(join(run.home, 'runs', 'run-1', 'world.json'), file);
    return file;
  })();
  return contained;
}

/** What an execution costs (README "Deploy to AWS"), printed with FIREBREAK_SFN_COUNTS=1. */
function counts(name: string, sfn: Awaited<ReturnType<typeof sfnRun>>) {
  if (!process.env.FIREBREAK_SFN_COUNTS) return;
  console.log(
    `COUNTS ${name}: ${sfn.result.entered.length} states entered, ${sfn.tasks.length} worker invocations, ${sfn.tokens.issued.length} task tokens`,
  );
}

describe.skipIf(!LOAD_OK())('compiled playbooks on Step Functions with the real worker', () => {
  it('block-attack-source: approved through the task token, same cloud and decisions as the CLI', async () => {
    const inputs = { cidrs: ['203.0.113.0/24'], subnetIds: ['subnet-0aa11bb22cc33dd44'] };
    const sfn = await sfnRun('block-attack-source', inputs, {}, true);
    const cli = await cliRun('block-attack-source', inputs, {}, true);
    expect(sfn.result.error ? `${sfn.result.error}: ${sfn.result.cause}` : sfn.result.status).toBe('SUCCEEDED');
    expect(cli.out.status).toBe('succeeded');
    expect(sfn.tasks.map((t) => `${t.phase} ${t.stepId}`)).toEqual(['plan block', 'apply block', 'end done']);
    expect(decisions(sfn.events)).toEqual(decisions(cli.events));
    expect(decisions(sfn.events)).toContain('step.completed block applied');
    expect(decisions(sfn.events).at(-1)).toBe('run.ended succeeded success');
    expect(sfn.world).toEqual(cli.world);
    counts('block-attack-source, approved', sfn);
    // Step Functions may invoke a task twice: the run's end is journaled once.
    const again = workerHandler(
      engineWorker({ store: localRunStore({ home: sfn.home }), backend: chooseBackend({ sim: true }), sfn: sfn.tokens.client }),
    );
    await expect(again(sfn.tasks.at(-1))).resolves.toEqual({ status: 'ended' });
    expect((await journalOf(sfn.home, 'run-1')).filter((e) => e.type === 'run.ended')).toHaveLength(1);
  });

  const CASES: Array<{
    name: string;
    playbook: string;
    inputs: Record<string, unknown>;
    answers?: Record<string, Answer>;
    outcome: 'SUCCEEDED' | 'FAILED';
    /** A world file, or one made before the run (the cloud another run left). */
    world?: string | (() => Promise<string>);
    also?: (sfn: Awaited<ReturnType<typeof sfnRun>>) => void;
  }> = [
    {
      name: 'block-attack-source, denied',
      playbook: 'block-attack-source',
      inputs: { cidrs: ['203.0.113.0/24'], subnetIds: ['subnet-0aa11bb22cc33dd44'] },
      answers: { block: 'deny' },
      outcome: 'SUCCEEDED',
    },
    {
      name: 'ec2-fleet-compromise, a Map over 50 instances',
      playbook: 'ec2-fleet-compromise',
      inputs: { imageIds: ['ami-0c55b159cbfafe1f0'] },
      outcome: 'SUCCEEDED',
      world: WORLDS.fleet,
      also: (sfn) => {
        expect(sfn.tasks.filter((t) => t.phase === 'item' && t.stepId === 'isolate')).toHaveLength(50);
        // web-1's group is at its minimum size: detach fails, the Catch path (onError: snapshot) takes over.
        expect(decisions(sfn.events)).toContain('step.failed detach GroupAtMinimumSize → snapshot');
        expect(sfn.result.entered).toContain('detach.failed');
        expect(sfn.result.entered).toContain('snapshot');
      },
    },
    {
      name: 'ec2-instance-compromise, detach refused at minimum size (onError), DLM cadence, a manual step',
      playbook: 'ec2-instance-compromise',
      inputs: { instanceId: WEB_1, attackerCidrs: ['203.0.113.0/24'] },
      outcome: 'SUCCEEDED',
      also: (sfn) => {
        const d = decisions(sfn.events, 'ec2-instance-compromise');
        expect(d).toContain('step.failed detach GroupAtMinimumSize → detach-deferred');
        expect(d).toContain('manual.requested forensics');
        expect(d.at(-1)).toBe('run.ended succeeded success');
      },
    },
    {
      name: 'iam-credential-compromise, two core.manual-task steps answered through their task tokens',
      playbook: 'iam-credential-compromise',
      inputs: { accessKeyId: LEAKED_KEY },
      outcome: 'SUCCEEDED',
      also: (sfn) => {
        const d = decisions(sfn.events);
        for (const step of ['reviewCloudTrail', 'rotateSecrets']) {
          expect(d).toContain(`manual.requested ${step}`);
          expect(d).toContain(`step.completed ${step} manual`);
          expect(sfn.tasks.filter((t) => t.stepId === step).map((t) => t.phase)).toEqual(['manual', 'apply']);
          expect(sfn.tasks.find((t) => t.stepId === step && t.phase === 'manual')?.taskToken).toMatch(/^token-/);
        }
        expect(d.at(-1)).toBe('run.ended succeeded success');
      },
    },
    {
      name: 'iam-credential-compromise, a core.manual-task skipped',
      playbook: 'iam-credential-compromise',
      inputs: { accessKeyId: LEAKED_KEY },
      answers: { reviewCloudTrail: 'deny' },
      outcome: 'SUCCEEDED',
      also: (sfn) => {
        expect(decisions(sfn.events)).toContain('step.completed reviewCloudTrail skipped');
        expect(sfn.result.entered).toContain('reviewCloudTrail.skipped');
        expect(sfn.tasks.filter((t) => t.stepId === 'reviewCloudTrail').map((t) => t.phase)).toEqual(['manual']);
      },
    },
    {
      name: 'iam-credential-compromise, nothing given: the failure end journals the run failed',
      playbook: 'iam-credential-compromise',
      inputs: {},
      outcome: 'FAILED',
      also: (sfn) => {
        expect(sfn.result.error).toBe('Firebreak.Failure');
        expect(decisions(sfn.events)).toEqual(['choice.taken classify noCredential', 'run.ended failed failure']);
      },
    },
    {
      name: 'block-attack-source, aborted at its approval: the run ends aborted',
      playbook: 'block-attack-source',
      inputs: { cidrs: ['203.0.113.0/24'], subnetIds: ['subnet-0aa11bb22cc33dd44'] },
      answers: { block: 'abort' },
      outcome: 'FAILED',
      also: (sfn) => {
        expect(sfn.result.error).toBe('Firebreak.Aborted');
        expect(decisions(sfn.events)).toEqual(['approval.requested block', 'approval.answered block abort', 'run.ended aborted undefined']);
        expect(sfn.tasks.map((t) => `${t.phase} ${t.stepId}`)).toEqual(['plan block', 'end block']);
        expect(sfn.result.entered.at(-1)).toBe('block.uncaught');
      },
    },
    {
      name: 'block-attack-source, a subnet that does not exist: the plan fails, no onError takes it',
      playbook: 'block-attack-source',
      inputs: { cidrs: ['203.0.113.0/24'], subnetIds: ['subnet-0ffffffffffffffff'] },
      outcome: 'FAILED',
      also: (sfn) => {
        const failed = sfn.events.find((e) => e.type === 'step.failed');
        expect(failed).toMatchObject({ step: 'block', handled: false });
        expect(sfn.result.error).toBe((failed!.error as { code: string }).code);
        expect(decisions(sfn.events).at(-1)).toBe('run.ended failed failure');
        expect(sfn.result.entered.slice(-2)).toEqual(['block', 'block.uncaught']);
      },
    },
    {
      name: 'ec2-fleet-compromise, snapshots denied: a failure no onError takes ends the run failed',
      playbook: 'ec2-fleet-compromise',
      inputs: { imageIds: ['ami-0c55b159cbfafe1f0'] },
      outcome: 'FAILED',
      world: WORLDS.snapshotsDenied,
      also: (sfn) => {
        expect(sfn.result.error).toBe('UnauthorizedOperation');
        expect(decisions(sfn.events).slice(-2)).toEqual([
          'step.failed snapshot UnauthorizedOperation (unhandled)',
          'run.ended failed failure',
        ]);
      },
    },
    {
      name: 'release-instance, on the cloud containment left',
      playbook: 'release-instance',
      inputs: { instanceId: WEB_1, incident: 'inc-1', attackerCidrs: ['203.0.113.0/24'] },
      outcome: 'SUCCEEDED',
      world: containedWorld,
      also: (sfn) => {
        const d = decisions(sfn.events);
        expect(d).toContain('manual.requested confirm');
        expect(d).toContain('step.completed reconnect applied');
        expect(d.at(-1)).toBe('run.ended succeeded success');
      },
    },
  ];
  for (const c of CASES)
    it(`${c.name}: same cloud and decisions as the CLI`, async () => {
      const world = typeof c.world === 'function' ? await c.world() : (c.world ?? WORLDS.business);
      const sfn = await sfnRun(c.playbook, c.inputs, c.answers ?? {}, world);
      const cli = await cliRun(c.playbook, c.inputs, c.answers ?? {}, world);
      expect(c.outcome === 'FAILED' || !sfn.result.error ? sfn.result.status : `${sfn.result.error}: ${sfn.result.cause}`).toBe(c.outcome);
      expect(decisions(sfn.events, c.playbook)).toEqual(decisions(cli.events, c.playbook));
      expect(sfn.world).toEqual(cli.world);
      // Every way a run ends journals run.ended once, as the CLI's run does (status, outcome, error).
      expect(ended(sfn.events)).toHaveLength(1);
      expect(ended(sfn.events)).toEqual(ended(cli.events));
      c.also?.(sfn);
      counts(c.name, sfn);
    }, 240_000);
});

describe.skipIf(!LOAD_OK())('a failed execution redriven', () => {
  it('converges like firebreak resume: completed steps answer from the journal, nothing is applied twice', async () => {
    const inputs = { imageIds: ['ami-0c55b159cbfafe1f0'] };
    const home = tempHome();
    const failed = await sfnRun('ec2-fleet-compromise', inputs, {}, WORLDS.snapshotsDenied, home);
    expect(failed.result.status).toBe('FAILED');
    expect(failed.result.error).toBe('UnauthorizedOperation');
    expect(failed.events.some((e) => e.type === 'item.failed' && e.step === 'snapshot')).toBe(true);
    fixCause(home, 'run-1');
    // RedriveExecution runs the execution again from where it failed; here it runs again from its start,
    // which asks more of the worker: every step before the failure is invoked again and answers from the journal.
    const redriven = await sfnRun('ec2-fleet-compromise', inputs, {}, WORLDS.snapshotsDenied, home, failed.tokens);
    expect(redriven.result.error ? `${redriven.result.error}: ${redriven.result.cause}` : redriven.result.status).toBe('SUCCEEDED');
    const applied = redriven.events.filter((e) => e.type === 'step.applied').map((e) => `${e.step}[${e.item}]`);
    expect(new Set(applied).size).toBe(applied.length);

    const cliHome = tempHome();
    const backend = () => chooseBackend({ sim: WORLDS.snapshotsDenied });
    let out = await (
      await startRun({
        run: { playbook: 'ec2-fleet-compromise', inputs, runId: 'run-1', incident: 'inc-1' },
        backend: backend(),
        host: autoHost(),
        home: cliHome,
      })
    ).result;
    for (let resumed = false; out.status === 'waiting' || (out.status === 'failed' && !resumed); ) {
      if (out.status === 'failed') {
        fixCause(cliHome, 'run-1');
        resumed = true;
      } else await approve('run-1', out.waitingStep!, { home: cliHome, json: true });
      out = await (await resumeRun({ runId: 'run-1', backend: backend(), host: autoHost(), home: cliHome })).result;
    }
    expect(out.status).toBe('succeeded');
    // The map step's failure is journaled as in the CLI (its step.failed, unhandled), and so is the run's end (failed).
    expect(decisions(failed.events).slice(-2)).toEqual([
      'step.failed snapshot UnauthorizedOperation (unhandled)',
      'run.ended failed failure',
    ]);
    expect(failed.result.entered).toContain('snapshot.unhandled');
    expect(decisions(redriven.events)).toEqual(decisions(await journalOf(cliHome, 'run-1')));
    expect(ended(redriven.events)).toEqual(ended(await journalOf(cliHome, 'run-1')));
    expect(redriven.world).toEqual(worldOf(cliHome, 'run-1'));
  }, 240_000);
});

describe.skipIf(!LOAD_OK())('a Map state that failed with no onError, redriven', () => {
  it("RedriveExecution runs the map step's task again: its unfinished items run, the completed ones answer from the journal", async () => {
    const inputs = { imageIds: ['ami-0c55b159cbfafe1f0'] };
    const home = tempHome();
    const failed = await sfnRun('ec2-fleet-compromise', inputs, {}, WORLDS.snapshotsDenied, home);
    expect(failed.result.error).toBe('UnauthorizedOperation');
    const report = failed.tasks.find((t) => t.phase === 'fail');
    expect(report).toMatchObject({ stepId: 'snapshot', error: { Error: 'UnauthorizedOperation' } });
    fixCause(home, 'run-1');
    const worker = workerHandler(
      engineWorker({ store: localRunStore({ home }), backend: chooseBackend({ sim: WORLDS.snapshotsDenied }), sfn: failed.tokens.client }),
    );
    // The execution failed in the task that journaled the run's end; invoked twice, it journals it once and fails again.
    const uncaught = failed.tasks.at(-1)!;
    expect(uncaught).toMatchObject({ phase: 'end', stepId: 'snapshot', error: { Error: 'UnauthorizedOperation' } });
    expect(failed.result.entered.at(-1)).toBe('snapshot.unhandled.uncaught');
    await expect(worker(uncaught)).rejects.toMatchObject({ name: 'UnauthorizedOperation' });
    expect(ended(await journalOf(home, 'run-1'))).toHaveLength(1);
    // firebreak resume journals the redrive; the redrive runs that task again: the run resumes at the map step's fail task.
    const record = await localRunStore({ home }).open('run-1');
    const j = record.openJournal(systemClock);
    j.append('execution.redriven', {
      execution: 'arn:aws:states:us-east-1:123456789012:execution:fb:run-1',
      from: 'FAILED',
      by: operator(),
    });
    j.close();
    await expect(worker(uncaught)).resolves.toEqual({ status: 'ended' });
    expect((await journalOf(home, 'run-1')).at(-1)).toMatchObject({ type: 'run.resumed' });
    // A redrive reruns the failed state, the fail task, with the same input.
    const out = await worker(report);
    const n = (report!.steps.find!.output as { instanceIds: string[] }).instanceIds.length;
    expect(n).toBeGreaterThan(0);
    expect(out.status).toBe('applied');
    expect(out.output).toHaveLength(n);
    const events = await journalOf(home, 'run-1');
    const completed = events.filter((e) => e.type === 'item.completed' && e.step === 'snapshot').map((e) => e.index);
    expect(new Set(completed).size).toBe(n);
    expect(decisions(events).filter((d) => /^step\.(failed|completed) snapshot /.test(d))).toEqual([
      'step.failed snapshot UnauthorizedOperation (unhandled)',
      'step.completed snapshot applied',
    ]);
  }, 240_000);
});

/** The run's ends a journal records: status, outcome and error. */
function ended(events: ReadonlyArray<Record<string, unknown>>) {
  return events.filter((e) => e.type === 'run.ended').map(({ status, outcome, error }) => ({ status, outcome, error }));
}

function LOAD_OK() {
  return LOCAL_SFN_RUNS;
}
