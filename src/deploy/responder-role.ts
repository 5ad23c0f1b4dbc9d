/**
 * The member-account responder role, as a CloudFormation template ready for a StackSet: deployed
 * to every member account, it lets only the security account's Firebreak principals assume it,
 * only with the agreed external id, and allows exactly what the routed playbooks need (the policy
 * `firebreak iam-policy --routes` prints, derived by src/iam/policy.ts).
 */
import { getAction } from '../actions/registry.js';
import type { Config } from '../config/config.js';
import { policyForPlaybook, type PolicyDocument } from '../iam/policy.js';
import type { LoadedRoute } from '../triggers/routes.js';
import { Ref, type Cfn } from './cfn.js';

/** The policy a responder role holds for these routes: what iam-policy --routes derives, without the run store (it lives in the security account). */
export function responderPolicy(routes: readonly LoadedRoute[], config: Config, opts: { withUndo?: boolean } = {}): PolicyDocument {
  const playbooks = [...new Map(routes.map((r) => [r.loaded.playbook.id, r.loaded])).values()];
  const topic = config.notifications.snsTopicArn;
  return policyForPlaybook(playbooks, getAction, {
    withUndo: !!opts.withUndo,
    extra: {
      tagLookup: routes.some((r) => r.match.tags !== undefined && Object.keys(r.match.tags).length > 0),
      ...(topic ? { notificationTopics: [topic] } : {}),
    },
  });
}

export function responderRoleTemplate(
  routes: readonly LoadedRoute[],
  config: Config,
  opts: { withUndo?: boolean } = {},
): Record<string, Cfn> {
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: 'Firebreak responder role for a member account (deploy with a StackSet); assumed only by the security account',
    Parameters: {
      TrustedPrincipalArns: {
        Type: 'CommaDelimitedList',
        Description:
          "ARNs of the security account's Firebreak roles (the router's and the worker's), e.g. arn:aws:iam::111122223333:role/Firebreak",
      },
      ExternalId: {
        Type: 'String',
        MinLength: 2,
        MaxLength: 1224,
        AllowedPattern: '[\\w+=,.@:/-]*',
        Description: 'the external id the security account presents (the route or config externalId)',
      },
      RoleName: { Type: 'String', Default: 'FirebreakResponder', Description: 'the name routes name in roleArn' },
    },
    Resources: {
      ResponderRole: {
        Type: 'AWS::IAM::Role',
        Properties: {
          RoleName: Ref('RoleName'),
          Description: 'Firebreak answers findings in this account through this role',
          // 1 hour: a session is renewed by the SDK before it expires; a run never holds one longer.
          MaxSessionDuration: 3600,
          AssumeRolePolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: { AWS: Ref('TrustedPrincipalArns') },
                // SetSourceIdentity: each session names the route or person that started the run.
                Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'],
                Condition: { StringEquals: { 'sts:ExternalId': Ref('ExternalId') } },
              },
            ],
          },
          Policies: [{ PolicyName: 'firebreak-playbooks', PolicyDocument: responderPolicy(routes, config, opts) }],
        },
      },
    },
    Outputs: { ResponderRoleArn: { Value: { 'Fn::GetAtt': ['ResponderRole', 'Arn'] } } },
  };
}
