/**
 * The Organizations read APIs Firebreak sends. Every one may be called only from the
 * organization's management account or a member account that is a delegated administrator
 * (AccessDeniedException otherwise); an account outside any organization gets
 * AWSOrganizationsNotInUseException. Ids are checked against AWS's patterns before they are
 * looked up (InvalidInputException), then a well-formed id that names nothing gets the
 * operation's own not-found exception. Every error is a client fault with HTTP 400, as the API
 * reference lists them.
 */
import type { SimContext } from '../../service.js';
import type { World } from '../../world.js';
import { ACCOUNT_ID, OU_ID, ROOT_ID, type WithOrganizations } from './schema.js';
import { accountOut, buildTree, type Container, type OrgTree, rootArn, unitOut } from './tree.js';

const invalid = (ctx: SimContext, message: string): never => ctx.fail('InvalidInputException', message, 400);

function required(ctx: SimContext, input: object, field: string): string {
  const v = (input as Record<string, unknown>)[field];
  if (typeof v !== 'string' || v === '') invalid(ctx, 'You must specify a value for all required parameters.');
  return v as string;
}

function matching(ctx: SimContext, value: string, ...patterns: RegExp[]): string {
  if (!patterns.some((p) => p.test(value))) invalid(ctx, 'You provided a value that does not match the required pattern.');
  return value;
}

/** The organization, read by an account allowed to read it. */
function readable(ctx: SimContext): OrgTree {
  const org = (ctx.world as unknown as WithOrganizations).organizations;
  const tree = org ? buildTree(ctx.world as World, org) : undefined;
  const caller = ctx.caller.account;
  if (!tree?.accounts.has(caller)) {
    ctx.fail('AWSOrganizationsNotInUseException', 'Your account is not a member of an organization.', 400);
  }
  if (caller !== tree.org.managementAccount && !tree.org.delegatedAdministrators.includes(caller)) {
    ctx.fail('AccessDeniedException', "You don't have permissions to access this resource.", 400);
  }
  return tree;
}

function parentOf(ctx: SimContext, tree: OrgTree, input: { ParentId?: string }): Container {
  const id = matching(ctx, required(ctx, input, 'ParentId'), ROOT_ID, OU_ID);
  const c = tree.containers.get(id);
  if (!c) ctx.fail('ParentNotFoundException', "We can't find a root or OU with the ParentId that you specified.", 400);
  return c;
}

interface PageInput {
  MaxResults?: number;
  NextToken?: string;
}

/**
 * One page of `items`. Organizations' List operations take MaxResults from 1 to 20; the token is
 * opaque and bound to the request it came from, so a token from another listing is refused.
 */
function page<T>(ctx: SimContext, input: PageInput, listing: string, items: T[]): { items: T[]; NextToken?: string } {
  const size = input.MaxResults ?? 20;
  if (!Number.isInteger(size) || size < 1) invalid(ctx, 'You provided a value that is below the minimum allowed (MaxResults).');
  if (size > 20) invalid(ctx, 'You provided a value that is above the maximum allowed (MaxResults).');
  let start = 0;
  if (input.NextToken !== undefined) {
    const decoded = Buffer.from(input.NextToken, 'base64url').toString('utf8');
    const at = decoded.lastIndexOf('#');
    start = Number(decoded.slice(at + 1));
    if (at < 0 || decoded.slice(0, at) !== listing || !Number.isInteger(start) || start < 0 || start > items.length) {
      invalid(ctx, 'You specified an invalid value for nextToken. You must get the value from the response to a previous call to the API.');
    }
  }
  const end = start + size;
  return {
    items: items.slice(start, end),
    ...(end < items.length ? { NextToken: Buffer.from(`${listing}#${end}`).toString('base64url') } : {}),
  };
}

export const handlers = {
  ListRoots(ctx: SimContext, input: PageInput) {
    const tree = readable(ctx);
    const { items, ...next } = page(ctx, input, 'roots', [tree.org.root.id]);
    return { Roots: items.map((id) => ({ Id: id, Arn: rootArn(tree.org, id), Name: 'Root', PolicyTypes: [] })), ...next };
  },

  ListChildren(ctx: SimContext, input: PageInput & { ParentId?: string; ChildType?: string }) {
    const tree = readable(ctx);
    const type = required(ctx, input, 'ChildType');
    if (type !== 'ACCOUNT' && type !== 'ORGANIZATIONAL_UNIT') invalid(ctx, 'You specified an invalid value (ChildType).');
    const parent = parentOf(ctx, tree, input);
    const ids = type === 'ACCOUNT' ? parent.accounts : parent.units;
    const { items, ...next } = page(ctx, input, `children/${parent.id}/${type}`, ids);
    return { Children: items.map((Id) => ({ Id, Type: type })), ...next };
  },

  ListAccountsForParent(ctx: SimContext, input: PageInput & { ParentId?: string }) {
    const tree = readable(ctx);
    const parent = parentOf(ctx, tree, input);
    const { items, ...next } = page(ctx, input, `accounts/${parent.id}`, parent.accounts);
    return { Accounts: items.map((id) => accountOut(tree.org, tree.accounts.get(id)!)), ...next };
  },

  ListOrganizationalUnitsForParent(ctx: SimContext, input: PageInput & { ParentId?: string }) {
    const tree = readable(ctx);
    const parent = parentOf(ctx, tree, input);
    const { items, ...next } = page(ctx, input, `units/${parent.id}`, parent.units);
    return { OrganizationalUnits: items.map((id) => unitOut(tree.org, tree.containers.get(id)!)), ...next };
  },

  DescribeOrganizationalUnit(ctx: SimContext, input: { OrganizationalUnitId?: string }) {
    const tree = readable(ctx);
    const id = matching(ctx, required(ctx, input, 'OrganizationalUnitId'), OU_ID);
    const c = tree.containers.get(id);
    if (!c) ctx.fail('OrganizationalUnitNotFoundException', "We can't find an OU with the OrganizationalUnitId that you specified.", 400);
    return { OrganizationalUnit: unitOut(tree.org, c) };
  },

  ListParents(ctx: SimContext, input: PageInput & { ChildId?: string }) {
    const tree = readable(ctx);
    // A root is nobody's child: its id does not match ChildId's pattern.
    const id = matching(ctx, required(ctx, input, 'ChildId'), ACCOUNT_ID, OU_ID);
    const parent = tree.accounts.get(id)?.parent ?? tree.containers.get(id)?.parent;
    if (!parent) {
      ctx.fail(
        'ChildNotFoundException',
        "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified.",
        400,
      );
    }
    const { items, ...next } = page(ctx, input, `parents/${id}`, [parent]);
    return { Parents: items.map((p) => ({ Id: p, Type: tree.containers.get(p)!.type })), ...next };
  },

  DescribeAccount(ctx: SimContext, input: { AccountId?: string }) {
    const tree = readable(ctx);
    const id = matching(ctx, required(ctx, input, 'AccountId'), ACCOUNT_ID);
    const a = tree.accounts.get(id);
    if (!a) {
      ctx.fail(
        'AccountNotFoundException',
        "We can't find an AWS account with the AccountId that you specified, or the account whose credentials you used to make this request isn't a member of an organization.",
        400,
      );
    }
    return { Account: accountOut(tree.org, a) };
  },
};
