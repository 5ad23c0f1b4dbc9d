/**
 * The AWS Organizations slice of the world: one organization, its management account, the
 * accounts allowed to read it as delegated administrators, and its tree — accounts directly under
 * the root and organizational units (OUs) nested under it. Organizations is global: the slice is
 * the world's, whichever account or Region asks. Absent, no account is in an organization.
 */
import * as z from 'zod';
import { Timestamp, WORLD_EPOCH } from '../../kit.js';

/** AWS's id patterns (Organizations API reference, e.g. ListChildren's ParentId). */
export const ORG_ID = /^o-[a-z0-9]{10,32}$/;
export const ROOT_ID = /^r-[0-9a-z]{4,32}$/;
export const OU_ID = /^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$/;
export const ACCOUNT_ID = /^\d{12}$/;

export const ACCOUNT_STATES = ['ACTIVE', 'SUSPENDED', 'PENDING_CLOSURE', 'CLOSED'] as const;

const OrgAccount = z.union([
  z.string().regex(ACCOUNT_ID, 'a 12-digit AWS account id'),
  z.strictObject({
    id: z.string().regex(ACCOUNT_ID, 'a 12-digit AWS account id'),
    name: z.string().min(1).max(50).optional(),
    email: z.string().min(6).max(64).optional(),
    state: z.enum(ACCOUNT_STATES).default('ACTIVE'),
    joinedTimestamp: Timestamp.default(WORLD_EPOCH),
  }),
]);

export interface OrgUnitInput {
  id: string;
  name: string;
  accounts?: z.input<typeof OrgAccount>[];
  units?: OrgUnitInput[];
}

const OrgUnit: z.ZodType<OrgUnitInput> = z.lazy(() =>
  z.strictObject({
    id: z.string().regex(OU_ID, 'an OU id such as ou-a1b2-c3d4e5f6 (ou-<root id suffix>-<8 to 32 characters>)'),
    name: z.string().min(1).max(128),
    accounts: z.array(OrgAccount).optional(),
    units: z.array(OrgUnit).optional(),
  }),
);

export const schema = z
  .strictObject({
    id: z.string().regex(ORG_ID, 'an organization id such as o-a1b2c3d4e5'),
    managementAccount: z.string().regex(ACCOUNT_ID, 'a 12-digit AWS account id'),
    /** Member accounts registered as a delegated administrator for some service: they may read the organization. */
    delegatedAdministrators: z.array(z.string().regex(ACCOUNT_ID, 'a 12-digit AWS account id')).default([]),
    root: z.strictObject({
      id: z.string().regex(ROOT_ID, 'a root id such as r-a1b2'),
      /** Accounts directly under the root (the management account is added here when no OU holds it). */
      accounts: z.array(OrgAccount).default([]),
      units: z.array(OrgUnit).default([]),
    }),
  })
  .superRefine((org, check) => {
    // An OU id carries its root's id (ou-<root suffix>-…); an account or OU sits in one place only.
    const suffix = org.root.id.slice(2);
    const seen = new Set<string>();
    const once = (id: string, path: PropertyKey[]) => {
      if (seen.has(id)) check.addIssue({ code: 'custom', path, message: `${id} appears twice in the organization` });
      seen.add(id);
    };
    const accounts = (list: z.input<typeof OrgAccount>[], path: PropertyKey[]) => {
      list.forEach((a, i) => {
        once(typeof a === 'string' ? a : a.id, [...path, 'accounts', i]);
      });
    };
    const walk = (units: OrgUnitInput[], path: PropertyKey[]) =>
      units.forEach((u, i) => {
        const at = [...path, 'units', i];
        if (!u.id.startsWith(`ou-${suffix}-`)) {
          check.addIssue({ code: 'custom', path: [...at, 'id'], message: `an OU under root ${org.root.id} has an id ou-${suffix}-…` });
        }
        once(u.id, [...at, 'id']);
        accounts(u.accounts ?? [], at);
        walk(u.units ?? [], at);
      });
    accounts(org.root.accounts, ['root']);
    walk(org.root.units, ['root']);
  })
  .optional()
  .describe('the AWS organization the accounts belong to (Organizations is global: one per world); absent: no organization');

export type OrganizationsWorld = z.output<typeof schema>;
export interface WithOrganizations {
  organizations: OrganizationsWorld;
}
