import type { CaseDetails, SupportClient } from '@aws-sdk/client-support';
import * as z from 'zod';
import { ActionFailed, InputError, isAwsError } from '../../core/errors.js';
import { defineAction, ManualTaskRequired } from '../define.js';
import { renderTemplate, runFacts } from '../shared/templates.js';
import { Support } from '../../cloud/sdk.js';

export const CONSOLE_CREATE_CASE = 'https://support.console.aws.amazon.com/support/home#/case/create';

const SEVERITY_NAMES = { low: 'Low', normal: 'Normal', high: 'High', urgent: 'Urgent', critical: 'Critical' } as const;

const Input = z.strictObject({
  /** One line: what happened. It is part of the subject, which is how a repeated run finds its case. */
  summary: z.string().min(1).max(160),
  /** More text for the body (what was seen, by whom). */
  details: z.string().max(8000).optional(),
  severity: z.enum(['low', 'normal', 'high', 'urgent', 'critical']).default('high'),
  /** From DescribeServices; checked against it before the case is opened. */
  serviceCode: z.string().min(1).default('general-info'),
  categoryCode: z.string().min(1).default('security'),
  language: z.enum(['en', 'ja']).default('en'),
  ccEmailAddresses: z.array(z.email()).max(10).default([]),
});
type Input = z.infer<typeof Input>;

interface Facts {
  subscribed: boolean;
  existing?: { caseId: string; displayId?: string; status?: string };
  subject: string;
  body: string;
}
export type OpenCaseOutput =
  | { caseId: string; displayId: string | null; subject: string; status: 'opened' | 'existing' }
  | { manual: true; subject: string; body: string; consoleUrl: string };

/** Every case of the account (resolved ones too: a resolved case for this incident is still its case). */
async function allCases(support: SupportClient, language: string): Promise<CaseDetails[]> {
  const cases: CaseDetails[] = [];
  const input = { includeResolvedCases: true, includeCommunications: false, maxResults: 100, language };
  for await (const page of Support.paginateDescribeCases({ client: support }, input)) cases.push(...(page.cases ?? []));
  return cases;
}

const noApi = (err: unknown) => isAwsError(err, 'SubscriptionRequiredException');

function manualTask(input: Input, subject: string, body: string): ManualTaskRequired {
  return new ManualTaskRequired(
    'the AWS Support API needs a Business, Enterprise On-Ramp or Enterprise support plan (SubscriptionRequiredException)',
    {
      title: 'Open an AWS Support case in the console',
      instructions: [
        `This account's support plan does not include the Support API, so open the case by hand: ${CONSOLE_CREATE_CASE}`,
        'Without a paid plan, an "Account and billing" case is still free and AWS handles security incidents (compromised',
        'credentials, abuse) through it. Paste the text below, then confirm this task with the case number as the note.',
        '',
        `Severity: ${SEVERITY_NAMES[input.severity]}   Service: ${input.serviceCode}   Category: ${input.categoryCode}   Language: ${input.language}`,
        ...(input.ccEmailAddresses.length ? [`CC: ${input.ccEmailAddresses.join(', ')}`] : []),
        '',
        `Subject: ${subject}`,
        '',
        body,
      ].join('\n'),
      output: { manual: true, subject, body, consoleUrl: CONSOLE_CREATE_CASE },
    },
  );
}

