/** policyForPlaybook and `firebreak iam-policy`: the least-privilege policy of each playbook. */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { actions, actionIds, getAction } from '../../src/actions/registry.js';
import { actionsOfPlaybook, policyForPlaybook } from '../../src/iam/policy.js';
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
    expect(doc.playbook).toBe('iam-credential-compromise');
    expect(doc.withUndo).toBe(true);
    expect(doc.actions).toContainEqual({ step: 'quarantineUser (undo)', action: 'iam.release-user' });
    expect(doc.policy).toEqual(policyForPlaybook(load('iam-credential-compromise'), getAction, { withUndo: true }));
  });

  it('an unknown playbook is an input error (exit 2)', async () => {
    const r = await cli(['iam-policy', 'no-such-playbook'], { home: tempHome() });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
  });
});
