/** policyForPlaybook and `firebreak iam-policy`: the least-privilege policy of each playbook. */
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { actions, actionIds, getAction } from '../../src/actions/registry.js';
import { actionsOfPlaybook, policyForPlaybook, whyWildcard } from '../../src/iam/policy.js';
import { loadPlaybook, loadPlaybookText } from '../../src/playbook/load.js';
import { cli, ROOT, tempHome } from '../helpers/cli.js';

const load = (name: string) =>
  loadPlaybook(join(ROOT, 'playbooks', `${name}.yaml`), { actionIds, actionInputs: (id) => actions.get(id)?.input });
const statement = (policy: ReturnType<typeof policyForPlaybook>, sid: string) => policy.Statement.find((s) => s.Sid === sid);

describe('policyForPlaybook', () => {
  it('iam-credential-compromise: exactly the reads and writes of its steps, one statement per service', () => {
    const policy = policyForPlaybook(load('iam-credential-compromise'), getAction);
    expect(policy).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'FirebreakIam',
          Effect: 'Allow',
          Action: [
            'iam:AttachUserPolicy',
            'iam:GetAccessKeyLastUsed',
            'iam:GetRole',
            'iam:GetRolePolicy',
            'iam:GetUser',
            'iam:ListAccessKeys',
            'iam:ListAttachedUserPolicies',
            'iam:ListUserPolicies',
            'iam:PutRolePolicy',
            'iam:PutUserPolicy',
            'iam:UpdateAccessKey',
          ],
          Resource: '*',
        },
        { Sid: 'FirebreakSts', Effect: 'Allow', Action: ['sts:GetCallerIdentity'], Resource: '*' },
        {
          Sid: 'FirebreakSupport',
          Effect: 'Allow',
          Action: ['support:CreateCase', 'support:DescribeCases', 'support:DescribeServices'],
          Resource: '*',
        },
      ],
    });
  });

  it('--with-undo adds what firebreak undo sends, and nothing is dropped', () => {
    const loaded = load('iam-credential-compromise');
    const plain = new Set(policyForPlaybook(loaded, getAction).Statement.flatMap((s) => s.Action));
    const withUndo = new Set(policyForPlaybook(loaded, getAction, { withUndo: true }).Statement.flatMap((s) => s.Action));
    expect([...withUndo].filter((a) => !plain.has(a)).sort()).toEqual([
      'iam:DeleteRolePolicy',
      'iam:DeleteUserPolicy',
      'iam:DetachUserPolicy',
    ]);
    expect([...plain].every((a) => withUndo.has(a))).toBe(true);
    expect(
      actionsOfPlaybook(loaded, getAction, { withUndo: true })
        .filter((u) => u.step.endsWith('(undo)'))
        .map((u) => u.action),
    ).toEqual(['iam.enable-access-key', 'iam.release-user', 'iam.remove-session-revocation']);
  });

  it('iam:PassRole is allowed only for passing roles to EC2', () => {
    const policy = policyForPlaybook(load('ec2-instance-compromise'), getAction, { withUndo: true });
    expect(statement(policy, 'FirebreakPassRoleToEc2')).toEqual({
      Sid: 'FirebreakPassRoleToEc2',
      Effect: 'Allow',
      Action: ['iam:PassRole'],
      Resource: '*',
      Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
    });
    expect(statement(policy, 'FirebreakIam')!.Action).not.toContain('iam:PassRole');
  });

  it('walks parallel branches and map steps', () => {
    const loaded = loadPlaybookText(
      [
        'id: shapes',
        'title: t',
        'start: both',
        'steps:',
        '  both:',
        '    type: parallel',
        '    branches:',
        '      - start: key',
        '        steps:',
        '          key: { action: iam.disable-access-key, with: { accessKeyId: AKIAIOSFODNN7EXAMPLE } }',
        '    next: many',
        '  many:',
        '    type: map',
        '    items: \'{% ["web-app-role"] %}\'',
        '    action: iam.revoke-role-sessions',
        "    with: { roleName: '{% $item %}' }",
        '    next: done',
        '  done: { type: end }',
      ].join('\n'),
      'shapes.yaml',
      { actionIds, actionInputs: (id) => actions.get(id)?.input },
    );
    expect(actionsOfPlaybook(loaded, getAction)).toEqual([
      { step: 'key', action: 'iam.disable-access-key' },
      { step: 'many', action: 'iam.revoke-role-sessions' },
    ]);
    const allowed = policyForPlaybook(loaded, getAction).Statement.flatMap((s) => s.Action);
    expect(allowed).toContain('iam:UpdateAccessKey');
    expect(allowed).toContain('iam:PutRolePolicy');
  });
});

