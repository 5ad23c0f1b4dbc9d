/**
 * The CloudFormation template of a Firebreak deployment, generated from the routing table: the
 * router and worker Lambdas (code from `firebreak package`), one Standard state machine per playbook
 * the routes name (the compiler's definition), EventBridge rules for the alert sources the routes
 * match, the SNS topics (approvals; CloudWatch alarms), the run store (DynamoDB table, S3 bucket with
 * Object Lock), a KMS key, log groups, and IAM roles with the playbooks' declared permissions plus
 * exactly the Step Functions, store, SNS, KMS and log actions Firebreak itself uses. No Allow
 * statement names a wildcard action. The same routes give the same bytes.
 *
 * What the router must know at run time comes from its environment: the state machine of each
 * playbook (`FIREBREAK_STATE_MACHINES`, JSON), the table, bucket and topic names.
 */
import { getAction } from '../actions/registry.js';
import { policyForPlaybook, type PolicyStatement } from '../iam/policy.js';
import type { PlaybookT, StepT } from '../playbook/schema.js';
import { compileToAsl, WORKER_PLACEHOLDER } from '../sfn/compile.js';
import { UNDO_MACHINE, undoDefinition } from '../sfn/undo-machine.js';
import { ROUTING_PERMISSIONS } from '../triggers/tags.js';
import type { LoadedRoute } from '../triggers/routes.js';
import { GetAtt, Ref, Sub, type Cfn } from './cfn.js';
import * as P from './permissions.js';

export interface TemplateOptions {
  /** The task token timeout of steps waiting for a person. */
  approvalTimeoutSeconds?: number;
}

type Resources = Record<string, Record<string, Cfn>>;

/** Alert sources as EventBridge sees them; CloudWatch alarms come through the alarm topic instead. */
const EVENT_SOURCES: Record<string, { source: string; detailType: string }> = {
  guardduty: { source: 'aws.guardduty', detailType: 'GuardDuty Finding' },
  securityhub: { source: 'aws.securityhub', detailType: 'Security Hub Findings - Imported' },
};

export const pascal = (s: string) =>
  s
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');
export const stateMachineId = (playbook: string) => `StateMachine${pascal(playbook)}`;

export function deploymentTemplate(routes: readonly LoadedRoute[], opts: TemplateOptions = {}): Record<string, Cfn> {
  const playbooks = new Map<string, { pb: PlaybookT; loaded: LoadedRoute['loaded']; perRun: Set<string> }>();
  for (const r of routes) {
    const id = r.loaded.playbook.id;
    const entry = playbooks.get(id) ?? { pb: r.loaded.playbook, loaded: r.loaded, perRun: new Set<string>() };
    for (const step of Object.keys(r.approval)) entry.perRun.add(step);
    playbooks.set(id, entry);
  }
  const ids = [...playbooks.keys()].sort();
  const sources = alertSources(routes);

  const resources: Resources = {
    ...keyAndStore(),
    ...topics(sources.has('cloudwatch')),
    ...logGroups(ids),
    ...roles(
      ids,
      [...playbooks.values()],
      routes.some((r) => r.match.tags !== undefined),
    ),
    ...functions(ids),
  };
  for (const id of ids) {
    const { pb, perRun } = playbooks.get(id)!;
    resources[stateMachineId(id)] = stateMachine(pb, [...perRun].sort(), opts);
  }
  Object.assign(resources, undoMachine(ids, opts));
  Object.assign(resources, eventRules(routes, sources));

  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: `Firebreak: alert-driven incident response on AWS Step Functions (${ids.join(', ')})`,
    Parameters: PARAMETERS,
    Conditions: { HasApprovalEmail: { 'Fn::Not': [{ 'Fn::Equals': [Ref('ApprovalEmail'), ''] }] } },
    Resources: resources,
    Outputs: outputs(ids, sources.has('cloudwatch')),
  };
}

