/**
 * `firebreak deploy-template --responder-role`: the member accounts' role, for a StackSet. Trusted
 * only by the security account's principals with the external id; its policy is the one
 * `firebreak iam-policy --routes` prints for the same routing table and config.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseTemplate } from '../../src/deploy/cfn.js';
import { cli, tempHome } from '../helpers/cli.js';

const ROUTES = resolve('routes.yaml');

describe('firebreak deploy-template --responder-role', () => {
  it.each([
    ['without a notification topic', {}],
    ['with a notification topic', { notifications: { snsTopicArn: 'arn:aws:sns:us-east-1:111122223333:firebreak-waiting' } }],
  ])(
    '%s: the role trusts only the given principals with the external id, and its policy is what iam-policy --routes prints',
    async (_n, config) => {
      const home = tempHome();
      const configFile = join(home, 'firebreak.config.yaml');
      writeFileSync(configFile, stringify(config));
      const t = await cli(['deploy-template', '--responder-role', '--routes', ROUTES, '--config', configFile], { home });
      expect(t.stderr).toBe('');
      expect(t.code).toBe(0);
      const template = parseTemplate(t.stdout) as any;
      const role = template.Resources.ResponderRole;
      expect(role.Type).toBe('AWS::IAM::Role');
      expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
        {
          Effect: 'Allow',
          Principal: { AWS: { Ref: 'TrustedPrincipalArns' } },
          Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'],
          Condition: { StringEquals: { 'sts:ExternalId': { Ref: 'ExternalId' } } },
        },
      ]);
      expect(Object.keys(template.Parameters)).toEqual(['TrustedPrincipalArns', 'ExternalId', 'RoleName']);

      const p = await cli(['iam-policy', '--routes', ROUTES, '--config', configFile, '--json'], { home });
      expect(p.code).toBe(0);
      const printed = JSON.parse(p.stdout).policy;
      expect(role.Properties.Policies).toEqual([{ PolicyName: 'firebreak-playbooks', PolicyDocument: printed }]);
      // Not an empty agreement: the routed playbooks contain instances.
      expect(printed.Statement.flatMap((s: { Action: string[] }) => s.Action)).toContain('ec2:ModifyNetworkInterfaceAttribute');
      const topics = printed.Statement.filter((s: { Sid?: string }) => s.Sid === 'FirebreakNotify');
      expect(topics.length).toBe('notifications' in config ? 1 : 0);
    },
  );
});