describe('firebreak iam-policy', () => {
  const playbooks = readdirSync(join(ROOT, 'playbooks'))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.replace(/\.yaml$/, ''));

  it.each(playbooks)('%s: the policy alone on stdout, what it covers on stderr', async (name) => {
    const r = await cli(['iam-policy', name], { home: tempHome() });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(policyForPlaybook(load(name), getAction));
    expect(r.stderr).toMatch(new RegExp(`# ${name}: \\d+ action steps`));
  });

  it('--with-undo --json: the playbook, the actions and the policy in one document', async () => {
    const r = await cli(['iam-policy', 'iam-credential-compromise', '--with-undo', '--json'], { home: tempHome() });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.playbooks.map((p: { playbook: string }) => p.playbook)).toEqual(['iam-credential-compromise']);
    expect(doc.withUndo).toBe(true);
    expect(doc.playbooks[0].actions).toContainEqual({ step: 'quarantineUser (undo)', action: 'iam.release-user' });
    expect(doc.wildcards).toContainEqual({ action: 'support:CreateCase', why: 'no resource-level permission' });
    expect(doc.wildcards).toContainEqual({ action: 'iam:UpdateAccessKey', why: 'resource known only at run time' });
    expect(doc.policy).toEqual(policyForPlaybook(load('iam-credential-compromise'), getAction, { withUndo: true }));
  });

  it('several playbooks: one policy covering all of them', async () => {
    const r = await cli(['iam-policy', 'ec2-instance-compromise', 'iam-credential-compromise'], { home: tempHome() });
    expect(r.code, r.stderr).toBe(0);
    const both = [load('ec2-instance-compromise'), load('iam-credential-compromise')];
    expect(JSON.parse(r.stdout)).toEqual(policyForPlaybook(both, getAction));
    const actionsOf = (p: ReturnType<typeof policyForPlaybook>) => new Set(p.Statement.flatMap((st) => st.Action));
    const union = actionsOf(JSON.parse(r.stdout));
    for (const one of both) for (const a of actionsOf(policyForPlaybook(one, getAction))) expect(union.has(a), a).toBe(true);
    expect(r.stderr).toMatch(/# ec2-instance-compromise: \d+ action steps/);
    expect(r.stderr).toMatch(/# iam-credential-compromise: \d+ action steps/);
  });

  it('--routes: every playbook the routes start, and sns:Publish scoped to the configured topic', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fb-iam-'));
    const topic = 'arn:aws:sns:eu-west-1:123456789012:firebreak-waiting';
    writeFileSync(join(dir, 'firebreak.config.yaml'), `notifications:\n  snsTopicArn: ${topic}\n`);
    const r = await cli(['iam-policy', '--routes', 'routes.yaml', '--config', join(dir, 'firebreak.config.yaml')], { home: tempHome() });
    expect(r.code, r.stderr).toBe(0);
    const policy = JSON.parse(r.stdout) as ReturnType<typeof policyForPlaybook>;
    expect(policy).toEqual(
      policyForPlaybook([load('ec2-instance-compromise')], getAction, { extra: { notificationTopics: [topic], tagLookup: true } }),
    );
    expect(statement(policy, 'FirebreakNotify')).toEqual({
      Sid: 'FirebreakNotify',
      Effect: 'Allow',
      Action: ['sns:Publish'],
      Resource: [topic],
    });
    expect(policy.Statement.filter((st) => st.Action.includes('sns:Publish'))).toHaveLength(1);
    expect(r.stderr).toContain(`# sns:Publish on ${topic} only (notifications.snsTopicArn in `);
    expect(r.stderr).toMatch(/^# Resource "\*" — no resource-level permission: .*ec2:DescribeInstances.*sts:GetCallerIdentity/m);
    expect(r.stderr).toMatch(/^# Resource "\*" — resource known only at run time: .*ec2:ModifyNetworkInterfaceAttribute/m);
  });

  it('--routes without a notification topic: no sns:Publish, and says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fb-iam-'));
    writeFileSync(join(dir, 'firebreak.config.yaml'), 'guardrails:\n  maxTargets: 10\n');
    const r = await cli(['iam-policy', '--routes', 'routes.yaml', '--config', join(dir, 'firebreak.config.yaml')], { home: tempHome() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('sns:');
    expect(r.stderr).toContain('# no sns:Publish: no notifications.snsTopicArn in the config');
  });

  it('no playbook and no --routes is an input error (exit 2)', async () => {
    const r = await cli(['iam-policy'], { home: tempHome() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('failed to derive a policy: name at least one playbook or --routes FILE');
  });

  it.each([
    ['ec2:DescribeInstances', 'no resource-level permission'],
    ['autoscaling:DescribeAutoScalingInstances', 'no resource-level permission'],
    ['support:CreateCase', 'no resource-level permission'],
    ['sts:GetCallerIdentity', 'no resource-level permission'],
    ['ec2:ModifyNetworkInterfaceAttribute', 'resource known only at run time'],
    ['iam:PutRolePolicy', 'resource known only at run time'],
  ])('%s keeps Resource "*": %s', (permission, why) => {
    expect(whyWildcard(permission)).toBe(why);
  });

  it('an unknown playbook is an input error (exit 2)', async () => {
    const r = await cli(['iam-policy', 'no-such-playbook'], { home: tempHome() });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
  });
});
