/**
 * The routing table format (`routes.yaml`), as a zod schema; the JSON Schema editors use is
 * generated from it (`routesJsonSchema`), never written by hand.
 */
import * as z from 'zod';
import { toJsonSchema } from '../playbook/json-schema.js';
import { ApprovalPolicy, StepId } from '../playbook/schema.js';

export const ROUTES_SCHEMA_ID = 'urn:firebreak:schema:routes';

const OneOrMany = (s: z.ZodString) => z.union([s, z.array(s).min(1)]);
const Duration = z.string().regex(/^\d+(\.\d+)?(ms|s|m|h)$/, 'a duration such as 30s, 15m or 1h');

export const RouteMatch = z.strictObject({
  source: OneOrMany(z.string().min(1))
    .optional()
    .describe("guardduty, securityhub, cloudwatch, or a generic alert's source; * and ? are wildcards"),
  type: OneOrMany(z.string().min(1))
    .optional()
    .describe("finding type pattern, e.g. 'CryptoCurrency:EC2/*' (* any characters, ? one; ':' and '/' are literal)"),
  minSeverity: z.number().min(0).max(10).optional().describe('normalized severity 0–10 (GuardDuty: High is 7, Critical 9)'),
  account: OneOrMany(z.string().regex(/^\d{12}$/, 'a 12-digit AWS account id')).optional(),
  region: OneOrMany(z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as us-east-1')).optional(),
  tags: z
    .record(z.string().min(1), z.string())
    .optional()
    .describe(
      "every tag must be on one of the alert's instances, users or roles ('*' = any value); read from the alert, or with ec2:DescribeInstances when the alert carries none",
    ),
  samples: z.boolean().default(false).describe('match GuardDuty sample findings (generated from the console); off by default'),
});

export const Route = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and -'),
  description: z.string().optional(),
  match: RouteMatch.default({ samples: false }),
  playbook: z.string().min(1).describe('playbook name (playbooks/<name>.yaml) or path'),
  inputs: z
    .record(z.string(), z.unknown())
    .default({})
    .describe('playbook inputs; a value {% … %} is JSONata over the alert (resources.instanceIds[0], account, raw.detail…)'),
  approval: z.record(StepId, ApprovalPolicy).default({}).describe('per-step approval policy for this route, overriding the playbook'),
  lockTimeout: Duration.default('15m').describe('how long a step waits for a resource another run holds'),
  incident: z.string().optional().describe('incident id tagged on resources (default: the run id); may be {% … %}'),
  roleArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:iam::(\d{12}|\{%[^%]*%\}):role\/\S+$/, "a role ARN; the account may be {% account %} (the alert's)")
    .optional()
    .describe(
      "the responder role to act through, assumed in the alert's Region (default: roleArn in the config); {% … %} parts are JSONata over the alert",
    ),
  externalId: z.string().min(2).optional().describe('the external id the role requires; {% … %} parts are JSONata over the alert'),
});

export const RoutesFile = z.strictObject({
  routes: z.array(Route).min(1),
});

export type RouteT = z.infer<typeof Route>;
export type RouteMatchT = z.infer<typeof RouteMatch>;
export type RoutesFileT = z.infer<typeof RoutesFile>;

export function routesJsonSchema(): Record<string, unknown> {
  return toJsonSchema(RoutesFile, {
    id: ROUTES_SCHEMA_ID,
    title: 'Firebreak alert routes',
    description: 'Which alerts start which playbook, with which inputs and approvals. The first matching route wins.',
  });
}
