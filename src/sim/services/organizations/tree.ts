/**
 * The organization's tree as the read APIs walk it: every root and OU by id with its parent and
 * children, every account with its parent. Built from the world slice on each call (the slice is
 * small, and read-only here).
 */
import type { World } from '../../world.js';
import { rootOf } from '../../scopes.js';
import type { OrganizationsWorld, OrgUnitInput } from './schema.js';

export type Organization = NonNullable<OrganizationsWorld>;

export interface OrgAccountFacts {
  id: string;
  name: string;
  email: string;
  state: 'ACTIVE' | 'SUSPENDED' | 'PENDING_CLOSURE' | 'CLOSED';
  joinedTimestamp: string;
  parent: string;
}

export interface Container {
  id: string;
  type: 'ROOT' | 'ORGANIZATIONAL_UNIT';
  name: string;
  parent?: string;
  /** `o-…/r-…/ou-…/`: the OU's path from the organization down. */
  path: string;
  units: string[];
  accounts: string[];
}

export interface OrgTree {
  org: Organization;
  containers: Map<string, Container>;
  accounts: Map<string, OrgAccountFacts>;
}

type AccountEntry = NonNullable<OrgUnitInput['accounts']>[number];

export function buildTree(world: World, org: Organization): OrgTree {
  const whole = rootOf(world);
  const aliasOf = (id: string) => (id === whole.account.id ? whole.account.alias : whole.accounts?.find((a) => a.id === id)?.alias);
  const containers = new Map<string, Container>();
  const accounts = new Map<string, OrgAccountFacts>();
  const addAccounts = (c: Container, list: AccountEntry[]) => {
    for (const entry of list) {
      const a = typeof entry === 'string' ? { id: entry } : entry;
      c.accounts.push(a.id);
      accounts.set(a.id, {
        id: a.id,
        name: a.name ?? aliasOf(a.id) ?? a.id,
        email: a.email ?? `aws+${a.id}@example.com`,
        state: a.state ?? 'ACTIVE',
        joinedTimestamp: a.joinedTimestamp ?? '2025-01-01T00:00:00Z',
        parent: c.id,
      });
    }
  };
  const root: Container = { id: org.root.id, type: 'ROOT', name: 'Root', path: `${org.id}/${org.root.id}/`, units: [], accounts: [] };
  containers.set(root.id, root);
  addAccounts(root, org.root.accounts);
  const addUnits = (parent: Container, units: OrgUnitInput[]) => {
    for (const u of units) {
      const c: Container = {
        id: u.id,
        type: 'ORGANIZATIONAL_UNIT',
        name: u.name,
        parent: parent.id,
        path: `${parent.path}${u.id}/`,
        units: [],
        accounts: [],
      };
      parent.units.push(u.id);
      containers.set(u.id, c);
      addAccounts(c, u.accounts ?? []);
      addUnits(c, u.units ?? []);
    }
  };
  addUnits(root, org.root.units);
  // The management account is always in the organization: under the root unless an OU holds it.
  if (!accounts.has(org.managementAccount)) addAccounts(root, [org.managementAccount]);
  return { org, containers, accounts };
}

const arnBase = (org: Organization) => `arn:aws:organizations::${org.managementAccount}`;
export const rootArn = (org: Organization, id: string) => `${arnBase(org)}:root/${org.id}/${id}`;
export const ouArn = (org: Organization, id: string) => `${arnBase(org)}:ou/${org.id}/${id}`;
export const accountArn = (org: Organization, id: string) => `${arnBase(org)}:account/${org.id}/${id}`;

/** An account as DescribeAccount and ListAccountsForParent return it. */
export function accountOut(org: Organization, a: OrgAccountFacts) {
  return {
    Id: a.id,
    Arn: accountArn(org, a.id),
    Email: a.email,
    Name: a.name,
    // Status is the older field: a CLOSED account reads SUSPENDED there.
    Status: a.state === 'CLOSED' ? 'SUSPENDED' : a.state,
    State: a.state,
    JoinedMethod: a.id === org.managementAccount ? 'CREATED' : 'INVITED',
    JoinedTimestamp: new Date(a.joinedTimestamp),
  };
}

export function unitOut(org: Organization, c: Container) {
  return { Id: c.id, Arn: ouArn(org, c.id), Name: c.name, Path: c.path };
}
