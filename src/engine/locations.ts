/**
 * A fleet across the organization: a run given several accounts and Regions (`--accounts`,
 * `--regions`) answers in each account×Region through the responder role assumed there. Its lookups
 * run once per account×Region and its map steps act on every item in the account×Region it was
 * found in, so an instance id never leaves the account that owns it.
 */
import { actions } from '../actions/registry.js';
import type { Config } from '../config/config.js';
import { InputError } from '../core/errors.js';
import { allSteps } from '../playbook/compile.js';
import { compileExpression } from '../playbook/expr.js';
import type { LoadedPlaybook } from '../playbook/schema.js';
import { offlineRefusal } from './guardrails.js';

/** Where a run acts, beyond its home: the accounts and the Regions of each. */
export interface Across {
  accounts: string[];
  regions: string[];
}

/** One account×Region, with the role the run acts through there (filled from the config's template). */
export interface Location {
  account: string;
  region: string;
  roleArn?: string;
  externalId?: string;
}

export const locationKey = (l: { account: string; region: string }) => `${l.account}/${l.region}`;

const ACCOUNT = /^\d{12}$/;
// The partitions' Region names: us-east-1, eu-west-1, us-gov-west-1, cn-north-1, …
const REGION = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/;

/** `--accounts a,b` (or repeated): 12-digit account ids, each once, in the order given. */
export function parseAccounts(values: string[], field = '--accounts'): string[] {
  return parseList(values, field, ACCOUNT, 'an AWS account id is 12 digits', '--accounts 111111111111,222222222222');
}

/** `--regions r1,r2` (or repeated): Region names, each once, in the order given. */
export function parseRegions(values: string[], field = '--regions'): string[] {
  return parseList(values, field, REGION, 'a Region name such as us-east-1', '--regions us-east-1,eu-west-1');
}

function parseList(values: string[], field: string, pattern: RegExp, what: string, example: string): string[] {
  const out: string[] = [];
  for (const v of values.flatMap((s) => s.split(',')).map((s) => s.trim())) {
    if (!pattern.test(v)) throw new InputError(`'${v}' is not valid: ${what}`, { field, hint: example });
    if (!out.includes(v)) out.push(v);
  }
  if (out.length === 0) throw new InputError(`${field} names nothing`, { field, hint: example });
  return out;
}

/** Every account×Region, accounts first: the order items are numbered in, stable across resumes. */
export function locationsOf(across: Across): Array<{ account: string; region: string }> {
  return across.accounts.flatMap((account) => across.regions.map((region) => ({ account, region })));
}

/**
 * What can be refused before anything runs: an account the guardrails exclude, a role that is not a
 * template over the account, a playbook with a single-target change (it names no account to act in).
 */
export async function checkAcross(config: Config, loaded: LoadedPlaybook, across: Across): Promise<Location[]> {
  for (const account of across.accounts) {
    const refusal = offlineRefusal(config, account);
    if (refusal)
      throw new InputError(`refusing to start: ${refusal}`, {
        field: '--accounts',
        hint: 'leave the account out of --accounts, or change guardrails in firebreak.config.yaml',
      });
  }
  for (const { id, step } of allSteps(loaded.playbook)) {
    const s = step as { type?: string; action?: string };
    if ((s.type ?? 'action') === 'action' && s.action && actions.get(s.action)?.mutating)
      throw new InputError(`step '${id}' changes one target (${s.action}); across accounts only lookups and map steps run`, {
        field: '--accounts',
        hint: `run ${loaded.playbook.id} once per account, or give its changes as map steps`,
      });
  }
  const locations: Location[] = [];
  for (const at of locationsOf(across)) locations.push({ ...at, ...(await roleIn(config, at)) });
  return locations;
}

/** The config's role and external id, filled for one account×Region; the role must be in that account. */
async function roleIn(config: Config, at: { account: string; region: string }): Promise<Pick<Location, 'roleArn' | 'externalId'>> {
  if (!config.roleArn) return {};
  const roleArn = await fill(config.roleArn, at, 'roleArn');
  const roleAccount = /^arn:aws[\w-]*:iam::(\d{12}):role\//.exec(roleArn)?.[1];
  if (roleAccount !== at.account)
    throw new InputError(
      `roleArn in firebreak.config.yaml gives '${roleArn}' for account ${at.account}, which is not a role in that account`,
      {
        field: 'roleArn',
        hint: "a template over the account: roleArn: 'arn:aws:iam::{% account %}:role/FirebreakResponder'",
      },
    );
  const externalId = config.externalId ? await fill(config.externalId, at, 'externalId') : undefined;
  return { roleArn, ...(externalId ? { externalId } : {}) };
}

/** `{% account %}` and `{% region %}` parts (JSONata over the account×Region); the rest is literal. */
async function fill(template: string, at: { account: string; region: string }, field: string): Promise<string> {
  const parts: string[] = [];
  let last = 0;
  for (const m of template.matchAll(/\{%([\s\S]*?)%\}/g)) {
    parts.push(template.slice(last, m.index));
    const v: unknown = await compileExpression(m[1]!).evaluate(at);
    if (typeof v !== 'string' && typeof v !== 'number')
      throw new InputError(`failed to fill ${field} for ${locationKey(at)}: {%${m[1]}%} gives ${JSON.stringify(v) ?? 'nothing'}`, {
        field,
        hint: 'across accounts a template may read only account and region',
      });
    parts.push(String(v));
    last = m.index + m[0].length;
  }
  parts.push(template.slice(last));
  return parts.join('');
}

/**
 * One output from each account×Region's run of a lookup: arrays under the same key are joined
 * (`instanceIds` of every account), so a condition over the whole fleet reads them as one.
 */
export function mergeOutputs(outputs: unknown[]): unknown {
  const objects = outputs.filter((o): o is Record<string, unknown> => typeof o === 'object' && o !== null && !Array.isArray(o));
  if (objects.length !== outputs.length || objects.length === 0) return outputs;
  const merged: Record<string, unknown> = {};
  for (const key of new Set(objects.flatMap((o) => Object.keys(o)))) {
    const values = objects.map((o) => o[key]);
    merged[key] = values.every(Array.isArray) ? values.flat() : values;
  }
  return merged;
}
