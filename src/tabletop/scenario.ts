/**
 * The scenario file format of a tabletop exercise, as a zod schema (the JSON Schema editors use is
 * generated from `scenarioSchema`, never written by hand).
 *
 * A scenario is a world (inline or a world file), a timeline of injects at simulated times, and
 * objectives with points. Every inject and every objective is one entry with exactly one *kind*
 * key (`alert:`, `attacker:`, `ops:`, `note:`, `question:`; `instance-isolated:`, …), so a typo in
 * the kind is reported with a suggestion instead of being read as another kind.
 */
import * as z from 'zod';
import { FaultSchema } from '../sim/index.js';
import { isCidr4, isCidr6, parseIp } from '../core/net.js';

const Duration = z
  .union([z.string().regex(/^\d+(\.\d+)?(ms|s|m|h|d)?$/, 'a duration such as 30s, 15m or 2h'), z.number().nonnegative()])
  .describe('a duration such as 30s, 15m or 2h (a bare number is seconds)');
export const Name = z.string().regex(/^[a-z][a-z0-9-]*$/, 'lower-case letters, digits and -, starting with a letter');
const AccountId = z.string().regex(/^\d{12}$/, 'a 12-digit AWS account id');
const RegionName = z.string().regex(/^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/, 'a Region such as eu-west-1');
const InstanceId = z.string().regex(/^i-[0-9a-f]{8}([0-9a-f]{9})?$/, 'an instance id such as i-0abc123def4567890');
const Cidr = z.string().refine((s) => isCidr4(s) || isCidr6(s), 'a CIDR block such as 198.51.100.0/24');
const IpOrCidr = z.string().refine((s) => parseIp(s) !== undefined || isCidr4(s) || isCidr6(s), 'an IP address or a CIDR block');
const Port = z.number().int().min(0).max(65535);
const StepId = z.string().regex(/^[a-z][a-zA-Z0-9_-]*$/, 'a step id of the playbook');
const Approval = z.enum(['auto', 'required']);
const Service = z.enum(['ec2', 'iam', 'sts', 'autoscaling', 'elbv2', 'dlm', 'support', 'sns']);
const Operation = z.string().regex(/^[A-Z][A-Za-z0-9]+$/, 'an API operation such as DescribeInstances');

/** Exactly one of `keys` is present: the entry's kind. */
function exactlyOne<T extends Record<string, unknown>>(keys: readonly string[], what: string) {
  return (value: T, ctx: z.RefinementCtx) => {
    const present = keys.filter((k) => value[k] !== undefined);
    if (present.length === 1) return;
    ctx.addIssue({
      code: 'custom',
      path: present.length > 1 ? [present[1]!] : [],
      message:
        present.length === 0
          ? `${what} needs one of: ${keys.join(', ')}`
          : `${what} has both '${present[0]}' and '${present[1]}'; give one per entry`,
    });
  };
}

// ---------------------------------------------------------------------------------------------
// The attacker

const Credential = z.strictObject({
  accessKeyId: z.string().regex(/^(AKIA|ASIA)[A-Z0-9]{12,124}$/, 'an access key id (AKIA… or ASIA…)'),
  secretAccessKey: z.string().optional().describe('not checked by the simulated cloud; a fake one is used when omitted'),
  sessionToken: z.string().optional(),
});

export const AttackerSchema = z.strictObject({
  name: z.string().default('the attacker'),
  addresses: z
    .array(IpOrCidr)
    .min(1)
    .describe('where the attacker connects from; the first address is its command-and-control (C2) server'),
  c2Port: Port.default(443).describe('the port implants call home on'),
  credentials: z.record(Name, Credential).default({}).describe('credentials the attacker holds when the exercise starts, by name'),
  footholds: z.array(InstanceId).default([]).describe('instances the attacker already runs code on when the exercise starts'),
});

