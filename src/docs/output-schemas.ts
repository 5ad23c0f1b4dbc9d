/**
 * The shape of each command's `--json` output, declared once: `firebreak schemas` writes them to
 * `schemas/output/<command>.schema.json`, and a test checks each command's real output against
 * its schema. Every command that fails prints the one error document instead (`output/error`).
 */
import { z } from 'zod';

const problem = z.object({
  file: z.string().optional(),
  line: z.number().int().optional(),
  column: z.number().int().optional(),
  field: z.string().optional().describe('dot-path of the field, or the option / argument at fault'),
  message: z.string(),
});

export const errorOutput = z
  .object({
    error: problem.extend({
      code: z
        .string()
        .describe(
          'stable code: usage, invalid-input, failed, action-failed, aborted, guardrail-refused, waiting-for-approval, interrupted, no-credentials, internal',
        ),
      exitCode: z.number().int().describe('the exit status: 1 failed, 2 invalid input, 3 waiting, 130 interrupted'),
      hint: z.string().optional().describe('what to run next'),
      more: z.array(problem).optional().describe('further problems found in the same pass'),
    }),
  })
  .strict();

const runError = z.object({ code: z.string(), message: z.string(), hint: z.string().optional() });
const runStatus = z.enum(['running', 'waiting', 'succeeded', 'failed', 'aborted', 'interrupted', 'planned']);

export const runOutput = z
  .object({
    runId: z.string(),
    status: runStatus,
    outcome: z.string().nullable(),
    waitingStep: z.string().nullable(),
    runDir: z.string(),
    stopReason: runError
      .nullable()
      .describe(
        'why the run stopped (an AWS or Firebreak error code, or WaitingForApproval); null when it did not. Not `error`: that key is the failed-command document',
      ),
  })
  .strict();

export const approveOutput = z
  .object({
    runId: z.string(),
    step: z.string(),
    decision: z.enum(['approve', 'deny', 'abort', 'skip']),
    delivered: z
      .enum(['journal', 'inbox', 'store', 'task-token'])
      .describe(
        "journal: answered in the run's journal; inbox: posted to the waiting process; store: recorded in the AWS store's table; task-token: sent to the waiting Step Functions task",
      ),
    pid: z.number().int().optional(),
    table: z.string().optional().describe('the AWS store table the answer was recorded in (delivered: store)'),
  })
  .strict();

const executionStatus = z.enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE']);

/** `firebreak resume RUN` of a run Step Functions executes: what became of its execution. */
export const executionResumeOutput = z
  .object({
    runId: z.string(),
    execution: z.string().describe('the execution ARN'),
    status: executionStatus.describe("the execution's status now (RUNNING after a redrive)"),
    action: z.enum(['redriven', 'none']).describe('redriven: it had FAILED, TIMED_OUT or was ABORTED; none: running, or succeeded'),
    waiting: z.array(z.string()).describe('steps the running execution waits on a person for'),
    redriveCount: z.number().int(),
  })
  .strict();

/** `firebreak undo RUN` of a run Step Functions executed: the undo execution it started. */
export const undoExecutionOutput = z
  .object({
    runId: z.string(),
    undoRun: z.string().describe("the undo's own run id (firebreak approve UNDO-RUN STEP answers its steps)"),
    execution: z.string().describe("the undo execution's ARN"),
    steps: z.array(z.string()).describe("the undo playbook's steps, in the order they run (newest first)"),
    approval: z.enum(['auto', 'required']),
  })
  .strict();

export const runsOutput = z.array(
  z
    .object({
      id: z.string(),
      playbook: z.string().optional(),
      status: z.string(),
      waitingStep: z.string().nullable(),
      started: z.string().optional(),
      actor: z.string().optional(),
      execution: z
        .object({
          arn: z.string(),
          status: executionStatus,
          waiting: z.array(z.string()).describe('steps the running execution waits on a person for'),
          redriveCount: z.number().int(),
        })
        .strict()
        .nullable()
        .describe('the Step Functions execution that runs it, as DescribeExecution answers now; null for a run in a process'),
    })
    .strict(),
);

export const auditShowOutput = z
  .array(z.looseObject({ seq: z.number().int(), ts: z.string(), type: z.string(), prev: z.string() }))
  .describe('the journal events in order; each type’s fields are those of the journal');

export const auditVerifyOutput = z.looseObject({
  file: z.string(),
  ok: z.boolean(),
  events: z.number().int().optional(),
  head: z.string().optional(),
  line: z.number().int().optional(),
  reason: z.string().optional(),
});

export const validateOutput = z.array(
  z
    .object({
      file: z.string(),
      kind: z.enum(['playbook', 'routes', 'scenario', 'world', 'config', 'decisions']).nullable(),
      ok: z.boolean(),
      errors: z.array(problem),
      hint: z.string().optional(),
    })
    .strict(),
);

export const generatedOutput = z
  .object({
    ok: z.boolean(),
    check: z.boolean(),
    files: z.array(z.object({ path: z.string(), status: z.string() }).strict()),
  })
  .strict();

export const listOutput = z.array(
  z.union([
    z.looseObject({ id: z.string(), title: z.string(), file: z.string(), valid: z.literal(true) }),
    z.object({ id: z.string(), title: z.null(), file: z.string(), valid: z.literal(false), error: z.string() }).strict(),
    z
      .object({
        id: z.string(),
        summary: z.string(),
        mutating: z.boolean(),
        controls: z.array(z.string()),
        permissions: z.array(z.string()),
        undo: z.string().nullable(),
      })
      .strict(),
  ]),
);

