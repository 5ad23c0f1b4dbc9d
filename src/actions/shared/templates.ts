/**
 * Texts Firebreak writes for people outside the team (an AWS Support case, an abuse report):
 * Eta templates in the project's `templates/` folder, rendered with the run's facts.
 *
 * A template's first line is `Subject: …`, then a blank line, then the body. Output is plain
 * text/Markdown, so HTML escaping is off.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import { ActionFailed } from '../../core/errors.js';
import type { ActionContext } from '../define.js';

// No automatic trimming: an interpolation at the end of a line keeps its newline; logic-only lines end in -%>.
const eta = new Eta({ autoEscape: false, autoTrim: false, cache: false });

/** The project's `templates/` folder, found from this module whether it runs from source or from the build. */
export function templatesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'templates')) && existsSync(join(dir, 'package.json'))) return join(dir, 'templates');
    const up = dirname(dir);
    if (up === dir)
      throw new ActionFailed(
        'failed to find the templates folder: no templates/ beside a package.json above the Firebreak installation',
        'TemplateNotFound',
      );
    dir = up;
  }
}

export interface Rendered {
  subject: string;
  body: string;
}

export function renderTemplate(name: string, data: object): Rendered {
  const file = join(templatesDir(), `${name}.md.eta`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ActionFailed(`failed to read template ${file}: ${(err as Error).message}`, 'TemplateNotFound', { cause: err });
  }
  let out: string;
  try {
    out = eta.renderString(text, data);
  } catch (err) {
    throw new ActionFailed(`failed to render template ${file}: ${(err as Error).message}`, 'TemplateError', { cause: err });
  }
  const m = /^Subject:[ \t]*(.*)\r?\n\r?\n?([\s\S]*)$/.exec(out);
  if (!m) throw new ActionFailed(`failed to render template ${file}: its first line must be "Subject: …"`, 'TemplateError');
  return { subject: m[1]!.trim(), body: `${m[2]!.trimEnd()}\n` };
}

/** AWS resource ids, ARNs, access key ids and IP addresses: what a case or report lists as "resources". */
const RESOURCE = [
  /^(i|sg|eni|vol|snap|subnet|vpc|acl|ami|igw|nat|rtb|iip-assoc)-[0-9a-f]{8,17}$/,
  /^(AKIA|ASIA)[A-Z0-9]{16}$/,
  // AWS-managed policies (arn:aws:iam::aws:policy/…) are the same in every account: not a resource of the incident.
  /^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{12}:/,
  /^(\d{1,3}\.){3}\d{1,3}(\/\d{1,2})?$/,
];

function collectResources(value: unknown, into: Set<string>, depth = 0): void {
  if (depth > 8 || into.size >= 100) return;
  if (typeof value === 'string') {
    if (RESOURCE.some((r) => r.test(value))) into.add(value);
  } else if (Array.isArray(value)) {
    for (const v of value) collectResources(v, into, depth + 1);
  } else if (value && typeof value === 'object') {
    for (const v of Object.values(value)) collectResources(v, into, depth + 1);
  }
}

export interface StepFact {
  step: string;
  status: string;
}

/** What the run knows so far, for a template: ids, the resources involved, what was done. */
export function runFacts(ctx: Pick<ActionContext, 'run' | 'clock' | 'facts'>) {
  const facts = (ctx.facts ?? {}) as { inputs?: Record<string, unknown>; steps?: Record<string, { status?: string; output?: unknown }> };
  const resources = new Set<string>();
  collectResources(facts.inputs, resources);
  const steps = Object.entries(facts.steps ?? {});
  for (const [, rec] of steps) collectResources(rec.output, resources);
  const done = new Set(['applied', 'already-done', 'manual']);
  return {
    incident: ctx.run.incident,
    runId: ctx.run.id,
    playbook: ctx.run.playbook,
    now: ctx.clock.now().toISOString(),
    inputs: facts.inputs ?? {},
    resources: [...resources].sort(),
    actions: steps.filter(([, r]) => r.status && done.has(r.status)).map(([step, r]): StepFact => ({ step, status: r.status! })),
  };
}