const AttackerKinds = {
  connect: z.strictObject({
    instance: InstanceId,
    from: IpOrCidr.optional().describe("the attacker's address, or a range it picks addresses from (seeded); default: its first address"),
    port: Port.describe("the instance's port (inbound) or the remote port (outbound)"),
    direction: z.enum(['inbound', 'outbound']).default('inbound'),
    protocol: z.enum(['tcp', 'udp']).default('tcp'),
    name: Name.optional().describe('names the connection for check-connection and exfiltrate'),
  }),
  'check-connection': z.strictObject({ name: Name }),
  'create-access-key': z.strictObject({ user: z.string().min(1), with: Name, as: Name }),
  'assume-role': z.strictObject({
    role: z.string().min(1).describe('role name or ARN'),
    with: Name,
    as: Name,
    sessionName: z
      .string()
      .regex(/^[\w+=,.@-]{2,64}$/)
      .default('attacker'),
  }),
  call: z.strictObject({ with: Name, service: Service, operation: Operation, input: z.record(z.string(), z.unknown()).default({}) }),
  'steal-instance-credentials': z.strictObject({ instance: InstanceId, as: Name }),
  exfiltrate: z.strictObject({
    instance: InstanceId,
    data: z.string().min(1),
    via: Name.optional().describe('a named connection; default: any open attacker connection, else a new call home'),
  }),
  'move-laterally': z.strictObject({ from: InstanceId, to: InstanceId, port: Port.default(22) }),
  'wipe-evidence': z.strictObject({ instance: InstanceId, what: z.string().default('logs and shell history') }),
} as const;
export const ATTACKER_KINDS = Object.keys(AttackerKinds) as Array<keyof typeof AttackerKinds>;

const attackerShape = Object.fromEntries(Object.entries(AttackerKinds).map(([k, s]) => [k, s.optional()])) as {
  [K in keyof typeof AttackerKinds]: z.ZodOptional<(typeof AttackerKinds)[K]>;
};

/** One thing the attacker tries; `otherwise` is what it tries next when this fails (it adapts). */
const AttackerStep = z.strictObject(attackerShape).superRefine(exactlyOne(ATTACKER_KINDS, 'an attacker action'));
export const AttackerActionSchema = z
  .strictObject({ ...attackerShape, otherwise: z.array(AttackerStep).optional().describe('tried in order when this action fails') })
  .superRefine(exactlyOne(ATTACKER_KINDS, 'an attacker action'));

// ---------------------------------------------------------------------------------------------
// Alerts

/** A GuardDuty finding as EventBridge delivers it in `detail`; Firebreak fills ids, account, region and times. */
const GuardDutyFinding = z.looseObject({
  type: z.string().min(1).describe('the finding type, e.g. CryptoCurrency:EC2/BitcoinTool.B!DNS'),
  severity: z.number().min(0).max(10),
  resource: z.looseObject({ resourceType: z.string().min(1) }),
  service: z.looseObject({}).optional(),
  id: z.string().optional(),
  title: z.string().optional(),
  description: z.string().optional(),
});

/** An AWS Security Finding Format finding; Firebreak fills SchemaVersion, Id, ProductArn, account and times. */
const SecurityHubFinding = z.looseObject({
  Title: z.string().min(1),
  Description: z.string().default(''),
  Types: z.array(z.string()).min(1),
  Severity: z.looseObject({ Label: z.enum(['INFORMATIONAL', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL']) }),
  Resources: z.array(z.looseObject({ Type: z.string(), Id: z.string() })).min(1),
  Id: z.string().optional(),
  GeneratorId: z.string().optional(),
});

export const AlertSchema = z
  .strictObject({
    guardduty: GuardDutyFinding.optional(),
    securityhub: SecurityHubFinding.optional(),
    event: z.record(z.string(), z.unknown()).optional().describe('any other alert, as the JSON event that arrives'),
    playbook: z.string().min(1).optional().describe('the playbook to run; omit to route the alert as production does'),
    inputs: z.record(z.string(), z.unknown()).optional().describe('playbook inputs; {% %} expressions read $alert (the event)'),
    approvals: z.record(StepId, Approval).optional().describe('approval policy per step, overriding the playbook (as a route does)'),
    account: AccountId.optional().describe("the account the finding comes from (default: the world's home account)"),
    region: RegionName.optional().describe("the Region the finding comes from (default: the world's home Region)"),
    roleArn: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:iam::(\d{12}|\{%[^%]*%\}):role\//,
        'a role ARN, or a template such as arn:aws:iam::{% account %}:role/FirebreakResponder',
      )
      .optional()
      .describe('with playbook: the responder role the run acts through, a template over the alert as in a route'),
    externalId: z.string().min(2).optional().describe('with roleArn: the external id (a string or a template over the alert)'),
  })
  .superRefine(exactlyOne(['guardduty', 'securityhub', 'event'], 'an alert'))
  .superRefine((a, ctx) => {
    if (a.roleArn !== undefined && a.playbook === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['roleArn'],
        message: "a routed alert acts through its route's role; roleArn needs a playbook",
      });
    }
    if (a.inputs !== undefined && a.playbook === undefined) {
      ctx.addIssue({ code: 'custom', path: ['inputs'], message: 'inputs need a playbook; a routed alert takes its inputs from the route' });
    }
  });

// ---------------------------------------------------------------------------------------------
// Operational events

const FaultOperation = z
  .string()
  .regex(/^(\*|[a-z0-9-]+:(\*|[A-Za-z0-9]+))$/, "an operation such as 'ec2:ModifyNetworkInterfaceAttribute', 'ec2:*' or '*'");

const OpsKinds = {
  throttle: z.strictObject({
    operation: FaultOperation,
    error: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9.]*$/)
      .default('Throttling')
      .describe("'Throttling' becomes each service's own code (EC2: RequestLimitExceeded)"),
    times: z.number().int().positive().optional().describe('how many calls are refused (default: all, until `for` ends)'),
    for: Duration.optional(),
  }),
  fault: z.strictObject({ fault: FaultSchema, for: Duration.optional() }),
  'approver-unavailable': z.strictObject({ for: Duration, who: z.string().default('the approver') }),
} as const;
export const OPS_KINDS = Object.keys(OpsKinds) as Array<keyof typeof OpsKinds>;
const opsShape = Object.fromEntries(Object.entries(OpsKinds).map(([k, s]) => [k, s.optional()])) as {
  [K in keyof typeof OpsKinds]: z.ZodOptional<(typeof OpsKinds)[K]>;
};
export const OpsSchema = z.strictObject(opsShape).superRefine(exactlyOne(OPS_KINDS, 'an operational event'));

