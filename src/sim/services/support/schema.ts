/** The AWS Support slice of the world: the support plan and the cases opened. */
import * as z from 'zod';
import { Timestamp } from '../../kit.js';

export const SUPPORT_PLANS = ['basic', 'developer', 'business', 'enterprise-on-ramp', 'enterprise'] as const;
/** Plans that include the AWS Support API. */
export const API_PLANS: ReadonlySet<string> = new Set(['business', 'enterprise-on-ramp', 'enterprise']);

export const SEVERITY_LEVELS = [
  { code: 'low', name: 'Low' },
  { code: 'normal', name: 'Normal' },
  { code: 'high', name: 'High' },
  { code: 'urgent', name: 'Urgent' },
  { code: 'critical', name: 'Critical' },
] as const;

/** The services DescribeServices lists: the few an incident case is filed against. */
export const SERVICES = [
  {
    code: 'amazon-elastic-compute-cloud-linux',
    name: 'Elastic Compute Cloud (EC2 - Linux)',
    categories: [
      { code: 'instance-issue', name: 'Instance Issue' },
      { code: 'other', name: 'Other' },
    ],
  },
  {
    code: 'aws-identity-and-access-management',
    name: 'Identity and Access Management',
    categories: [
      { code: 'security-issue', name: 'Security Issue' },
      { code: 'other', name: 'Other' },
    ],
  },
  {
    code: 'general-info',
    name: 'General Info and Getting Started',
    categories: [
      { code: 'security', name: 'Security' },
      { code: 'other', name: 'Other' },
    ],
  },
] as const;

export const CASE_STATUSES = ['opened', 'pending-customer-action', 'reopened', 'resolved', 'unassigned', 'work-in-progress'] as const;

export const Communication = z.strictObject({
  body: z.string(),
  submittedBy: z.string(),
  timeCreated: Timestamp,
});

export const Case = z.strictObject({
  id: z.string().regex(/^case-/, 'a case id such as case-123456789012-2026-0123456789abcdef'),
  displayId: z.string(),
  subject: z.string(),
  status: z.enum(CASE_STATUSES).default('opened'),
  serviceCode: z.string().default('general-info'),
  categoryCode: z.string().default('other'),
  severityCode: z.enum(SEVERITY_LEVELS.map((s) => s.code) as [string, ...string[]]).default('low'),
  issueType: z.enum(['customer-service', 'technical']).default('technical'),
  submittedBy: z.string(),
  timeCreated: Timestamp,
  language: z.string().default('en'),
  ccEmailAddresses: z.array(z.string()).default([]),
  /** Oldest first. */
  communications: z.array(Communication).default([]),
});

export const schema = z
  .strictObject({
    plan: z.enum(SUPPORT_PLANS).default('basic').describe('the Support API needs business, enterprise-on-ramp or enterprise'),
    cases: z.array(Case).default([]),
  })
  .prefault({});

export type SupportWorld = z.infer<typeof schema>;
export type SupportCase = z.infer<typeof Case>;
export interface WithSupport {
  support: SupportWorld;
}
