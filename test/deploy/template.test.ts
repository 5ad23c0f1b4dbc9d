/**
 * The deployment template from the shipped routing table: structure, least privilege, the evidence
 * store's protections, and a YAML that reads back (short-form !Ref/!Sub/!GetAtt) into the same model.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { getAction } from '../../src/actions/registry.js';
import { parseTemplate, toYaml } from '../../src/deploy/cfn.js';
import * as P from '../../src/deploy/permissions.js';
import { deploymentTemplate, stateMachineId } from '../../src/deploy/template.js';
import { isKnownAction, knownActions } from '../../src/iam/known-actions.js';
import { permissionsOfPlaybook, RUN_PERMISSIONS } from '../../src/iam/policy.js';
import { ROUTING_PERMISSIONS } from '../../src/triggers/tags.js';
import { loadRoutes, parseRoutes } from '../../src/triggers/routes.js';

const validate = createRequire(import.meta.url)('asl-validator') as (d: unknown, o: object) => { isValid: boolean; errors: unknown[] };

const table = loadRoutes('routes.yaml');
const template = deploymentTemplate(table.routes) as {
  Resources: Record<string, { Type: string; Properties: any; DeletionPolicy?: string }>;
  Parameters: Record<string, unknown>;
  Outputs: Record<string, unknown>;
};
const resources = template.Resources;
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const one = (type: string) => {
  const list = ofType(type);
  expect(list).toHaveLength(1);
  return list[0]![1].Properties;
};

/** Every policy statement in the template: role policies, the key policy, bucket and topic policies. */
function statements(): Array<{ where: string; st: any }> {
  const out: Array<{ where: string; st: any }> = [];
  for (const [name, r] of Object.entries(resources)) {
    const docs = [
      ...(r.Properties.Policies ?? []).map((p: any) => p.PolicyDocument),
      r.Properties.KeyPolicy,
      r.Properties.PolicyDocument,
      r.Properties.AssumeRolePolicyDocument,
    ].filter(Boolean);
    for (const d of docs) for (const st of d.Statement) out.push({ where: name, st });
  }
  return out;
}
const actionsOf = (st: any): string[] => [st.Action].flat();
// The services src/iam/known-actions.txt holds; dynamodb, states, logs and lambda are not in that snapshot yet.
const SNAPSHOT_SERVICES = new Set([...knownActions()].map((a) => a.slice(0, a.indexOf(':'))));