// ---------------------------------------------------------------------------------------------
// The timeline

export const INJECT_KINDS = ['alert', 'attacker', 'ops', 'note', 'question'] as const;

export const InjectSchema = z
  .strictObject({
    at: Duration.describe('simulated time since the exercise started'),
    id: Name.optional().describe('names the inject for objectives (from:, attack-stopped:) and the report'),
    title: z.string().optional(),
    repeat: z
      .strictObject({ every: Duration, times: z.number().int().min(2).max(500) })
      .optional()
      .describe('fire again every interval, `times` in all'),
    alert: AlertSchema.optional(),
    attacker: AttackerActionSchema.optional(),
    ops: OpsSchema.optional(),
    note: z.string().optional().describe('a facilitator note, shown when the inject fires'),
    question: z.string().optional().describe('a discussion question for the players'),
  })
  .superRefine(exactlyOne(INJECT_KINDS, 'an inject'));

// ---------------------------------------------------------------------------------------------
// Objectives

const ObjectiveKinds = {
  'instance-isolated': z
    .strictObject({
      instance: InstanceId,
      account: AccountId.optional().describe("the instance's account (default: the world's home account)"),
      region: RegionName.optional().describe("the instance's Region (default: the world's home Region)"),
    })
    .describe('every interface only in groups without rules, and no open connection left'),
  'connections-closed': z
    .strictObject({ instance: InstanceId.optional(), connection: Name.optional() })
    .describe('no attacker connection open (on the instance, or the named one)'),
  'snapshot-before-change': z
    .strictObject({ instance: InstanceId })
    .describe('every volume of the instance snapshotted before anyone (or the attacker) changes it'),
  'no-collateral': z
    .strictObject({ tags: z.record(z.string(), z.string()).default({}), except: z.array(InstanceId).default([]) })
    .describe('no other instance (with these tags) isolated, stopped or re-profiled'),
  'support-case-opened': z
    .strictObject({ severity: z.enum(['low', 'normal', 'high', 'urgent', 'critical']).optional() })
    .describe('an AWS support case opened (by API, or confirmed done by hand)'),
  'access-key-disabled': z
    .strictObject({ accessKeyId: z.string().regex(/^AKIA[A-Z0-9]{16}$/) })
    .describe('the key exists and is Inactive (disabled, not deleted)'),
  'credential-revoked': z.strictObject({ credential: Name }).describe("the attacker's named credential no longer works"),
  'attacker-locked-out': z
    .strictObject({})
    .describe('every credential the attacker holds has stopped working, and no attacker connection is open'),
  'address-range-blocked': z
    .strictObject({ cidr: Cidr, instance: InstanceId, port: Port.default(22) })
    .describe("the instance's subnet network ACL refuses the range"),
  'attack-stopped': z.strictObject({ inject: Name }).describe('the attacker inject fails (each later repetition too, when sustained)'),
  'step-completed': z.strictObject({
    step: StepId,
    playbook: z.string().optional(),
    status: z.array(z.enum(['applied', 'already-done', 'manual'])).default(['applied', 'already-done']),
  }),
  'instance-profile-removed': z
    .strictObject({ instance: InstanceId })
    .describe("the instance no longer hands out its original role's credentials"),
} as const;
export const OBJECTIVE_KINDS = Object.keys(ObjectiveKinds) as Array<keyof typeof ObjectiveKinds>;
const objectiveShape = Object.fromEntries(Object.entries(ObjectiveKinds).map(([k, s]) => [k, s.optional()])) as {
  [K in keyof typeof ObjectiveKinds]: z.ZodOptional<(typeof ObjectiveKinds)[K]>;
};