export default defineAction<Input, OpenCaseOutput, Facts>({
  id: 'support.open-case',
  summary:
    "Open an AWS Support case about the incident, with the run's facts (resources, containment done, times); a manual task when the account has no Support API",
  description: [
    "Renders `templates/support-case.md.eta` with the run's facts (incident and run ids, the resources in the inputs and in the",
    'outputs of the steps so far, what was done, when) and opens a case with CreateCase. The subject carries the incident id;',
    'a case with the same subject (DescribeCases, resolved ones included) means the case is already open and nothing is sent.',
    '',
    '**The trap:** the AWS Support API exists only for Business, Enterprise On-Ramp and Enterprise support plans; a Basic or',
    'Developer account gets `SubscriptionRequiredException` on every call. Then the step becomes a manual task that holds the',
    `ready-to-paste case text and the console address (${CONSOLE_CREATE_CASE}); a person opens the case and confirms.`,
    'Every account, Basic included, can open an "Account and billing" case about a security incident for free.',
    '',
    "The Support API has a single endpoint in us-east-1, whatever the run's Region. `serviceCode` and `categoryCode` are",
    'checked against DescribeServices before anything is sent (`aws support describe-services` lists them); `urgent` needs',
    'Business support and `critical` Enterprise On-Ramp or Enterprise. A support case is not undone by Firebreak: resolving',
    'it is a conversation with AWS.',
  ].join('\n'),
  controls: ['CC18'],
  input: Input,
  mutating: true,
  permissions: ['support:DescribeCases', 'support:DescribeServices', 'support:CreateCase'],

  async plan(ctx, input) {
    const support = ctx.aws.support;
    const facts = runFacts(ctx);
    const { subject, body } = renderTemplate('support-case', {
      ...facts,
      summary: input.summary,
      details: input.details,
      severityName: SEVERITY_NAMES[input.severity],
    });
    const [cases, services] = await Promise.all([
      allCases(support, input.language).catch((err) => {
        if (noApi(err)) return undefined;
        throw err;
      }),
      support.send(new Support.DescribeServicesCommand({ serviceCodeList: [input.serviceCode], language: input.language })).catch((err) => {
        if (noApi(err)) return undefined;
        throw err;
      }),
    ]);
    if (!cases || !services) {
      return {
        changes: [{ resource: 'AWS Support (console, by hand)', field: 'case', before: null, after: subject }],
        alreadyDone: false,
        notes: ['no Support API on this account (Basic or Developer plan): the case text is handed to a person to paste in the console'],
        facts: { subscribed: false, subject, body },
      };
    }
    const service = services.services?.find((s) => s.code === input.serviceCode);
    if (!service)
      throw new InputError(`unknown support service code '${input.serviceCode}'`, {
        field: 'serviceCode',
        hint: 'aws support describe-services --query "services[].code"',
      });
    const categories = (service.categories ?? []).map((c) => c.code!);
    if (!categories.includes(input.categoryCode)) {
      throw new InputError(
        `category '${input.categoryCode}' does not exist for support service '${input.serviceCode}' (it has: ${categories.join(', ')})`,
        { field: 'categoryCode' },
      );
    }
    const found = cases.find((c) => c.subject === subject);
    return {
      changes: found ? [] : [{ resource: 'AWS Support', field: 'case', before: null, after: `${subject} (severity ${input.severity})` }],
      alreadyDone: !!found,
      notes: found ? [`case ${found.displayId ?? found.caseId} (${found.status}) is already open for this incident`] : [],
      facts: {
        subscribed: true,
        subject,
        body,
        ...(found
          ? {
              existing: {
                caseId: found.caseId!,
                ...(found.displayId ? { displayId: found.displayId } : {}),
                ...(found.status ? { status: found.status } : {}),
              },
            }
          : {}),
      },
    };
  },

  async apply(ctx, input, plan) {
    const f = plan.facts;
    if (f.existing) return { caseId: f.existing.caseId, displayId: f.existing.displayId ?? null, subject: f.subject, status: 'existing' };
    if (!f.subscribed) throw manualTask(input, f.subject, f.body);
    let caseId: string;
    try {
      const out = await ctx.aws.support.send(
        new Support.CreateCaseCommand({
          subject: f.subject,
          communicationBody: f.body,
          severityCode: input.severity,
          serviceCode: input.serviceCode,
          categoryCode: input.categoryCode,
          language: input.language,
          issueType: 'technical',
          ...(input.ccEmailAddresses.length ? { ccEmailAddresses: input.ccEmailAddresses } : {}),
        }),
      );
      caseId = out.caseId!;
    } catch (err) {
      if (noApi(err)) throw manualTask(input, f.subject, f.body);
      throw err;
    }
    const shown = await ctx.aws.support.send(
      new Support.DescribeCasesCommand({
        caseIdList: [caseId],
        includeResolvedCases: true,
        includeCommunications: false,
        language: input.language,
      }),
    );
    const displayId = shown.cases?.[0]?.displayId ?? null;
    ctx.log(`AWS Support case ${displayId ?? caseId} opened`, { caseId });
    return { caseId, displayId, subject: f.subject, status: 'opened' };
  },

  async verify(ctx, input, output) {
    if ('manual' in output) return [];
    const shown = await ctx.aws.support.send(
      new Support.DescribeCasesCommand({
        caseIdList: [output.caseId],
        includeResolvedCases: true,
        includeCommunications: false,
        language: input.language,
      }),
    );
    const c = shown.cases?.[0];
    if (!c) throw new ActionFailed(`failed to find support case ${output.caseId}: DescribeCases did not return it`, 'CaseIdNotFound');
    return [
      {
        name: `support case ${c.displayId ?? output.caseId} exists with the incident subject`,
        ok: c.subject === output.subject,
        detail: c.status,
      },
    ];
  },

  fallback: (i) => [
    `aws support describe-services --language ${i.language ?? 'en'} --query "services[?code=='${i.serviceCode ?? 'general-info'}'].categories"`,
    `aws support create-case --region us-east-1 --subject "<subject>" --communication-body file://case.txt --severity-code ${i.severity ?? 'high'} --service-code ${i.serviceCode ?? 'general-info'} --category-code ${i.categoryCode ?? 'security'} --issue-type technical --language ${i.language ?? 'en'}`,
    `# no Business support plan: open the case in the console, ${CONSOLE_CREATE_CASE}`,
  ],
});
