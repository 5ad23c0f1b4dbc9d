/**
 * Organizational units resolved to their accounts through AWS Organizations: guardrails may name
 * an OU (or the root) where they name accounts. Organizations answers only its management account
 * and delegated administrators, so the client is the security account's own, never a member
 * account's responder role.
 */
import type { OrganizationsClient } from '@aws-sdk/client-organizations';
import { FirebreakError, InputError, awsErrorCode } from '../core/errors.js';
import { Organizations } from './sdk.js';

/** AWS's id patterns (Organizations API reference: ParentId). */
export const OU_ID = /^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$/;
export const ROOT_ID = /^r-[0-9a-z]{4,32}$/;

export const isUnitId = (id: string): boolean => OU_ID.test(id) || ROOT_ID.test(id);

/**
 * Every ACTIVE account in the OU (or root) and in every OU nested under it, in the order
 * Organizations lists them, each once. Suspended accounts and those pending closure are left out:
 * nothing is answered there. Throws InputError for an id that is not an OU or root id, and
 * FirebreakError naming the OU and what to do when Organizations refuses.
 */
export async function accountsUnder(client: OrganizationsClient, unitId: string): Promise<string[]> {
  if (!isUnitId(unitId)) {
    throw new InputError(`'${unitId}' is not an organizational unit id (ou-<4–32>-<8–32>) or a root id (r-<4–32>)`, {
      hint: 'find the id with: aws organizations list-organizational-units-for-parent --parent-id <root id>',
    });
  }
  const accounts: string[] = [];
  const seen = new Set<string>();
  const pending = [unitId];
  try {
    while (pending.length > 0) {
      const parent = pending.shift()!;
      for await (const page of Organizations.paginateListAccountsForParent({ client }, { ParentId: parent })) {
        for (const a of page.Accounts ?? []) {
          // State is the current field; Status the older one, which some responses still carry alone.
          const state = a.State ?? a.Status;
          if (a.Id && state === 'ACTIVE' && !seen.has(a.Id)) {
            seen.add(a.Id);
            accounts.push(a.Id);
          }
        }
      }
      for await (const page of Organizations.paginateListOrganizationalUnitsForParent({ client }, { ParentId: parent })) {
        for (const ou of page.OrganizationalUnits ?? []) if (ou.Id) pending.push(ou.Id);
      }
    }
  } catch (err) {
    throw new FirebreakError(`failed to list the accounts of ${unitId}: ${awsErrorCode(err) ?? 'error'}: ${(err as Error).message}`, {
      hint: resolutionHint(awsErrorCode(err)),
      cause: err,
    });
  }
  return accounts;
}

function resolutionHint(code: string | undefined): string {
  switch (code) {
    case 'ParentNotFoundException':
      return 'the organization has no such OU: check the id in firebreak.config.yaml (aws organizations list-roots, list-organizational-units-for-parent)';
    case 'AccessDeniedException':
      return 'Organizations answers only the management account and delegated administrators: register the security account as a delegated administrator and allow it organizations:ListAccountsForParent and organizations:ListOrganizationalUnitsForParent (firebreak iam-policy lists them)';
    case 'AWSOrganizationsNotInUseException':
      return 'the credentials Firebreak runs with belong to no organization: name accounts by id in guardrails, or run in the organization';
    default:
      return 'check the credentials Firebreak runs with and retry';
  }
}

/** The Organizations permissions accountsUnder needs (`firebreak iam-policy` adds them when guardrails name an OU). */
export const OU_RESOLUTION_PERMISSIONS = ['organizations:ListAccountsForParent', 'organizations:ListOrganizationalUnitsForParent'] as const;
