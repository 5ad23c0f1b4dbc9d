/**
 * The least-privilege meta-tests: they walk the whole action registry.
 *  (a) every declared permission is a real IAM action (src/iam/known-actions.txt);
 *  (b) every action (and the undo it names) runs plan → apply → verify against a world where it
 *      succeeds, with the permission guard on the clients: a command its declaration does not
 *      cover throws UndeclaredPermission;
 *  (c) the policy generated for each playbook covers every step's action.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeVolumesCommand } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { defineAction, ManualTaskRequired, type ActionDef } from '../../src/actions/define.js';
import { actions, actionIds, getAction } from '../../src/actions/registry.js';
import { UndeclaredPermission } from '../../src/cloud/middleware.js';
import { isKnownAction, knownActions, knownSpelling } from '../../src/iam/known-actions.js';
import { actionsOfPlaybook, permissionsOfPlaybook, policyForPlaybook } from '../../src/iam/policy.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { harness as ec2Harness, fixtureWorld, SUBNET_A, WEB1 } from '../actions/ec2-harness.js';
import { bench, INSTANCE, LEAKED_KEY, testWorld } from '../actions/iam-harness.js';
import { ROOT } from '../helpers/cli.js';
import { z } from 'zod';

const registry = [...actions.values()];

describe('(a) declared permissions', () => {
  it('the known-actions list is the reference list it claims to be', () => {
    const known = knownActions();
    expect(known.size).toBeGreaterThan(1900);
    for (const a of [
      'ec2:DescribeInstances',
      'iam:PassRole',
      'sts:GetCallerIdentity',
      'support:CreateCase',
      'dlm:CreateLifecyclePolicy',
      'elasticloadbalancing:DeregisterTargets',
      'autoscaling:DetachInstances',
      'sns:Publish',
    ]) {
      expect(known.has(a), a).toBe(true);
    }
    // Not IAM actions: a misspelling, and an SDK command whose permission has another name.
    for (const a of ['ec2:DescribeInstance', 'sns:PublishBatch', 'iam:Passrole']) expect(known.has(a), a).toBe(false);
    expect(knownSpelling('iam:Passrole')).toBe('iam:PassRole');
  });

  it.each(registry.map((a) => [a.id, a] as const))('%s declares only real IAM actions, each once', (_id, action) => {
    const unknown = action.permissions
      .filter((p) => !isKnownAction(p))
      .map((p) => `${p}${knownSpelling(p) ? ` (AWS spells it ${knownSpelling(p)})` : ''}`);
    expect(unknown, `not in src/iam/known-actions.txt`).toEqual([]);
    expect(new Set(action.permissions).size).toBe(action.permissions.length);
  });

  it.each(registry.filter((a) => a.undo).map((a) => [a.id, a.undo!.action] as const))(
    '%s names an undo action that exists (%s)',
    (_id, undo) => {
      expect(actionIds.has(undo)).toBe(true);
    },
  );
});

/** Runs an action the way the engine does and returns what it did. ManualTaskRequired counts as success for manual actions. */
type Runner = { run: (def: ActionDef, input: unknown) => Promise<{ output: unknown; checks: Array<{ ok: boolean; name: string }> }> };

interface Scenario {
  action: string;
  input: unknown;
  /** A fresh cloud in which the action succeeds. */
  setup: () => Runner;
  manual?: boolean;
}

const iamCloud = (facts?: Record<string, unknown>) => () => bench(testWorld(), facts ? { facts } : {});
const ec2Cloud = () => () => ec2Harness(fixtureWorld());

