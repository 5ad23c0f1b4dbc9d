/**
 * Where an alert's run acts: the responder role a route (or the config) names as a template over
 * the alert, `arn:aws:iam::{% account %}:role/FirebreakResponder`, assumed in the alert's Region.
 * Findings from every member account arrive in one security account; acting with its own
 * credentials in its own Region would find nothing, or worse, an instance with the same id.
 */
import { InputError } from '../core/errors.js';
import type { Config } from '../config/config.js';
import type { Alert } from './alert.js';
import { evaluateOverAlert } from './route-inputs.js';
import type { LoadedRoute } from './routes.js';

/** Each `{% … %}` in a string; the rest is literal. */
const SEGMENT = /\{%([\s\S]*?)%\}/g;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;

/** A string with `{% … %}` segments, each JSONata over the alert that must give a string or number. */
export async function fillTemplate(template: string, alert: Alert, field: string): Promise<string> {
  const parts: string[] = [];
  let last = 0;
  for (const m of template.matchAll(SEGMENT)) {
    parts.push(template.slice(last, m.index));
    const v = await evaluateOverAlert(`{%${m[1]}%}`, alert, { field });
    if (typeof v !== 'string' && typeof v !== 'number') {
      throw new InputError(`failed to fill ${field}: {%${m[1]}%} gives ${v === undefined ? 'nothing' : JSON.stringify(v)} for this alert`, {
        field,
        hint: 'the alert lacks the field the template names; fix the template, or route such alerts elsewhere',
      });
    }
    parts.push(String(v));
    last = m.index + m[0].length;
  }
  parts.push(template.slice(last));
  return parts.join('');
}

export interface ResponderWhere {
  region?: string;
  roleArn?: string;
  externalId?: string;
  sourceIdentity?: string;
}

/**
 * The alert's Region (the process's only when the alert names none), and the role: the route's,
 * else the flag's, else the config's. Its session carries the route as its source identity.
 */
export async function responderWhere(
  alert: Alert,
  route: LoadedRoute,
  config: Config,
  flags: { region?: string; roleArn?: string; externalId?: string },
): Promise<ResponderWhere> {
  const at = `routes[${route.index}]`;
  const [roleTemplate, roleField] = route.roleArn
    ? [route.roleArn, `${at}.roleArn`]
    : flags.roleArn
      ? [flags.roleArn, '--role-arn']
      : [config.roleArn, 'roleArn (config)'];
  const [idTemplate, idField] = route.externalId
    ? [route.externalId, `${at}.externalId`]
    : flags.externalId
      ? [flags.externalId, '--external-id']
      : [config.externalId, 'externalId (config)'];
  const region = alert.region ?? flags.region;
  if (!roleTemplate) return region ? { region } : {};
  const roleArn = await fillTemplate(roleTemplate, alert, roleField);
  if (!ROLE_ARN.test(roleArn)) {
    throw new InputError(`${roleField} gives '${roleArn}' for this alert, which is not a role ARN`, {
      field: roleField,
      hint: "a role ARN such as arn:aws:iam::{% account %}:role/FirebreakResponder (the alert's account fills it)",
    });
  }
  const externalId = idTemplate ? await fillTemplate(idTemplate, alert, idField) : undefined;
  return {
    ...(region ? { region } : {}),
    roleArn,
    ...(externalId ? { externalId } : {}),
    // SourceIdentity: 2–64 characters of [\w+=,.@-]; route names are [a-z0-9-].
    sourceIdentity: `firebreak-route-${route.name}`.slice(0, 64),
  };
}