const PARAMETERS = {
  CodeBucket: { Type: 'String', Description: 'S3 bucket holding the Lambda package (firebreak package)' },
  CodeKey: { Type: 'String', Description: 'S3 key of the Lambda package zip (firebreak package prints it)' },
  ApprovalEmail: { Type: 'String', Default: '', Description: 'Who is told a step waits for firebreak approve (empty: subscribe later)' },
  ObjectLockMode: {
    Type: 'String',
    Default: 'GOVERNANCE',
    AllowedValues: ['GOVERNANCE', 'COMPLIANCE'],
    Description: 'COMPLIANCE: not even the account root can shorten the retention',
  },
  ObjectLockRetentionDays: {
    Type: 'Number',
    Default: 365,
    MinValue: 1,
    Description: 'How long journals and evidence cannot be deleted or overwritten',
  },
  RunRetentionDays: {
    Type: 'Number',
    Default: 400,
    MinValue: 1,
    Description: "DynamoDB time to live of a finished run's records (the sealed journal stays in S3)",
  },
  LogRetentionDays: {
    Type: 'Number',
    Default: 365,
    AllowedValues: [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653],
    Description: 'CloudWatch Logs retention of the Lambdas and state machines',
  },
};

/** Which alert sources the routes can match (a route without a source matches every one). */
function alertSources(routes: readonly LoadedRoute[]): Set<string> {
  const out = new Set<string>();
  const known = ['cloudwatch', ...Object.keys(EVENT_SOURCES)];
  for (const r of routes) {
    const given = r.match.source === undefined ? undefined : [r.match.source].flat();
    for (const s of known) if (!given || given.some((g) => globLike(g, s))) out.add(s);
  }
  return out;
}

const globLike = (pattern: string, s: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  ).test(s);

function keyAndStore(): Resources {
  return {
    Key: {
      Type: 'AWS::KMS::Key',
      Properties: {
        Description: Sub('Firebreak ${AWS::StackName}: run store, evidence and notifications'),
        EnableKeyRotation: true,
        KeyPolicy: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'AccountAdministersTheKey',
              Effect: 'Allow',
              Principal: { AWS: Sub('arn:${AWS::Partition}:iam::${AWS::AccountId}:root') },
              Action: P.KEY_ADMIN_ACTIONS,
              Resource: '*',
            },
            {
              Sid: 'CloudWatchAlarmsPublishToTheEncryptedTopic',
              Effect: 'Allow',
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: P.KEY_USE_ACTIONS,
              Resource: '*',
              Condition: { StringEquals: { 'aws:SourceAccount': Ref('AWS::AccountId') } },
            },
          ],
        },
      },
    },
    KeyAlias: { Type: 'AWS::KMS::Alias', Properties: { AliasName: Sub('alias/${AWS::StackName}-firebreak'), TargetKeyId: Ref('Key') } },
    RunTable: {
      Type: 'AWS::DynamoDB::Table',
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Ref('Key') },
        DeletionProtectionEnabled: true,
      },
    },
    EvidenceBucket: {
      Type: 'AWS::S3::Bucket',
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        ObjectLockEnabled: true,
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: Ref('ObjectLockMode'), Days: Ref('ObjectLockRetentionDays') } },
        },
        VersioningConfiguration: { Status: 'Enabled' },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            { ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: GetAtt('Key', 'Arn') }, BucketKeyEnabled: true },
          ],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      },
    },
    EvidenceBucketPolicy: {
      Type: 'AWS::S3::BucketPolicy',
      Properties: {
        Bucket: Ref('EvidenceBucket'),
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            // AWS's own form of "TLS only": a Deny of every S3 action without TLS (a Deny, so the wildcard grants nothing).
            {
              Sid: 'DenyWithoutTls',
              Effect: 'Deny',
              Principal: '*',
              Action: 's3:*',
              Resource: [GetAtt('EvidenceBucket', 'Arn'), Sub('${EvidenceBucket.Arn}/*')],
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            },
          ],
        },
      },
    },
  };
}

