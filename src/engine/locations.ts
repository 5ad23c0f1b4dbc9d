/**
 * A fleet across the organization: a run given several accounts and Regions (`--accounts`,
 * `--regions`) answers in each account×Region through the responder role assumed there. Its lookups
 * run once per account×Region and its map steps act on every item in the account×Region it was
 * found in, so an instance id never leaves the account that owns it.
 */
import { actions } from '../actions/registry.js';
import type { Config } from '../config/config.js';
import { FirebreakError, GuardrailRefusal, InputError } from '../core/errors.js';
import { allSteps } from '../playbook/compile.js';
import { compileExpression } from '../playbook/expr.js';
import type { LoadedPlaybook } from '../playbook/schema.js';
import type { OrganizationsClient } from '@aws-sdk/client-organizations';
import { accountsUnder, isUnitId } from '../cloud/organizations.js';
import { accountRefusal, offlineRefusal, type ResolvedUnits } from './guardrails.js';

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

/** An account id, an organizational unit id or a root id: the OUs' accounts are listed at the run's start. */
const ACCOUNT_OR_UNIT = { test: (v: string) => ACCOUNT.test(v) || isUnitId(v) };

/** `--accounts a,b` (or repeated): 12-digit account ids, OU ids or root ids, each once, in the order given. */
export function parseAccounts(values: string[], field = '--accounts'): string[] {
  return parseList(
    values,
    field,
    ACCOUNT_OR_UNIT,
    'an AWS account id is 12 digits, an OU id ou-<4–32>-<8–32>, a root id r-<4–32>',
    '--accounts 111111111111,222222222222 or --accounts ou-ab12-workload1',
  );
}

/** The organizational units (and roots) among a run's accounts, resolved through Organizations at its start. */
export const unitsOf = (across: Across): string[] => across.accounts.filter(isUnitId);

/**
 * The accounts a run acts in once its OUs are resolved: each account id given, each OU's active
 * accounts in the place the OU was named, each account once.
 */
export function expandAccounts(across: Across, units: Record<string, string[]>): string[] {
  return [...new Set(across.accounts.flatMap((a) => (isUnitId(a) ? (units[a] ?? []) : [a])))];
}

/** `--regions r1,r2` (or repeated): Region names, each once, in the order given. */
export function parseRegions(values: string[], field = '--regions'): string[] {
  return parseList(values, field, REGION, 'a Region name such as us-east-1', '--regions us-east-1,eu-west-1');
}

function parseList(values: string[], field: string, pattern: { test(v: string): boolean }, what: string, example: string): string[] {
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
export async function checkAcross(
  config: Config,
  loaded: LoadedPlaybook,
  across: Across,
  resolved?: AcrossResolved,
  guardrailUnits?: ResolvedUnits,
): Promise<Location[]> {
  // OU ids wait for their resolution (resolveAcross); the accounts they resolved to are checked here.
  const accounts = resolved ? resolved.accounts : across.accounts.filter((a) => !isUnitId(a));
  for (const account of accounts) {
    const refusal = guardrailUnits ? accountRefusal(config, account, guardrailUnits) : offlineRefusal(config, account);
    if (!refusal) continue;
    // Once the run has started (its OUs resolved), a refusal ends it: the run's error keeps the hint.
    if (resolved) throw new GuardrailRefusal(`refusing to start: ${refusal}`, { hint: exclusionHint(account, resolved) });
    throw new InputError(`refusing to start: ${refusal}`, { field: '--accounts', hint: exclusionHint(account) });
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
  for (const at of locationsOf({ accounts, regions: across.regions })) locations.push({ ...at, ...(await roleIn(config, at)) });
  return locations;
}

/** How to leave a refused account out: named outright, or through the OU it was listed under. */
function exclusionHint(account: string, resolved?: AcrossResolved): string {
  const unit = Object.entries(resolved?.units ?? {}).find(([, under]) => under.includes(account))?.[0];
  const config = 'or change guardrails in firebreak.config.yaml';
  if (!unit || !resolved) return `leave the account out of --accounts, ${config}`;
  const others = resolved.accounts.filter((a) => a !== account);
  return others.length > 0
    ? `${account} is under ${unit}: name the other accounts by id instead of the OU (--accounts ${others.join(',')}), ${config}`
    : `${account} is the only active account under ${unit}: there is nothing else to act in`;
}

/** What `--accounts` resolved to at the run's start: each OU (or root) → its active accounts, and every account acted in. */
export interface AcrossResolved {
  units: Record<string, string[]>;
  accounts: string[];
}

/**
 * The OUs and roots among a run's accounts, each listed through Organizations (with the
 * credentials the run starts from: Organizations answers no member account's role). An OU with no
 * active account is refused: a fleet run over it would act nowhere.
 */
export async function resolveAcross(client: OrganizationsClient, across: Across): Promise<AcrossResolved> {
  const units: Record<string, string[]> = {};
  for (const unit of unitsOf(across)) {
    const accounts = await accountsUnder(client, unit);
    if (accounts.length === 0)
      throw new FirebreakError(
        `refusing to start: --accounts names ${unit}, which has no active account (suspended accounts are left out)`,
        {
          hint: `check the OU id (aws organizations list-accounts-for-parent --parent-id ${unit}), or name the accounts by id`,
        },
      );
    units[unit] = accounts;
  }
  return { units, accounts: expandAccounts(across, units) };
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
