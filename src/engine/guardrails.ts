/** Guardrails from the config: protected resources, allowed accounts. Refusals name the fix. */
import type { Guardrails } from '../actions/define.js';
import type { Config } from '../config/config.js';
import { GuardrailRefusal } from '../core/errors.js';

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

/** Why the config's account guardrails refuse this account, or undefined when they allow it. */
export function accountRefusal(config: Config, account: string | undefined): string | undefined {
  const { allowedAccounts: allowed, deniedAccounts: denied } = config.guardrails;
  if (denied?.includes(account ?? '')) return `account ${account} is in guardrails.deniedAccounts (${denied.join(', ')})`;
  if (allowed && (!account || !allowed.includes(account)))
    return `account ${account ?? '(unknown)'} is not in guardrails.allowedAccounts (${allowed.join(', ')})`;
  return undefined;
}

export function assertAccountAllowed(config: Config, account: string | undefined): void {
  const refusal = accountRefusal(config, account);
  if (refusal) {
    throw new GuardrailRefusal(`refusing to change anything: the credentials belong to ${refusal}`, {
      hint: 'use --profile or --role-arn for an allowed account, or change guardrails in firebreak.config.yaml',
    });
  }
}
