/**
 * Values for a runbook's example plan: resources that exist in the demo world (worlds/demo.yaml),
 * by conventional input name. They come before a playbook's own `examples`, which are written for
 * readers (AWS's documentation key `AKIAIOSFODNN7EXAMPLE`) and name nothing in the demo world, so
 * the plan would only show a NotFound. Extend this table when a new playbook uses a new input
 * name and its runbook's example plan fails or is missing.
 */
export const DEMO_WORLD_EXAMPLES: Readonly<Record<string, unknown>> = {
  instanceId: 'i-0abc123def4567890',
  instanceIds: ['i-0abc123def4567890'],
  subnetId: 'subnet-0aa11bb22cc33dd44',
  subnetIds: ['subnet-0aa11bb22cc33dd44'],
  vpcId: 'vpc-0a1b2c3d4e5f60718',
  networkAclId: 'acl-0a0a0a0a0a0a0a0a1',
  securityGroupId: 'sg-0123456789abcdef0',
  volumeId: 'vol-0ddd3333eeee4444f',
  accessKeyId: 'AKIAIOSFODNN7DEPLOY1',
  accessKeyIds: ['AKIAIOSFODNN7DEPLOY1'],
  userName: 'deploy-bot',
  roleName: 'web-app-role',
  cidr: '203.0.113.0/24',
  cidrs: ['203.0.113.0/24'],
  attackerCidrs: ['203.0.113.0/24'],
};

/** The example plan's run id and incident: fixed, so a runbook is the same on every machine. */
export const EXAMPLE_RUN_ID = 'example-run';
export const EXAMPLE_INCIDENT = 'example-incident';

/** Inputs that name an earlier incident (release, follow-up playbooks) get the example incident. */
export const INCIDENT_INPUTS = new Set(['incident', 'incidentId']);