function topics(alarms: boolean): Resources {
  const out: Resources = {
    ApprovalTopic: { Type: 'AWS::SNS::Topic', Properties: { DisplayName: 'Firebreak approvals', KmsMasterKeyId: Ref('Key') } },
    ApprovalEmailSubscription: {
      Type: 'AWS::SNS::Subscription',
      Condition: 'HasApprovalEmail',
      Properties: { TopicArn: Ref('ApprovalTopic'), Protocol: 'email', Endpoint: Ref('ApprovalEmail') },
    },
  };
  if (!alarms) return out;
  return {
    ...out,
    AlarmTopic: { Type: 'AWS::SNS::Topic', Properties: { DisplayName: 'Firebreak alarms', KmsMasterKeyId: Ref('Key') } },
    AlarmTopicPolicy: {
      Type: 'AWS::SNS::TopicPolicy',
      Properties: {
        Topics: [Ref('AlarmTopic')],
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'CloudWatchAlarmsOfThisAccount',
              Effect: 'Allow',
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: 'sns:Publish',
              Resource: Ref('AlarmTopic'),
              Condition: { StringEquals: { 'aws:SourceAccount': Ref('AWS::AccountId') } },
            },
          ],
        },
      },
    },
    AlarmTopicSubscription: {
      Type: 'AWS::SNS::Subscription',
      Properties: { TopicArn: Ref('AlarmTopic'), Protocol: 'lambda', Endpoint: GetAtt('RouterFunction', 'Arn') },
    },
    AlarmTopicInvokesRouter: {
      Type: 'AWS::Lambda::Permission',
      Properties: {
        Action: 'lambda:InvokeFunction',
        FunctionName: Ref('RouterFunction'),
        Principal: 'sns.amazonaws.com',
        SourceArn: Ref('AlarmTopic'),
      },
    },
  };
}

function logGroups(ids: string[]): Resources {
  const group = (name: Cfn) => ({
    Type: 'AWS::Logs::LogGroup',
    DeletionPolicy: 'Retain',
    UpdateReplacePolicy: 'Retain',
    Properties: { LogGroupName: name, RetentionInDays: Ref('LogRetentionDays') },
  });
  const out: Resources = {
    RouterLogGroup: group(Sub('/firebreak/${AWS::StackName}/router')),
    WorkerLogGroup: group(Sub('/firebreak/${AWS::StackName}/worker')),
  };
  // Step Functions' vended logs must go to a group under /aws/vendedlogs/ for its resource policy to fit.
  for (const id of ids) out[`${stateMachineId(id)}LogGroup`] = group(Sub(`/aws/vendedlogs/states/\${AWS::StackName}-${id}`));
  out[`${UNDO_ID}LogGroup`] = group(Sub(`/aws/vendedlogs/states/\${AWS::StackName}-${UNDO_MACHINE}`));
  return out;
}

const stateMachineName = (id: string) => `\${AWS::StackName}-${id}`;
const stateMachineArn = (id: string) =>
  Sub(`arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:stateMachine:${stateMachineName(id)}`);
/** A state machine's own executions (`execution:<machine>:<name>`); Distributed Map children are `executionArns`. */
const runExecutionArns = (id: string) =>
  Sub(`arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:execution:${stateMachineName(id)}:*`);
const executionArns = (id: string) =>
  Sub(`arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:execution:${stateMachineName(id)}/*`);

const assume = (service: string) => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }],
});
const allow = (Sid: string, Action: string[], Resource: Cfn, Condition?: Cfn) => ({
  Sid,
  Effect: 'Allow',
  Action,
  Resource,
  ...(Condition ? { Condition } : {}),
});
const policy = (name: string, statements: Cfn[]) => ({
  PolicyName: name,
  PolicyDocument: { Version: '2012-10-17', Statement: statements },
});

function storeStatements(): Cfn[] {
  return [
    allow('RunStoreTable', P.STORE_TABLE_ACTIONS, GetAtt('RunTable', 'Arn')),
    allow('RunStoreObjects', P.STORE_BUCKET_OBJECT_ACTIONS, Sub('${EvidenceBucket.Arn}/*')),
    allow('RunStoreBucket', P.STORE_BUCKET_ACTIONS, GetAtt('EvidenceBucket', 'Arn')),
    allow('RunStoreKey', P.KEY_USE_ACTIONS, GetAtt('Key', 'Arn')),
  ];
}