export const ObjectiveSchema = z
  .strictObject({
    id: Name,
    title: z.string().min(1),
    points: z.number().int().min(0).max(1000).default(10),
    capability: z.string().optional().describe('the HSEEP core capability it exercises, e.g. Operational Coordination'),
    within: Duration.optional().describe('deadline, counted from `from`'),
    from: z.string().default('first-alert').describe("'first-alert', 'start', or an inject id"),
    sustained: z.boolean().default(false).describe('once met it must stay met until the end, or it is lost'),
    strength: z.string().optional().describe('what the report says when it is met'),
    improvement: z.string().optional().describe('the corrective action the report proposes when it is missed'),
    ...objectiveShape,
  })
  .superRefine(exactlyOne(OBJECTIVE_KINDS, 'an objective'));

// ---------------------------------------------------------------------------------------------
// The scenario

export const ExpectSchema = z.strictObject({
  score: z.number().int().min(0).optional().describe('points the run must reach exactly'),
  met: z.array(Name).optional(),
  missed: z.array(Name).optional(),
});

export const ClockSchema = z.strictObject({
  decision: Duration.default('2m').describe('simulated time a player decision takes'),
  automatic: Duration.default('30s').describe('simulated time a step the approval policy lets through takes'),
  manual: Duration.default('10m').describe('simulated time a manual task takes'),
  jitter: Duration.default(0).describe('random variation (seeded) added to or taken from each decision'),
});

export const scenarioSchema = z.strictObject({
  id: Name,
  title: z.string().min(1),
  description: z.string().optional(),
  controls: z.array(z.string()).default([]),
  capabilities: z.array(z.string()).default([]).describe('HSEEP core capabilities exercised'),
  world: z
    .union([z.string().min(1), z.record(z.string(), z.unknown())])
    .describe('a world file (relative to this file) or the world inline'),
  start: z.iso.datetime({ offset: true }).optional().describe("simulated start time (default: the world's time)"),
  duration: Duration.optional().describe('the exercise ends at this simulated time (default: the last inject)'),
  routes: z
    .string()
    .min(1)
    .optional()
    .describe('the routing table for alerts that name no playbook, relative to this file (default: routes.yaml of the working directory)'),
  clock: ClockSchema.prefault({}),
  attacker: AttackerSchema.optional(),
  timeline: z.array(InjectSchema).min(1),
  objectives: z.array(ObjectiveSchema).min(1),
  expect: z
    .strictObject({ auto: ExpectSchema.optional() })
    .optional()
    .describe('what `--auto` must score: a regression test of the playbooks'),
});

export type ScenarioT = z.output<typeof scenarioSchema>;
export type InjectT = z.output<typeof InjectSchema>;
export type AlertT = z.output<typeof AlertSchema>;
export type AttackerT = z.output<typeof AttackerSchema>;
export type AttackerActionT = z.output<typeof AttackerActionSchema>;
export type AttackerStepT = Omit<AttackerActionT, 'otherwise'>;
export type OpsT = z.output<typeof OpsSchema>;
export type ObjectiveT = z.output<typeof ObjectiveSchema>;
export type ExpectT = z.output<typeof ExpectSchema>;
export type ClockT = z.output<typeof ClockSchema>;
export type ObjectiveKind = (typeof OBJECTIVE_KINDS)[number];
export type AttackerKind = (typeof ATTACKER_KINDS)[number];

/** The kind key of an entry (the one of `kinds` it holds). */
export function kindOf<K extends string>(entry: object, kinds: readonly K[]): K {
  const k = kinds.find((x) => (entry as Record<string, unknown>)[x] !== undefined);
  if (!k) throw new Error(`entry has none of ${kinds.join(', ')}`);
  return k;
}

/** The JSON Schema editors use for scenario files (`# yaml-language-server: $schema=…`). */
export function scenarioJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(scenarioSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
