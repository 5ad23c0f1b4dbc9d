/**
 * Least privilege derived from a playbook: the IAM actions its steps' actions declare (and,
 * with `withUndo`, those of their undo actions), plus the identity check every run makes,
 * grouped into one statement per service. The permission guard enforces the same declarations
 * at run time, so a policy generated here is the one the run needs.
 */
import type { ActionDef } from '../actions/define.js';
import { allSteps } from '../playbook/compile.js';
import type { LoadedPlaybook } from '../playbook/schema.js';

/** Every run asks STS who it is before its first write (journal, allowed-accounts guardrail). */
export const RUN_PERMISSIONS = ['sts:GetCallerIdentity'] as const;

export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow';
  Action: string[];
  Resource: '*' | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}
export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

export interface PlaybookActionUse {
  /** Step id, or `<step> (undo)` for an undo action. */
  step: string;
  action: string;
}

type Lookup = (id: string) => ActionDef;

/** The actions a playbook's steps run (map steps included), and their undo actions when asked. */
export function actionsOfPlaybook(loaded: LoadedPlaybook, getAction: Lookup, opts: { withUndo?: boolean } = {}): PlaybookActionUse[] {
  const uses: PlaybookActionUse[] = [];
  for (const { id, step } of allSteps(loaded.playbook)) {
    const actionId = (step as { action?: string }).action;
    if (!actionId) continue;
    uses.push({ step: id, action: actionId });
    const undo = getAction(actionId).undo;
    if (opts.withUndo && undo) uses.push({ step: `${id} (undo)`, action: undo.action });
  }
  return uses;
}

/** The IAM actions the playbooks need, sorted, without duplicates. */
export function permissionsOfPlaybook(
  loaded: LoadedPlaybook | readonly LoadedPlaybook[],
  getAction: Lookup,
  opts: { withUndo?: boolean } = {},
): string[] {
  const all = new Set<string>(RUN_PERMISSIONS);
  for (const one of [loaded].flat())
    for (const use of actionsOfPlaybook(one, getAction, opts)) for (const p of getAction(use.action).permissions) all.add(p);
  return [...all].sort();
}

/** What an automatic run needs beyond its playbooks' actions. */
export interface ExtraPermissions {
  /** SNS topics the "waiting for approval" notice is published to (`notifications.snsTopicArn`). */
  notificationTopics?: readonly string[];
  /** A route matches on tags: instance tags are read when the alert carries none. */
  tagLookup?: boolean;
}

/**
 * Why an IAM action keeps `Resource: "*"`. Per the Service Authorization Reference, EC2, Auto
 * Scaling and ELB Describe* calls, DLM's GetLifecyclePolicies, every AWS Support call and
 * sts:GetCallerIdentity name no resource type: IAM accepts only "*" for them. Every other action
 * Firebreak sends acts on the instance, user, role or ACL a step's inputs name, and those come from
 * `{% … %}` over the run's inputs or the alert: known only at run time.
 */
export function whyWildcard(permission: string): 'no resource-level permission' | 'resource known only at run time' {
  const [service, action = ''] = permission.split(':');
  if (service === 'support' || permission === 'sts:GetCallerIdentity' || permission === 'dlm:GetLifecyclePolicies')
    return 'no resource-level permission';
  if (['ec2', 'autoscaling', 'elasticloadbalancing'].includes(service!) && action.startsWith('Describe'))
    return 'no resource-level permission';
  return 'resource known only at run time';
}

const sidOf = (service: string) =>
  'Firebreak' +
  service
    .split(/[^a-z0-9]+/i)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');

/**
 * One statement per service. iam:PassRole gets its own statement limited to passing roles to EC2
 * (instance profiles are its only use here), so the policy cannot hand a role to Lambda or any
 * other service.
 */
export function policyForPlaybook(
  loaded: LoadedPlaybook | readonly LoadedPlaybook[],
  getAction: Lookup,
  opts: { withUndo?: boolean; extra?: ExtraPermissions } = {},
): PolicyDocument {
  const perms = permissionsOfPlaybook(loaded, getAction, opts);
  if (opts.extra?.tagLookup && !perms.includes('ec2:DescribeInstances')) perms.push('ec2:DescribeInstances');
  perms.sort();
  const byService = new Map<string, string[]>();
  for (const p of perms) {
    if (p === 'iam:PassRole') continue;
    const service = p.slice(0, p.indexOf(':'));
    byService.set(service, [...(byService.get(service) ?? []), p]);
  }
  const statements: PolicyStatement[] = [...byService.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([service, actions]) => ({ Sid: sidOf(service), Effect: 'Allow', Action: actions, Resource: '*' }));
  if (perms.includes('iam:PassRole')) {
    statements.push({
      Sid: 'FirebreakPassRoleToEc2',
      Effect: 'Allow',
      Action: ['iam:PassRole'],
      Resource: '*',
      Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
    });
  }
  const topics = [...new Set(opts.extra?.notificationTopics ?? [])].sort();
  // sns:Publish supports the topic as its resource, and the topic is in the config: scoped to it.
  if (topics.length > 0) statements.push({ Sid: 'FirebreakNotify', Effect: 'Allow', Action: ['sns:Publish'], Resource: topics });
  return { Version: '2012-10-17', Statement: statements };
}
