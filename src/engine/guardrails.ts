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

export function assertAccountAllowed(config: Config, account: string | undefined): void {
  const allowed = config.guardrails.allowedAccounts;
  if (!allowed) return;
  if (!account || !allowed.includes(account)) {
    throw new GuardrailRefusal(
      `refusing to change anything: the credentials belong to account ${account ?? '(unknown)'}, which is not in guardrails.allowedAccounts (${allowed.join(', ')})`,
      {
        hint: 'use --profile or --role-arn for an allowed account, or add the account to firebreak.config.yaml',
      },
    );
  }
}