const chain = z.looseObject({
  ok: z.boolean(),
  events: z.number().int().optional(),
  head: z.string().optional(),
  reason: z.string().optional(),
});
const policyDocument = z.looseObject({
  Version: z.string(),
  Statement: z.array(
    z.looseObject({ Effect: z.string(), Action: z.array(z.string()), Resource: z.union([z.string(), z.array(z.string())]) }),
  ),
});

export const iamPolicyOutput = z
  .object({
    playbooks: z.array(
      z
        .object({ playbook: z.string(), file: z.string(), actions: z.array(z.looseObject({ step: z.string(), action: z.string() })) })
        .strict(),
    ),
    withUndo: z.boolean(),
    routes: z.string().optional(),
    wildcards: z.array(z.object({ action: z.string(), why: z.string() }).strict()).describe('actions granted on Resource "*" and why'),
    policy: policyDocument.describe('the IAM policy document'),
  })
  .strict();

export const sfnOutput = z
  .object({
    playbook: z.string(),
    file: z.string().nullable().describe('where --out wrote the definition; null without --out'),
    states: z.number().int(),
    definition: z
      .looseObject({ StartAt: z.string(), States: z.record(z.string(), z.unknown()) })
      .describe('the Amazon States Language definition'),
  })
  .strict();

export const deployTemplateOutput = z
  .object({
    routes: z.string().describe('the routing table the template was made from'),
    file: z.string().nullable().describe('where --out wrote template.yaml; null without --out'),
    bytes: z.number().int().describe('size of the YAML template'),
    template: z.looseObject({ Resources: z.record(z.string(), z.unknown()) }).describe('the CloudFormation template'),
  })
  .strict();

export const packageOutput = z
  .object({ file: z.string(), key: z.string(), bytes: z.number().int(), sha256: z.string(), entries: z.array(z.string()) })
  .strict();

const alertSummary = z
  .object({ type: z.string(), severity: z.unknown(), dedupKey: z.string(), deliveryId: z.string().nullable().optional() })
  .strict();
export const triggerOutput = z.array(
  z
    .object({
      outcome: z.enum(['started', 'ignored', 'repeated', 'duplicate']),
      runId: z.string().nullable(),
      alert: alertSummary,
      reasons: z.array(z.unknown()).optional().describe('ignored: why each route did not match'),
      route: z.string().optional(),
      status: z.string().optional(),
      waitingStep: z.string().nullable().optional(),
      stopReason: runError.nullable().optional().describe('started: why the run stopped, as in the run output'),
      journaled: z.boolean().optional(),
      repeat: z.unknown().optional(),
    })
    .strict(),
);

export const tabletopOutput = z
  .object({
    scenario: z.string(),
    score: z.object({ points: z.number(), total: z.number(), percent: z.number() }).strict(),
    objectives: z.array(
      z.looseObject({ id: z.string(), title: z.string(), points: z.number(), status: z.enum(['met', 'missed']), detail: z.string() }),
    ),
    expectation: z
      .object({ source: z.enum(['scenario', 'decisions']), ok: z.boolean(), problems: z.array(z.string()) })
      .strict()
      .nullable(),
    files: z.object({ markdown: z.string(), html: z.string(), json: z.string() }).strict(),
  })
  .strict();

export const reportOutput = z
  .looseObject({
    run: z.looseObject({
      id: z.string(),
      playbook: z.looseObject({ id: z.string() }),
      dryRun: z.boolean(),
      status: z.string(),
      events: z.number().int(),
    }),
    chain,
  })
  .describe('the report model the Markdown and HTML reports are rendered from');

export const reportWrittenOutput = z
  .object({ runId: z.string(), format: z.enum(['md', 'html']), file: z.string(), chain, bytes: z.number().int() })
  .strict();

export const showOutput = z.object({ id: z.string(), title: z.string(), file: z.string(), markdown: z.string() }).strict();

export const versionOutput = z.object({ version: z.string() }).strict();

/** Output name → its schema and which commands print it. */
export const OUTPUT_SCHEMAS: ReadonlyArray<{ name: string; commands: string; schema: z.ZodType }> = [
  { name: 'error', commands: 'any command that fails (with --json)', schema: errorOutput },
  { name: 'version', commands: 'firebreak --version --json', schema: versionOutput },
  { name: 'run', commands: 'run, resume, undo, demo', schema: runOutput },
  { name: 'resume-execution', commands: 'resume (a run on Step Functions)', schema: executionResumeOutput },
  { name: 'undo-execution', commands: 'undo (a run on Step Functions)', schema: undoExecutionOutput },
  { name: 'approve', commands: 'approve', schema: approveOutput },
  { name: 'runs', commands: 'runs', schema: runsOutput },
  { name: 'audit-show', commands: 'audit show', schema: auditShowOutput },
  { name: 'audit-verify', commands: 'audit verify', schema: auditVerifyOutput },
  { name: 'validate', commands: 'validate', schema: validateOutput },
  { name: 'generated', commands: 'docs, schemas', schema: generatedOutput },
  { name: 'list', commands: 'list, list --actions', schema: listOutput },
  { name: 'show', commands: 'show', schema: showOutput },
  { name: 'iam-policy', commands: 'iam-policy', schema: iamPolicyOutput },
  { name: 'sfn', commands: 'sfn', schema: sfnOutput },
  { name: 'deploy-template', commands: 'deploy-template', schema: deployTemplateOutput },
  { name: 'package', commands: 'package', schema: packageOutput },
  { name: 'trigger', commands: 'trigger', schema: triggerOutput },
  { name: 'tabletop', commands: 'tabletop', schema: tabletopOutput },
  { name: 'report', commands: 'report (without --out)', schema: reportOutput },
  { name: 'report-written', commands: 'report --out FILE', schema: reportWrittenOutput },
];
