/**
 * Exactly the AWS actions Firebreak's own Lambdas and state machines use, besides what the playbooks'
 * actions declare (src/iam/policy.ts). Each list says who needs it; none holds a wildcard.
 */

/** The run store: journal order, locks, dedup claims and approval records, with conditional writes. */
export const STORE_TABLE_ACTIONS = [
  'dynamodb:ConditionCheckItem',
  'dynamodb:DeleteItem',
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:Query',
  'dynamodb:UpdateItem',
];

/** The sealed journal and evidence in S3 (Object Lock's default retention applies on write; no one deletes). */
export const STORE_BUCKET_OBJECT_ACTIONS = ['s3:GetObject', 's3:PutObject'];
export const STORE_BUCKET_ACTIONS = ['s3:ListBucket'];

/** The customer managed key that encrypts the table, the bucket and the topics. */
export const KEY_USE_ACTIONS = ['kms:Decrypt', 'kms:GenerateDataKey'];

/** A waiting step notifies people; the worker answers a token itself when no one needs to decide (a condition false, nothing to change). */
export const WORKER_STATES_ACTIONS = ['states:SendTaskFailure', 'states:SendTaskHeartbeat', 'states:SendTaskSuccess'];

/** The router starts one execution per alert and reads the one a repeat belongs to. */
export const ROUTER_STATES_ACTIONS = ['states:DescribeExecution', 'states:StartExecution'];

/**
 * People at the CLI (the OperatorPolicy the template creates, for the responders' own roles): `firebreak
 * undo` starts the undo state machine, `resume` redrives a failed execution, `runs` describes them,
 * `approve` answers a task token (SendTask* have no resource-level permissions: Resource "*").
 */
export const OPERATOR_START_ACTIONS = ['states:StartExecution'];
export const OPERATOR_EXECUTION_ACTIONS = ['states:DescribeExecution', 'states:RedriveExecution'];
export const OPERATOR_TASK_ACTIONS = ['states:SendTaskFailure', 'states:SendTaskSuccess'];

/** A state machine runs a Distributed Map as child executions of itself. */
export const DISTRIBUTED_MAP_ACTIONS = ['states:StartExecution'];
export const DISTRIBUTED_MAP_EXECUTION_ACTIONS = ['states:DescribeExecution', 'states:StopExecution'];

/** Lambda writes its own logs into the log group the template creates. */
export const LAMBDA_LOG_ACTIONS = ['logs:CreateLogStream', 'logs:PutLogEvents'];

/**
 * Step Functions delivers execution logs through CloudWatch Logs' vended-log delivery; AWS documents
 * these actions on Resource "*" (they have no resource-level permissions):
 * https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html
 */
export const STATES_LOG_DELIVERY_ACTIONS = [
  'logs:CreateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:DescribeLogGroups',
  'logs:DescribeResourcePolicies',
  'logs:GetLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:UpdateLogDelivery',
];

/** The key's administrators (the account) without `kms:*`: what managing and rotating the key takes. */
export const KEY_ADMIN_ACTIONS = [
  'kms:CancelKeyDeletion',
  'kms:CreateGrant',
  'kms:Decrypt',
  'kms:DescribeKey',
  'kms:DisableKey',
  'kms:EnableKey',
  'kms:EnableKeyRotation',
  'kms:Encrypt',
  'kms:GenerateDataKey',
  'kms:GetKeyPolicy',
  'kms:GetKeyRotationStatus',
  'kms:ListGrants',
  'kms:ListResourceTags',
  'kms:PutKeyPolicy',
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
  'kms:RetireGrant',
  'kms:RevokeGrant',
  'kms:ScheduleKeyDeletion',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:UpdateKeyDescription',
];
