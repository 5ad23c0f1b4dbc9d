/** Guardrails from the config: protected resources, allowed accounts. Refusals name the fix. */
import type { OrganizationsClient } from '@aws-sdk/client-organizations';
import type { Guardrails } from '../actions/define.js';
import type { Config } from '../config/config.js';
import { accountsUnder, isUnitId } from '../cloud/organizations.js';
import { FirebreakError, GuardrailRefusal } from '../core/errors.js';

export function guardrails(config: Config): Guardrails {
  const { key, value } = config.guardrails.protectedTag;
  return {
    assertNotProtected(resource, tags) {
      const tag = tags?.find((t) => t.Key === key);
      if (tag && (value === '*' || tag.Value === value)) {
        throw new GuardrailRefusal(`refusing to change ${resource}: it carries the protected tag ${key}=${tag.Value}`, {
          hint: `remove the tag ${key} from ${resource} if it really must be changed, or change guardrails.protectedTag in firebreak.config.yaml`,
        });
      }
    },
  };
}

/** The organizational units (and roots) the account guardrails name, each once. */
export function guardrailUnits(config: Config): string[] {
  const { allowedAccounts = [], deniedAccounts = [] } = config.guardrails;
  return [...new Set([...allowedAccounts, ...deniedAccounts].filter(isUnitId))];
}

/** Each OU the guardrails name → the active accounts under it (nested OUs included). */
export type ResolvedUnits = Record<string, string[]>;

const resolved = new Map<string, Promise<ResolvedUnits>>();

/**
 * The guardrails' OUs resolved through Organizations, once per process for a given cloud
 * (`cloudKey`: the credentials' source — a profile, a simulated world) and OU list: OUs change
 * rarely, and every alert a server answers would otherwise list them again. A failed resolution
 * is not kept, so the next run asks again. Undefined when the guardrails name no OU.
 */
export function resolveGuardrailUnits(
  config: Config,
  organizations: () => OrganizationsClient | Promise<OrganizationsClient>,
  cloudKey: string,
): Promise<ResolvedUnits> | undefined {
  const units = guardrailUnits(config);
  if (units.length === 0) return undefined;
  const key = `${cloudKey}\n${units.join(',')}`;
  let p = resolved.get(key);
  if (!p) {
    p = (async () => {
      const client = await organizations();
      const out: ResolvedUnits = {};
      for (const unit of units) out[unit] = await accountsUnder(client, unit);
      return out;
    })();
    resolved.set(key, p);
    p.catch(() => resolved.delete(key));
  }
  return p;
}

function named(list: string[], units: ResolvedUnits | undefined, account: string): string | undefined {
  for (const entry of list) {
    if (entry === account) return entry;
    if (isUnitId(entry)) {
      const under = units?.[entry];
      if (!under) throw new FirebreakError(`the guardrails name ${entry}, which was not resolved through AWS Organizations`);
      if (under.includes(account)) return entry;
    }
  }
  return undefined;
}

/**
 * Why the config's account guardrails refuse this account, or undefined when they allow it.
 * `units` are the guardrails' OUs resolved (resolveGuardrailUnits); needed when they name any.
 */
export function accountRefusal(config: Config, account: string | undefined, units?: ResolvedUnits): string | undefined {
  const { allowedAccounts: allowed, deniedAccounts: denied } = config.guardrails;
  const deniedBy = denied && account ? named(denied, units, account) : undefined;
  if (deniedBy) {
    const via = deniedBy === account ? '' : ` through ${deniedBy}`;
    return `account ${account} is in guardrails.deniedAccounts${via} (${denied!.join(', ')})`;
  }
  if (allowed && (!account || !named(allowed, units, account)))
    return `account ${account ?? '(unknown)'} is not in guardrails.allowedAccounts (${allowed.join(', ')})`;
  return undefined;
}

/**
 * What the guardrails refuse with no AWS call (before a run starts): accounts named outright. An
 * allowed list that names an OU, and denied OUs, wait for Organizations: they are checked against
 * STS's answer before the first change in the account (assertAccountAllowed).
 */
export function offlineRefusal(config: Config, account: string): string | undefined {
  const { allowedAccounts: allowed, deniedAccounts: denied } = config.guardrails;
  const ids = (list: string[] | undefined) => list?.filter((e) => !isUnitId(e));
  const offline = {
    ...config,
    guardrails: {
      ...config.guardrails,
      allowedAccounts: allowed?.some(isUnitId) ? undefined : allowed,
      deniedAccounts: ids(denied),
    },
  };
  return accountRefusal(offline as Config, account);
}

export function assertAccountAllowed(config: Config, account: string | undefined, units?: ResolvedUnits): void {
  const refusal = accountRefusal(config, account, units);
  if (refusal) {
    throw new GuardrailRefusal(`refusing to change anything: the credentials belong to ${refusal}`, {
      hint: 'use --profile or --role-arn for an allowed account, or change guardrails in firebreak.config.yaml',
    });
  }
}