describe('firebreak deploy-template (shipped routes.yaml)', () => {
  it('holds every resource a deployment needs', () => {
    const types = new Set(Object.values(resources).map((r) => r.Type));
    expect([...types].sort()).toEqual(
      [
        'AWS::DynamoDB::Table',
        'AWS::Events::Rule',
        'AWS::IAM::ManagedPolicy',
        'AWS::IAM::Role',
        'AWS::KMS::Alias',
        'AWS::KMS::Key',
        'AWS::Lambda::Function',
        'AWS::Lambda::Permission',
        'AWS::Logs::LogGroup',
        'AWS::S3::Bucket',
        'AWS::S3::BucketPolicy',
        'AWS::SNS::Subscription',
        'AWS::SNS::Topic',
        'AWS::SNS::TopicPolicy',
        'AWS::StepFunctions::StateMachine',
      ].sort(),
    );
    // The routes name one playbook: its state machine and the undo machine, and a rule per EventBridge source they match.
    expect(ofType('AWS::StepFunctions::StateMachine').map(([id]) => id)).toEqual([
      stateMachineId('ec2-instance-compromise'),
      'UndoStateMachine',
    ]);
    expect(ofType('AWS::Events::Rule').map(([, r]) => r.Properties.EventPattern)).toEqual([
      { source: ['aws.guardduty'], 'detail-type': ['GuardDuty Finding'], detail: { severity: [{ numeric: ['>=', 5] }] } },
      { source: ['aws.securityhub'], 'detail-type': ['Security Hub Findings - Imported'] },
    ]);
  });

  it('runs both Lambdas on nodejs22.x from the package named by the parameters', () => {
    for (const [, fn] of ofType('AWS::Lambda::Function')) {
      expect(fn.Properties.Runtime).toBe('nodejs22.x');
      expect(fn.Properties.Code).toEqual({ S3Bucket: { Ref: 'CodeBucket' }, S3Key: { Ref: 'CodeKey' } });
    }
    expect(
      ofType('AWS::Lambda::Function')
        .map(([, f]) => f.Properties.Handler)
        .sort(),
    ).toEqual(['router.handler', 'worker.handler']);
  });

  it('keeps the evidence bucket locked, versioned, encrypted with the key, private, and reachable over TLS only', () => {
    const b = one('AWS::S3::Bucket');
    expect(b.ObjectLockEnabled).toBe(true);
    expect(b.ObjectLockConfiguration).toEqual({
      ObjectLockEnabled: 'Enabled',
      Rule: { DefaultRetention: { Mode: { Ref: 'ObjectLockMode' }, Days: { Ref: 'ObjectLockRetentionDays' } } },
    });
    expect(b.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(b.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault).toEqual({
      SSEAlgorithm: 'aws:kms',
      KMSMasterKeyID: { 'Fn::GetAtt': ['Key', 'Arn'] },
    });
    expect(b.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(one('AWS::S3::BucketPolicy').PolicyDocument.Statement).toEqual([
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    ]);
    expect(resources.EvidenceBucket!.DeletionPolicy).toBe('Retain');
  });

  it('gives the run table on-demand billing, a time to live and encryption with the key', () => {
    const t = one('AWS::DynamoDB::Table');
    expect(t.BillingMode).toBe('PAY_PER_REQUEST');
    expect(t.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    expect(t.SSESpecification).toEqual({ SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { Ref: 'Key' } });
  });

  it('keeps every log group for the retention the parameter sets', () => {
    const groups = ofType('AWS::Logs::LogGroup');
    expect(groups.length).toBe(4);
    for (const [, g] of groups) expect(g.Properties.RetentionInDays).toEqual({ Ref: 'LogRetentionDays' });
  });

  it('allows no wildcard action anywhere (the one "s3:*" is the TLS-only Deny)', () => {
    for (const { where, st } of statements()) {
      if (st.Effect === 'Deny') continue;
      for (const a of actionsOf(st)) expect(a, `${where} ${st.Sid ?? ''}`).not.toMatch(/\*/);
    }
    expect(
      statements()
        .filter(({ st }) => actionsOf(st).some((a) => a.includes('*')))
        .map(({ st }) => st.Sid),
    ).toEqual(['DenyWithoutTls']);
  });

  it("allows each action a playbook declares or Firebreak's own use names, and only those, each a real IAM action", () => {
    const own = new Set([
      ...Object.values(P).flat(),
      ...RUN_PERMISSIONS,
      ...ROUTING_PERMISSIONS,
      'lambda:InvokeFunction',
      'sns:Publish',
      'sts:AssumeRole',
      'states:StartExecution',
      'states:DescribeExecution',
    ]);
    const declared = new Set(table.routes.flatMap((r) => permissionsOfPlaybook(r.loaded, getAction, { withUndo: true })));
    for (const { where, st } of statements()) {
      if (st.Effect === 'Deny') continue;
      for (const a of actionsOf(st)) {
        expect(own.has(a) || declared.has(a), `${where}: ${a}`).toBe(true);
        if (SNAPSHOT_SERVICES.has(a.slice(0, a.indexOf(':')))) expect(isKnownAction(a), `${where}: ${a} is not an IAM action`).toBe(true);
      }
    }
    const worker = resources.WorkerRole!.Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement).flatMap(actionsOf);
    for (const a of declared) expect(worker, a).toContain(a);
  });

  it('compiles each state machine with the route-chosen approvals decided per run, and the worker substituted in', () => {
    const sm = resources[stateMachineId('ec2-instance-compromise')]!.Properties;
    const asl = JSON.parse(sm.DefinitionString);
    const result = validate(structuredClone(asl), { checkPaths: true, checkArn: true });
    expect(result.errors).toEqual([]);
    expect(asl.States.isolate.Type).toBe('Choice');
    expect(asl.States.contain.Branches[0].States.preserve.Type).toBe('Choice');
    expect(asl.States.snapshot.Type).toBe('Task');
    expect(sm.DefinitionString).toContain('${WorkerFunctionArn}');
    expect(sm.DefinitionSubstitutions).toEqual({ WorkerFunctionArn: { 'Fn::GetAtt': ['WorkerFunction', 'Arn'] } });
    expect(sm.StateMachineType).toBe('STANDARD');
  });

  it('holds the undo state machine (valid ASL, the worker substituted in) and the policy responders need to undo, resume and approve', () => {
    const sm = resources.UndoStateMachine!.Properties;
    const asl = JSON.parse(sm.DefinitionString);
    expect(validate(structuredClone(asl), { checkPaths: true, checkArn: true }).errors).toEqual([]);
    expect(sm.StateMachineName).toEqual({ 'Fn::Sub': '${AWS::StackName}-undo' });
    expect(sm.DefinitionSubstitutions).toEqual({ WorkerFunctionArn: { 'Fn::GetAtt': ['WorkerFunction', 'Arn'] } });
    expect(asl.States.undo.MaxConcurrency).toBe(1);
    const operator = resources.OperatorPolicy!.Properties.PolicyDocument.Statement;
    expect(operator.map((st: any) => [st.Sid, st.Action, st.Resource])).toEqual([
      [
        'StartUndo',
        ['states:StartExecution'],
        { 'Fn::Sub': 'arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:${AWS::StackName}-undo' },
      ],
      [
        'FollowAndRedriveRuns',
        ['states:DescribeExecution', 'states:RedriveExecution'],
        ['ec2-instance-compromise', 'undo'].map((id) => ({
          'Fn::Sub': `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:execution:\${AWS::StackName}-${id}:*`,
        })),
      ],
      ['AnswerApprovals', ['states:SendTaskFailure', 'states:SendTaskSuccess'], '*'],
    ]);
    expect(template.Outputs).toMatchObject({ UndoStateMachineArn: { Value: { Ref: 'UndoStateMachine' } } });
  });

  it('writes YAML with short-form tags that reads back into the same template, byte for byte the same each time', () => {
    const text = toYaml(template);
    expect(text).toContain('!Ref CodeBucket');
    expect(text).toContain('!GetAtt WorkerFunction.Arn');
    expect(text).toContain('!Sub ');
    expect(text).not.toContain('Fn::GetAtt');
    expect(text).toContain('AWSTemplateFormatVersion: "2010-09-09"');
    expect(text).not.toMatch(/Version: 2012-10-17/);
    expect(parseTemplate(text)).toEqual(template);
    expect(toYaml(deploymentTemplate(loadRoutes('routes.yaml').routes))).toBe(text);
  });
});

describe('firebreak deploy-template: what the routes decide', () => {
  it('a GuardDuty-only table gets no Security Hub rule and no alarm topic', () => {
    const only = parseRoutes(
      [
        'routes:',
        '  - name: mining',
        '    match: { source: guardduty, type: "CryptoCurrency:EC2/*", minSeverity: 7 }',
        '    playbook: ec2-instance-compromise',
        '    inputs: { instanceId: "{% resources.instanceIds[0] %}" }',
        '',
      ].join('\n'),
      'routes.yaml',
    );
    const t = deploymentTemplate(only.routes) as { Resources: Record<string, { Type: string; Properties: any }> };
    const rules = Object.values(t.Resources).filter((r) => r.Type === 'AWS::Events::Rule');
    expect(rules.map((r) => r.Properties.EventPattern)).toEqual([
      { source: ['aws.guardduty'], 'detail-type': ['GuardDuty Finding'], detail: { severity: [{ numeric: ['>=', 7] }] } },
    ]);
    expect(t.Resources.AlarmTopic).toBeUndefined();
    expect(t.Resources.RouterRole!.Properties.Policies[0].PolicyDocument.Statement.map((s: any) => s.Sid)).not.toContain(
      'RoutingReadsTags',
    );
  });
});