const scenarios: Scenario[] = [
  // iam and support
  { action: 'iam.describe-access-key', input: { accessKeyId: LEAKED_KEY }, setup: iamCloud() },
  { action: 'iam.disable-access-key', input: { accessKeyId: LEAKED_KEY }, setup: iamCloud() },
  { action: 'iam.quarantine-user', input: { userName: 'deploy-bot' }, setup: iamCloud() },
  { action: 'iam.revoke-role-sessions', input: { roleName: 'web-app-role' }, setup: iamCloud() },
  { action: 'ec2.replace-instance-profile', input: { instanceId: INSTANCE, quarantineProfile: 'firebreak-quarantine' }, setup: iamCloud() },
  { action: 'ec2.replace-instance-profile', input: { instanceId: INSTANCE }, setup: iamCloud() },
  { action: 'support.open-case', input: { summary: 'meta-test' }, setup: iamCloud({ inputs: { accessKeyId: LEAKED_KEY }, steps: {} }) },
  {
    action: 'support.prepare-abuse-report',
    input: { remoteIp: '203.0.113.66', activity: 'ssh brute force' },
    setup: iamCloud(),
    manual: true,
  },
  { action: 'core.manual-task', input: { title: 't', instructions: 'i' }, setup: iamCloud(), manual: true },
  // ec2, asg and dlm (inputs and world from the ec2 action tests)
  { action: 'ec2.enable-termination-protection', input: { instanceId: WEB1 }, setup: ec2Cloud() },
  { action: 'ec2.preserve-instance', input: { instanceId: WEB1 }, setup: ec2Cloud() },
  { action: 'ec2.remove-from-service', input: { instanceId: WEB1 }, setup: ec2Cloud() },
  { action: 'ec2.isolate-instance', input: { instanceId: WEB1 }, setup: ec2Cloud() },
  { action: 'ec2.forensic-snapshots', input: { instanceId: WEB1 }, setup: ec2Cloud() },
  { action: 'ec2.raise-snapshot-frequency', input: { instanceId: WEB1, intervalHours: 2 }, setup: ec2Cloud() },
  { action: 'ec2.deny-nacl-entries', input: { subnetIds: [SUBNET_A], cidrs: ['203.0.113.0/24'] }, setup: ec2Cloud() },
  { action: 'ec2.find-instances', input: { tags: ['app=payments'] }, setup: ec2Cloud() },
  { action: 'ec2.describe-containment', input: { instanceId: WEB1, incident: 'IR-7' }, setup: ec2Cloud() },
];

const exercised = new Set<string>();

describe('(b) every action sends only what it declares', () => {
  it.each(scenarios.map((s) => [s.action, s] as const))('%s: plan, apply, verify, then its undo', async (_id, s) => {
    const cloud = s.setup();
    const def = getAction(s.action);
    exercised.add(def.id);
    if (s.manual) {
      await expect(cloud.run(def, s.input)).rejects.toBeInstanceOf(ManualTaskRequired);
      return;
    }
    const done = await cloud.run(def, s.input);
    expect(done.checks.filter((c) => !c.ok)).toEqual([]);
    if (!def.undo) return;
    const undo = getAction(def.undo.action);
    exercised.add(undo.id);
    const undone = await cloud.run(undo, def.undo.input(done.output as never, def.input.parse(s.input) as never));
    expect(undone.checks.filter((c) => !c.ok)).toEqual([]);
  });

  it('the guard that makes this test meaningful is on: an undeclared command fails', async () => {
    const sneaky = defineAction({
      id: 'test.sneaky',
      summary: 'declares one read, sends another',
      input: z.strictObject({}),
      mutating: false,
      permissions: ['ec2:DescribeInstances'],
      plan: async (ctx) => {
        await ctx.aws.ec2.send(new DescribeVolumesCommand({}));
        return { changes: [], alreadyDone: true, notes: [], facts: null };
      },
      apply: async () => null,
      verify: async () => [],
    });
    const err = await bench()
      .run(sneaky, {})
      .catch((e) => e);
    expect(err).toBeInstanceOf(UndeclaredPermission);
    expect(err.message).toBe('action test.sneaky sent ec2:DescribeVolumes, which its declared permissions do not cover');
  });

  it('every action of the registry was exercised above', () => {
    const missing = registry.map((a) => a.id).filter((id) => !exercised.has(id));
    expect(missing, 'add a scenario for each of these to test/iam/permissions.test.ts').toEqual([]);
  });
});

describe('(c) the generated policy covers each playbook', () => {
  const dir = join(ROOT, 'playbooks');
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));

  it.each(files)('%s', (file) => {
    const loaded = loadPlaybook(join(dir, file), { actionIds, actionInputs: (id) => actions.get(id)?.input });
    for (const withUndo of [false, true]) {
      const policy = policyForPlaybook(loaded, getAction, { withUndo });
      const allowed = new Set(policy.Statement.flatMap((s) => s.Action));
      const uses = actionsOfPlaybook(loaded, getAction, { withUndo });
      expect(uses.length).toBeGreaterThan(0);
      for (const use of uses) {
        const missing = getAction(use.action).permissions.filter((p) => !allowed.has(p));
        expect(missing, `${use.step} (${use.action})`).toEqual([]);
      }
      expect(allowed.has('sts:GetCallerIdentity')).toBe(true);
      expect([...allowed].filter((a) => !isKnownAction(a))).toEqual([]);
      // Exactly what is needed: nothing beyond the steps' declarations and the run's identity check.
      expect([...allowed].sort()).toEqual(permissionsOfPlaybook(loaded, getAction, { withUndo }));
      for (const st of policy.Statement) expect(st.Sid).toMatch(/^[A-Za-z0-9]+$/);
    }
  });
});
