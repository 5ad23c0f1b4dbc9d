/**
 * The ASL of every shipped playbook: valid for an independent validator (asl-validator), deterministic,
 * and shaped as the worker contract and Step Functions' limits need.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { getAction } from '../../src/actions/registry.js';
import { allSteps } from '../../src/playbook/compile.js';
import { listPlaybooks } from '../../src/playbook/load.js';
import { allStates, compileToAsl, WORKER_PLACEHOLDER } from '../../src/sfn/compile.js';
import { aslText, compileLoaded, loadForSfn } from '../../src/sfn/playbooks.js';
import { maxConcurrency } from '../../src/sfn/rate-budget.js';

// asl-validator is CommonJS with no types: (definition, options) → { isValid, errors }.
const validate = createRequire(import.meta.url)('asl-validator') as (d: unknown, o: object) => { isValid: boolean; errors: unknown[] };

const SHIPPED = listPlaybooks(['playbooks']);

describe('firebreak sfn: shipped playbooks', () => {
  it('ships the playbooks this test expects to cover', () => {
    expect(SHIPPED).toEqual([
      'block-attack-source',
      'ec2-fleet-compromise',
      'ec2-instance-compromise',
      'iam-credential-compromise',
      'release-instance',
    ]);
  });

  it.each(SHIPPED)('%s: asl-validator accepts it (paths and ARNs checked), also with every approval chosen per run', (name) => {
    const loaded = loadForSfn(name);
    const steps = allSteps(loaded.playbook).map((s) => s.id);
    const worker = 'arn:aws:lambda:us-east-1:111122223333:function:firebreak-worker';
    for (const asl of [
      // The placeholder as CloudFormation's DefinitionSubstitutions replaces it.
      JSON.parse(aslText(compileLoaded(loaded)).replaceAll(WORKER_PLACEHOLDER, worker)),
      compileLoaded(loaded, { workerFunction: worker }),
      compileLoaded(loaded, { approvalPerRun: steps, workerFunction: worker }),
    ]) {
      // The validator writes a default QueryLanguage into each state: give it a copy.
      const result = validate(structuredClone(asl), { checkPaths: true, checkArn: true });
      expect(result.errors).toEqual([]);
      expect(result.isValid).toBe(true);
    }
  });

  it.each(SHIPPED)('%s: the same playbook gives the same bytes', (name) => {
    expect(aslText(compileLoaded(loadForSfn(name)))).toBe(aslText(compileLoaded(loadForSfn(name))));
  });

  it.each(SHIPPED)('%s: every Task invokes the worker; exactly the waiting tasks carry a token and a timeout', (name) => {
    const asl = compileLoaded(loadForSfn(name), { approvalTimeoutSeconds: 1800 });
    expect(asl.QueryLanguage).toBeUndefined(); // JSONPath, the default
    for (const [state, st] of allStates(asl)) {
      expect(state.length).toBeLessThanOrEqual(80);
      if (st.Type !== 'Task') continue;
      const waits = st.Resource === 'arn:aws:states:::lambda:invoke.waitForTaskToken';
      if (!waits) expect(st.Resource).toBe(WORKER_PLACEHOLDER);
      const params = st.Parameters as Record<string, unknown> & { FunctionName?: string; Payload?: Record<string, unknown> };
      const payload = waits ? params.Payload! : params;
      if (waits) expect(params.FunctionName).toBe(WORKER_PLACEHOLDER);
      expect(payload['taskToken.$']).toBe(waits ? '$$.Task.Token' : undefined);
      expect(st.TimeoutSeconds).toBe(waits ? 1800 : undefined);
      expect(st.HeartbeatSeconds).toBeUndefined();
    }
  });

  it.each(SHIPPED)('%s: no state evaluates a playbook expression (the worker does)', (name) => {
    expect(aslText(compileLoaded(loadForSfn(name)))).not.toMatch(/\{%|\$states|Condition|Arguments|Assign/);
  });
});

describe('firebreak sfn: how steps map', () => {
  const fleet = compileLoaded(loadForSfn('ec2-fleet-compromise'));
  const states = Object.fromEntries(allStates(fleet));

  it('a map step runs at most as many items at once as the rate budget of the services its action calls allows', () => {
    expect(states['detach.apply.inline']!.MaxConcurrency).toBe(maxConcurrency(5, getAction('ec2.remove-from-service').permissions));
    expect(states['detach.apply.inline']!.MaxConcurrency).toBe(2); // Auto Scaling's budget, under the step's 5
    expect(states['isolate.apply.inline']!.MaxConcurrency).toBe(5); // EC2's budget, under the step's 10
  });

  it('the worker lists the items; above the threshold the same items run as a Distributed Map of Standard child executions', () => {
    expect(states.isolate).toMatchObject({
      Type: 'Task',
      Parameters: { phase: 'items', stepId: 'isolate' },
      ResultPath: '$.listed',
      Next: 'isolate.plan',
    });
    expect(states['isolate.apply']).toMatchObject({
      Type: 'Choice',
      Choices: [{ Variable: '$.listed.items[200]', IsPresent: true, Next: 'isolate.apply.distributed' }],
      Default: 'isolate.apply.inline',
    });
    expect((states['isolate.apply.distributed']!.ItemProcessor as { ProcessorConfig: unknown }).ProcessorConfig).toEqual({
      Mode: 'DISTRIBUTED',
      ExecutionType: 'STANDARD',
    });
  });

  it("a choice is the worker's answer followed: one rule per target, no Default", () => {
    expect(states.any).toMatchObject({
      Type: 'Task',
      Parameters: { phase: 'choose', stepId: 'any' },
      ResultPath: '$.choice',
      Next: 'any.next',
    });
    expect(states['any.next']).toEqual({
      Type: 'Choice',
      Choices: [
        { Variable: '$.choice.next', StringEquals: 'isolate', Next: 'isolate' },
        { Variable: '$.choice.next', StringEquals: 'none-found', Next: 'none-found' },
      ],
    });
  });

  it('a loop counts the visits of its steps, and a computed wait asks the worker for its seconds', () => {
    const eic = Object.fromEntries(allStates(compileLoaded(loadForSfn('ec2-instance-compromise'))));
    expect(eic.resnapshot).toMatchObject({
      Type: 'Pass',
      Parameters: { 'count.$': 'States.MathAdd($.visits.resnapshot.count, 1)' },
      ResultPath: '$.visits.resnapshot',
    });
    expect(eic['resnapshot.visit']).toMatchObject({ Parameters: { 'visit.$': '$.visits.resnapshot.count' } });
    expect(eic['pause.wait']).toMatchObject({ Type: 'Wait', SecondsPath: '$.wait.seconds', Next: 'resnapshot' });
    expect(eic['take-role']).toMatchObject({ ResultPath: "$.steps['take-role']" });
  });

  it('retry → Retry (the playbook counts attempts, Step Functions retries), onError → Catch, end outcomes → Succeed/Fail', () => {
    expect(states['detach.apply.inline']!.Catch).toEqual([
      { ErrorEquals: ['Firebreak.Aborted', 'States.Timeout'], ResultPath: '$.caught', Next: 'detach.apply.inline.uncaught' },
      { ErrorEquals: ['States.ALL'], ResultPath: '$.caught', Next: 'detach.failed' },
    ]);
    // A halt at the top ends the run as in the CLI: a task journals run.ended, fails with the error, and goes back when redriven.
    expect(states['detach.apply.inline.uncaught']).toMatchObject({
      Type: 'Task',
      Parameters: { phase: 'end', stepId: 'detach', 'error.$': '$.caught' },
      ResultPath: null,
      Next: 'detach.apply.inline',
    });
    expect(states['detach.apply.inline.uncaught']!.Catch).toBeUndefined();
    expect(states['detach.failed']).toMatchObject({
      Type: 'Pass',
      Parameters: { status: 'failed', error: { 'code.$': '$.caught.Error', 'message.$': '$.caught.Cause' } },
      ResultPath: '$.steps.detach',
      Next: 'snapshot',
    });
    // A map failure no onError takes goes to a worker task that journals the map step's step.failed, then fails again.
    expect(states['snapshot.apply.inline']!.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.caught', Next: 'snapshot.unhandled' },
    ]);
    expect(states['snapshot.unhandled']).toMatchObject({
      Type: 'Task',
      Parameters: { phase: 'fail', stepId: 'snapshot', 'error.$': '$.caught' },
      ResultPath: '$.steps.snapshot',
      Next: 'forensics',
    });
    expect(states['detach.unhandled']).toBeUndefined();
    const item = (states['snapshot.apply.inline']!.ItemProcessor as { States: Record<string, { Retry: unknown[] }> }).States[
      'snapshot.apply.inline.item'
    ]!;
    expect(item.Retry[1]).toEqual({
      ErrorEquals: ['Firebreak.Transient'],
      IntervalSeconds: 5,
      MaxAttempts: 2,
      BackoffRate: 2,
      MaxDelaySeconds: 60,
    });
    // Each end journals run.ended through the worker first (its outcome in the payload), then succeeds or fails.
    expect(states['none-found']).toMatchObject({
      Type: 'Task',
      Parameters: { phase: 'end', stepId: 'none-found', outcome: 'no-targets' },
      ResultPath: null,
      Next: 'none-found.end',
    });
    expect(states['none-found.end']).toMatchObject({
      Type: 'Pass',
      Parameters: { outcome: 'no-targets', 'steps.$': '$.steps' },
      End: true,
    });
    const iam = Object.fromEntries(allStates(compileLoaded(loadForSfn('iam-credential-compromise'))));
    expect(iam.noCredential).toMatchObject({ Type: 'Task', Parameters: { phase: 'end', outcome: 'failure' }, Next: 'noCredential.end' });
    expect(iam['noCredential.end']).toMatchObject({ Type: 'Fail', Error: 'Firebreak.Failure' });
    // A last step without next ends the run with outcome success.
    const pb = structuredClone(loadForSfn('block-attack-source').playbook);
    delete (pb.steps.block as { next?: string }).next;
    const block = Object.fromEntries(allStates(compileToAsl(pb, { permissionsOf: () => [] })));
    expect(block.Succeeded).toMatchObject({ Type: 'Task', Parameters: { phase: 'end', outcome: 'success' }, Next: 'Succeeded.end' });
    expect(block['Succeeded.end']).toMatchObject({ Type: 'Pass', Parameters: { outcome: 'success' }, End: true });
  });

  it('a core.manual-task step waits on a task token, then its apply task completes it; a skip is caught as skipped', () => {
    const iam = Object.fromEntries(allStates(compileLoaded(loadForSfn('iam-credential-compromise'))));
    expect(iam.reviewCloudTrail).toMatchObject({
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: { Payload: { phase: 'manual', stepId: 'reviewCloudTrail', 'taskToken.$': '$$.Task.Token' } },
      TimeoutSeconds: 24 * 3600,
      ResultPath: null,
      Catch: [
        { ErrorEquals: ['Firebreak.Denied'], ResultPath: '$.caught', Next: 'reviewCloudTrail.skipped' },
        { ErrorEquals: ['States.ALL'], ResultPath: '$.caught', Next: 'reviewCloudTrail.uncaught' },
      ],
      Next: 'reviewCloudTrail.apply',
    });
    expect(iam['reviewCloudTrail.apply']).toMatchObject({
      Type: 'Task',
      Parameters: { phase: 'apply', stepId: 'reviewCloudTrail' },
      ResultPath: '$.steps.reviewCloudTrail',
      Next: 'rotateSecrets',
    });
    expect(iam['reviewCloudTrail.skipped']).toMatchObject({ Type: 'Pass', Result: { status: 'skipped' }, Next: 'rotateSecrets' });
  });

  it('a parallel step without the unsupported nesting compiles; a map inside a branch is refused by name', () => {
    const pb = loadForSfn('ec2-instance-compromise').playbook;
    const bad = structuredClone(pb);
    (bad.steps.contain as any).branches[0].steps.preserve = {
      type: 'map',
      items: '{% [] %}',
      action: 'ec2.preserve-instance',
      with: {},
      concurrency: 1,
      approval: 'auto',
    };
    expect(() => compileToAsl(bad, { permissionsOf: () => [] })).toThrow(/map step preserve inside a parallel branch is not supported/);
  });
});
