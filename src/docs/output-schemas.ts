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
    error: runError.nullable().describe('why the run stopped (an AWS or Firebreak error code); null when it did not'),
  })
  .strict();

export const approveOutput = z
  .object({
    runId: z.string(),
    step: z.string(),
    decision: z.enum(['approve', 'deny', 'abort', 'skip']),
    delivered: z.enum(['journal', 'inbox']),
    pid: z.number().int().optional(),
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

export const versionOutput = z.object({ version: z.string() }).strict();

/** Output name → its schema and which commands print it. */
export const OUTPUT_SCHEMAS: ReadonlyArray<{ name: string; commands: string; schema: z.ZodType }> = [
  { name: 'error', commands: 'any command that fails (with --json)', schema: errorOutput },
  { name: 'version', commands: 'firebreak --version --json', schema: versionOutput },
  { name: 'run', commands: 'run, resume, demo', schema: runOutput },
  { name: 'approve', commands: 'approve', schema: approveOutput },
  { name: 'runs', commands: 'runs', schema: runsOutput },
  { name: 'audit-show', commands: 'audit show', schema: auditShowOutput },
  { name: 'audit-verify', commands: 'audit verify', schema: auditVerifyOutput },
  { name: 'validate', commands: 'validate', schema: validateOutput },
  { name: 'generated', commands: 'docs, schemas', schema: generatedOutput },
  { name: 'list', commands: 'list, list --actions', schema: listOutput },
];