/** The actions the routed playbooks declare (their undo actions too: `firebreak undo` runs in the worker). */
function playbookStatements(entries: Array<{ loaded: LoadedRoute['loaded'] }>): PolicyStatement[] {
  const bySid = new Map<string, PolicyStatement>();
  for (const { loaded } of entries) {
    for (const st of policyForPlaybook(loaded, getAction, { withUndo: true }).Statement) {
      const prev = bySid.get(st.Sid);
      bySid.set(
        st.Sid,
        prev ? { ...prev, Action: [...new Set([...prev.Action, ...st.Action])].sort() } : { ...st, Action: [...st.Action] },
      );
    }
  }
  return [...bySid.values()].sort((a, b) => a.Sid.localeCompare(b.Sid));
}

function roles(ids: string[], entries: Array<{ loaded: LoadedRoute['loaded'] }>, routingLooksUpTags: boolean): Resources {
  const machines = ids.map(stateMachineArn);
  return {
    WorkerRole: {
      Type: 'AWS::IAM::Role',
      Properties: {
        AssumeRolePolicyDocument: assume('lambda.amazonaws.com'),
        Policies: [
          policy('playbook-actions', playbookStatements(entries)),
          policy('firebreak-worker', [
            ...storeStatements(),
            allow('NotifyApprovals', ['sns:Publish'], Ref('ApprovalTopic')),
            // SendTask* have no resource-level permissions in IAM: Resource must be "*".
            allow('AnswerOwnTaskTokens', P.WORKER_STATES_ACTIONS, '*'),
            allow('Logs', P.LAMBDA_LOG_ACTIONS, Sub('${WorkerLogGroup.Arn}:*')),
          ]),
        ],
      },
    },
    RouterRole: {
      Type: 'AWS::IAM::Role',
      Properties: {
        AssumeRolePolicyDocument: assume('lambda.amazonaws.com'),
        Policies: [
          policy('firebreak-router', [
            allow('StartRuns', ['states:StartExecution'], machines),
            allow('ReadRuns', ['states:DescribeExecution'], ids.map(runExecutionArns)),
            ...storeStatements(),
            ...(routingLooksUpTags ? [allow('RoutingReadsTags', [...ROUTING_PERMISSIONS], '*')] : []),
            allow('Logs', P.LAMBDA_LOG_ACTIONS, Sub('${RouterLogGroup.Arn}:*')),
          ]),
        ],
      },
    },
    StateMachineRole: {
      Type: 'AWS::IAM::Role',
      Properties: {
        AssumeRolePolicyDocument: assume('states.amazonaws.com'),
        Policies: [
          policy('firebreak-state-machines', [
            allow('InvokeWorker', ['lambda:InvokeFunction'], [GetAtt('WorkerFunction', 'Arn'), Sub('${WorkerFunction.Arn}:*')]),
            allow('DistributedMapChildren', P.DISTRIBUTED_MAP_ACTIONS, machines),
            allow('DistributedMapExecutions', P.DISTRIBUTED_MAP_EXECUTION_ACTIONS, ids.map(executionArns)),
            allow('LogDelivery', P.STATES_LOG_DELIVERY_ACTIONS, '*'),
          ]),
        ],
      },
    },
  };
}

