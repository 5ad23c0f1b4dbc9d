/** The AWS Support operations Firebreak sends. */
import { createHash } from 'node:crypto';
import type * as z from 'zod';
import type { SimContext, SimService } from '../../service.js';
import {
  API_PLANS,
  type Communication,
  SERVICES,
  SEVERITY_LEVELS,
  type SupportCase,
  type SupportWorld,
  type WithSupport,
} from './schema.js';
import { required } from '../../kit.js';

export const supportOf = (ctx: SimContext): SupportWorld => (ctx.world as WithSupport).support;

/** Every Support API call starts here: no suitable plan, no API. */
export function subscribed(ctx: SimContext): SupportWorld {
  const s = supportOf(ctx);
  if (!API_PLANS.has(s.plan)) {
    ctx.fail('SubscriptionRequiredException', 'Amazon Web Services Premium Support Subscription is required to use this service.', 400);
  }
  return s;
}

export function caseOrFail(ctx: SimContext, s: SupportWorld, caseId: string): SupportCase {
  const c = s.cases.find((x) => x.id === caseId);
  if (!c) ctx.fail('CaseIdNotFound', `Invalid case ID: ${caseId}`, 400);
  return c;
}

export function communicationOut(c: SupportCase, m: z.infer<typeof Communication>) {
  return { caseId: c.id, body: m.body, submittedBy: m.submittedBy, timeCreated: m.timeCreated, attachmentSet: [] };
}

export function caseOut(c: SupportCase, withCommunications: boolean) {
  return {
    caseId: c.id,
    displayId: c.displayId,
    subject: c.subject,
    status: c.status,
    serviceCode: c.serviceCode,
    categoryCode: c.categoryCode,
    severityCode: c.severityCode,
    submittedBy: c.submittedBy,
    // The Support API reports times as ISO strings, not timestamps.
    timeCreated: c.timeCreated,
    ...(withCommunications
      ? {
          recentCommunications: {
            communications: c.communications
              .slice(-5)
              .reverse()
              .map((m) => communicationOut(c, m)),
          },
        }
      : {}),
    ccEmailAddresses: [...c.ccEmailAddresses],
    language: c.language,
  };
}

export const handlers: SimService['handlers'] = {
  CreateCase(
    ctx: SimContext,
    input: {
      subject?: string;
      communicationBody?: string;
      serviceCode?: string;
      severityCode?: string;
      categoryCode?: string;
      ccEmailAddresses?: string[];
      language?: string;
      issueType?: string;
    },
  ) {
    const s = subscribed(ctx);
    const subject = required<string>(ctx, input, 'subject', 'json');
    const body = required<string>(ctx, input, 'communicationBody', 'json');
    const severity = input.severityCode ?? 'low';
    if (!SEVERITY_LEVELS.some((l) => l.code === severity))
      ctx.fail('ValidationException', `Invalid value for severityCode: ${severity}`, 400);
    const issueType = input.issueType ?? 'technical';
    if (issueType !== 'technical' && issueType !== 'customer-service')
      ctx.fail('ValidationException', `Invalid value for issueType: ${issueType}`, 400);
    const now = ctx.clock.now();
    const hex = ctx.newId('c', 16).slice(2);
    const c: SupportCase = {
      id: `case-${ctx.accountId}-${now.getUTCFullYear()}-${hex}`,
      displayId: String(parseInt(createHash('sha256').update(hex).digest('hex').slice(0, 8), 16)).padStart(10, '1'),
      subject,
      status: 'opened',
      serviceCode: input.serviceCode ?? 'general-info',
      categoryCode: input.categoryCode ?? 'other',
      severityCode: severity,
      issueType,
      submittedBy: ctx.caller.arn,
      timeCreated: now.toISOString(),
      language: input.language ?? 'en',
      ccEmailAddresses: [...(input.ccEmailAddresses ?? [])],
      communications: [{ body, submittedBy: ctx.caller.arn, timeCreated: now.toISOString() }],
    };
    s.cases.push(c);
    ctx.changed();
    return { caseId: c.id };
  },

  DescribeCases(
    ctx: SimContext,
    input: {
      caseIdList?: string[];
      displayId?: string;
      afterTime?: string;
      beforeTime?: string;
      includeResolvedCases?: boolean;
      includeCommunications?: boolean;
      maxResults?: number;
      nextToken?: string;
    },
  ) {
    const s = subscribed(ctx);
    for (const id of input.caseIdList ?? []) caseOrFail(ctx, s, id);
    const after = input.afterTime ? Date.parse(input.afterTime) : undefined;
    const before = input.beforeTime ? Date.parse(input.beforeTime) : undefined;
    const matching = s.cases.filter((c) => {
      if (input.caseIdList?.length && !input.caseIdList.includes(c.id)) return false;
      if (input.displayId && c.displayId !== input.displayId) return false;
      // Resolved cases are left out unless asked for, even when named in caseIdList.
      if (c.status === 'resolved' && !input.includeResolvedCases) return false;
      const t = Date.parse(c.timeCreated);
      if (after !== undefined && t < after) return false;
      if (before !== undefined && t > before) return false;
      return true;
    });
    const start = input.nextToken ? Number(input.nextToken) : 0;
    const size = input.maxResults ?? 100;
    const page = matching.slice(start, start + size);
    const withCommunications = input.includeCommunications ?? true;
    return {
      cases: page.map((c) => caseOut(c, withCommunications)),
      ...(start + size < matching.length ? { nextToken: String(start + size) } : {}),
    };
  },

  AddCommunicationToCase(ctx: SimContext, input: { caseId?: string; communicationBody?: string; ccEmailAddresses?: string[] }) {
    const s = subscribed(ctx);
    const c = caseOrFail(ctx, s, required(ctx, input, 'caseId', 'json'));
    const body = required<string>(ctx, input, 'communicationBody', 'json');
    c.communications.push({ body, submittedBy: ctx.caller.arn, timeCreated: ctx.clock.now().toISOString() });
    for (const cc of input.ccEmailAddresses ?? []) if (!c.ccEmailAddresses.includes(cc)) c.ccEmailAddresses.push(cc);
    ctx.changed();
    return { result: true };
  },

  DescribeCommunications(ctx: SimContext, input: { caseId?: string; maxResults?: number }) {
    const s = subscribed(ctx);
    const c = caseOrFail(ctx, s, required(ctx, input, 'caseId', 'json'));
    return {
      communications: c.communications
        .slice()
        .reverse()
        .slice(0, input.maxResults ?? 100)
        .map((m) => communicationOut(c, m)),
    };
  },

  ResolveCase(ctx: SimContext, input: { caseId?: string }) {
    const s = subscribed(ctx);
    const c = caseOrFail(ctx, s, required(ctx, input, 'caseId', 'json'));
    const initialCaseStatus = c.status;
    if (c.status !== 'resolved') {
      c.status = 'resolved';
      ctx.changed();
    }
    return { initialCaseStatus, finalCaseStatus: 'resolved' };
  },

  DescribeServices(ctx: SimContext, input: { serviceCodeList?: string[] }) {
    subscribed(ctx);
    const wanted = input.serviceCodeList;
    return {
      services: SERVICES.filter((svc) => !wanted?.length || wanted.includes(svc.code)).map((svc) => ({
        code: svc.code,
        name: svc.name,
        categories: svc.categories.map((c) => ({ ...c })),
      })),
    };
  },

  DescribeSeverityLevels(ctx: SimContext) {
    subscribed(ctx);
    return { severityLevels: SEVERITY_LEVELS.map((l) => ({ ...l })) };
  },
};
