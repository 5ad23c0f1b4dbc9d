import { isIP } from 'node:net';
import * as z from 'zod';
import { defineAction, ManualTaskRequired } from '../define.js';
import { renderTemplate, runFacts } from '../shared/templates.js';

export const AWS_ABUSE_FORM = 'https://support.aws.amazon.com/#/contacts/report-abuse';
const AWS_IP_RANGES = 'https://ip-ranges.amazonaws.com/ip-ranges.json';

const Input = z.strictObject({
  remoteIp: z.string().refine((v) => isIP(v) !== 0, 'an IPv4 or IPv6 address such as 203.0.113.66'),
  remotePort: z.number().int().min(0).max(65535).optional(),
  /** What the address did, with times and time zone: the part of the report that gets it acted on. */
  activity: z.string().min(1).max(8000),
  firstSeen: z.iso.datetime({ offset: true }).optional(),
  lastSeen: z.iso.datetime({ offset: true }).optional(),
  /**
   * Our addresses and ports it targeted. Given explicitly, never collected from the run: the
   * report goes to a third party, which must not see account ids, ARNs or key ids.
   */
  targets: z.array(z.string().min(1).max(200)).max(50).default([]),
});
type Input = z.infer<typeof Input>;
type Output = { remoteIp: string; subject: string; body: string };

export default defineAction<Input, Output, Output>({
  id: 'support.prepare-abuse-report',
  summary: 'Write the abuse report about an attacking address and hand it to a person to send to the address owner (or to AWS)',
  description: [
    'Renders `templates/abuse-report.md.eta` for the owner of the attacking address and turns into a manual task: sending it',
    'needs a person, because the right recipient depends on who holds the address.',
    '',
    '- Address owned by AWS (listed in ip-ranges.json): report it to AWS Trust & Safety with the abuse form',
    `  (${AWS_ABUSE_FORM}); AWS does not act on reports sent to a Support case.`,
    "- Any other address: its registry's abuse contact (RDAP/whois `abuse` role), usually an abuse@ mailbox of the network.",
    '',
    'Only what the input names goes into the report (never account ids, ARNs or key ids from the run: the reader is outside',
    'the company). Keep the logs the report cites; owners ask for them with time stamps and time zone.',
  ].join('\n'),
  controls: ['CC18'],
  input: Input,
  mutating: true,
  permissions: [],

  async plan(ctx, input) {
    const f = runFacts(ctx);
    const r = renderTemplate('abuse-report', { incident: f.incident, runId: f.runId, now: f.now, ...input, targets: input.targets });
    return {
      changes: [{ resource: `owner of ${input.remoteIp}`, field: 'abuse report', before: null, after: r.subject }],
      alreadyDone: false,
      notes: ['sent by a person: the recipient depends on who holds the address'],
      facts: { remoteIp: input.remoteIp, ...r },
    };
  },

  async apply(_ctx, input, plan) {
    const { subject, body } = plan.facts;
    throw new ManualTaskRequired('an abuse report is sent by a person to the address owner', {
      title: `Report abuse from ${input.remoteIp} to its owner`,
      instructions: [
        `1. Is ${input.remoteIp} an AWS address? curl -s ${AWS_IP_RANGES} | jq -r '.prefixes[].ip_prefix, .ipv6_prefixes[].ipv6_prefix' and check whether a range holds it.`,
        `   AWS address: send the text below through the AWS abuse form, ${AWS_ABUSE_FORM} (or by email to abuse@amazonaws.com)`,
        `2. Otherwise find its abuse contact: curl -s https://rdap.org/ip/${input.remoteIp} | jq '.. | objects | select(.roles? | index("abuse")) | .vcardArray'`,
        `   (or: whois ${input.remoteIp} | grep -i abuse) and email the text below to it.`,
        '3. Confirm this task with where you sent it (and any ticket number) as the note.',
        '',
        `Subject: ${subject}`,
        '',
        body,
      ].join('\n'),
      output: { remoteIp: input.remoteIp, subject, body },
    });
  },

  async verify() {
    return [];
  },

  fallback: (i) => [`whois ${i.remoteIp ?? '<ip>'} | grep -i abuse`, `# AWS-owned address: ${AWS_ABUSE_FORM}`],
});