function functions(ids: string[]): Resources {
  const common = (role: string, logGroup: string) => ({
    Runtime: 'nodejs22.x',
    Architectures: ['arm64'],
    Code: { S3Bucket: Ref('CodeBucket'), S3Key: Ref('CodeKey') },
    Role: GetAtt(role, 'Arn'),
    LoggingConfig: { LogGroup: Ref(logGroup), LogFormat: 'JSON' },
  });
  const store = {
    FIREBREAK_STORE_TABLE: Ref('RunTable'),
    FIREBREAK_STORE_BUCKET: Ref('EvidenceBucket'),
    FIREBREAK_STORE_KMS_KEY: GetAtt('Key', 'Arn'),
    FIREBREAK_STORE_OBJECT_LOCK_MODE: Ref('ObjectLockMode'),
    FIREBREAK_STORE_OBJECT_LOCK_DAYS: Ref('ObjectLockRetentionDays'),
    FIREBREAK_RUN_RETENTION_DAYS: Ref('RunRetentionDays'),
    NODE_OPTIONS: '--enable-source-maps',
  };
  const machines = `{${ids.map((id) => `"${id}":"\${${stateMachineId(id)}}"`).join(',')}}`;
  return {
    WorkerFunction: {
      Type: 'AWS::Lambda::Function',
      Properties: {
        Description: 'Firebreak worker: one phase of one playbook step (plan, approve, apply, verify, journal)',
        Handler: 'worker.handler',
        ...common('WorkerRole', 'WorkerLogGroup'),
        MemorySize: 1024,
        Timeout: 900,
        Environment: { Variables: { ...store, FIREBREAK_APPROVAL_TOPIC: Ref('ApprovalTopic') } },
      },
    },
    RouterFunction: {
      Type: 'AWS::Lambda::Function',
      Properties: {
        Description: 'Firebreak router: an alert starts (or joins) the execution named by its dedup key',
        Handler: 'router.handler',
        ...common('RouterRole', 'RouterLogGroup'),
        MemorySize: 512,
        Timeout: 60,
        Environment: { Variables: { ...store, FIREBREAK_STATE_MACHINES: Sub(machines) } },
      },
    },
  };
}

function stateMachine(pb: PlaybookT, perRun: string[], opts: TemplateOptions): Record<string, Cfn> {
  const asl = compileToAsl(pb, {
    permissionsOf: (id) => getAction(id).permissions,
    workerFunction: WORKER_PLACEHOLDER,
    approvalPerRun: perRun.filter((id) => stepExists(pb.steps, id)),
    ...(opts.approvalTimeoutSeconds ? { approvalTimeoutSeconds: opts.approvalTimeoutSeconds } : {}),
  });
  const id = stateMachineId(pb.id);
  return {
    Type: 'AWS::StepFunctions::StateMachine',
    Properties: {
      StateMachineName: Sub(stateMachineName(pb.id)),
      StateMachineType: 'STANDARD',
      RoleArn: GetAtt('StateMachineRole', 'Arn'),
      DefinitionString: JSON.stringify(asl),
      DefinitionSubstitutions: { WorkerFunctionArn: GetAtt('WorkerFunction', 'Arn') },
      LoggingConfiguration: {
        Level: 'ERROR',
        IncludeExecutionData: false,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: GetAtt(`${id}LogGroup`, 'Arn') } }],
      },
    },
  };
}

const UNDO_ID = 'UndoStateMachine';

/**
 * The undo state machine (`<stack>-undo`, sfn/undo-machine.ts) every deployment has: `firebreak undo`
 * of a run on Step Functions starts it. And the policy responders attach to their own roles to undo,
 * resume (redrive), follow and approve this deployment's executions.
 */
function undoMachine(ids: string[], opts: TemplateOptions): Resources {
  const asl = undoDefinition({
    workerFunction: WORKER_PLACEHOLDER,
    ...(opts.approvalTimeoutSeconds ? { approvalTimeoutSeconds: opts.approvalTimeoutSeconds } : {}),
  });
  const all = [...ids, UNDO_MACHINE];
  return {
    [UNDO_ID]: {
      Type: 'AWS::StepFunctions::StateMachine',
      Properties: {
        StateMachineName: Sub(stateMachineName(UNDO_MACHINE)),
        StateMachineType: 'STANDARD',
        RoleArn: GetAtt('StateMachineRole', 'Arn'),
        DefinitionString: JSON.stringify(asl),
        DefinitionSubstitutions: { WorkerFunctionArn: GetAtt('WorkerFunction', 'Arn') },
        LoggingConfiguration: {
          Level: 'ERROR',
          IncludeExecutionData: false,
          Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: GetAtt(`${UNDO_ID}LogGroup`, 'Arn') } }],
        },
      },
    },
    OperatorPolicy: {
      Type: 'AWS::IAM::ManagedPolicy',
      Properties: {
        Description: Sub('Firebreak ${AWS::StackName}: undo, resume, follow and approve runs on Step Functions'),
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            allow('StartUndo', P.OPERATOR_START_ACTIONS, stateMachineArn(UNDO_MACHINE)),
            allow('FollowAndRedriveRuns', P.OPERATOR_EXECUTION_ACTIONS, all.map(runExecutionArns)),
            // SendTask* have no resource-level permissions in IAM: Resource must be "*".
            allow('AnswerApprovals', P.OPERATOR_TASK_ACTIONS, '*'),
          ],
        },
      },
    },
  };
}

function stepExists(steps: Record<string, StepT>, id: string): boolean {
  return Object.entries(steps).some(([k, s]) => k === id || (s.type === 'parallel' && s.branches.some((b) => stepExists(b.steps, id))));
}

/** One rule per EventBridge source the routes can match; the router applies the routes' finer criteria. */
function eventRules(routes: readonly LoadedRoute[], sources: Set<string>): Resources {
  const out: Resources = {};
  for (const [name, ev] of Object.entries(EVENT_SOURCES)) {
    if (!sources.has(name)) continue;
    const pattern: Record<string, Cfn> = { source: [ev.source], 'detail-type': [ev.detailType] };
    // GuardDuty's severity is already 0–10: send nothing below the lowest minimum any matching route sets.
    if (name === 'guardduty') {
      const mins = routes
        .filter((r) => r.match.source === undefined || [r.match.source].flat().some((g) => globLike(g, name)))
        .map((r) => r.match.minSeverity);
      if (mins.every((m) => m !== undefined)) pattern.detail = { severity: [{ numeric: ['>=', Math.min(...(mins as number[]))] }] };
    }
    const rule = `Rule${pascal(name)}`;
    out[rule] = {
      Type: 'AWS::Events::Rule',
      Properties: {
        Description: `Firebreak: ${ev.detailType} events to the router`,
        State: 'ENABLED',
        EventPattern: pattern,
        Targets: [{ Id: 'router', Arn: GetAtt('RouterFunction', 'Arn') }],
      },
    };
    out[`${rule}InvokesRouter`] = {
      Type: 'AWS::Lambda::Permission',
      Properties: {
        Action: 'lambda:InvokeFunction',
        FunctionName: Ref('RouterFunction'),
        Principal: 'events.amazonaws.com',
        SourceArn: GetAtt(rule, 'Arn'),
      },
    };
  }
  return out;
}

function outputs(ids: string[], alarms: boolean): Record<string, Cfn> {
  const out: Record<string, Cfn> = {
    ApprovalTopicArn: { Description: 'Subscribe the on-call people here', Value: Ref('ApprovalTopic') },
    RunTableName: { Value: Ref('RunTable') },
    EvidenceBucketName: { Value: Ref('EvidenceBucket') },
    RouterFunctionArn: { Value: GetAtt('RouterFunction', 'Arn') },
  };
  if (alarms)
    out.AlarmTopicArn = {
      Description: 'Name this topic as the ALARM action of the CloudWatch alarms the routes match',
      Value: Ref('AlarmTopic'),
    };
  for (const id of ids) out[`${stateMachineId(id)}Arn`] = { Value: Ref(stateMachineId(id)) };
  out.UndoStateMachineArn = { Description: 'firebreak undo RUN starts its undo here (the default: <stack>-undo)', Value: Ref(UNDO_ID) };
  out.OperatorPolicyArn = {
    Description: "Attach to the responders' roles: firebreak undo, resume, runs and approve on this deployment's executions",
    Value: Ref('OperatorPolicy'),
  };
  return out;
}
