/**
 * Where a request is answered: the account of the credentials that signed it and the Region of
 * the client that sent it. AWS keeps EC2, Auto Scaling, ELB, DLM and SNS resources per account
 * and Region, IAM (and S3's bucket list, Support's cases) per account, so an instance id in one
 * account and Region is not there for a client of another (`InvalidInstanceID.NotFound`).
 *
 * A scope is a World-shaped view whose slices are the stored slices of that account and Region:
 * handlers read and change it exactly as they did the single-account world, and the home account
 * in the home Region is the world itself.
 */
import { services } from './services/index.js';
import type { RegionSlices, World, WorldAccount } from './world.js';

/** Views remember the whole world they are cut from (not enumerable: never saved). */
const ROOT = Symbol('world');

/** The whole world a view was cut from (the world itself for the home account in the home Region). */
export function rootOf(world: World): World {
  return (world as unknown as { [ROOT]?: World })[ROOT] ?? world;
}

export interface Scope {
  account: string;
  region: string;
}

// Functions, not constants: services' own handlers import this module while the service list is still loading.
const keysOf = (scope: 'regional' | 'account') => services.filter((s) => s.scope === scope).map((s) => s.key);

/** Every account of the world, the home account first. */
export function accountIds(whole: World): string[] {
  const world = rootOf(whole);
  return [world.account.id, ...(world.accounts ?? []).map((a) => a.id)];
}

function member(world: World, accountId: string): WorldAccount | undefined {
  return world.accounts?.find((a) => a.id === accountId);
}

/** The Regions a world declares for an account, the home Region first for the home account. */
export function regionsOf(whole: World, accountId: string): string[] {
  const world = rootOf(whole);
  if (accountId === world.account.id) return [world.region, ...Object.keys(world.regions ?? {})];
  return Object.keys(member(world, accountId)?.regions ?? {});
}

/** Every account and Region the world declares. */
export function scopesOf(world: World): Scope[] {
  world = rootOf(world);
  return accountIds(world).flatMap((account) => regionsOf(world, account).map((region) => ({ account, region })));
}

function regionSlices(world: World, accountId: string, region: string): RegionSlices | undefined {
  if (accountId === world.account.id) {
    if (region === world.region) return world as RegionSlices;
    return world.regions?.[region];
  }
  return member(world, accountId)?.regions[region];
}

/**
 * The world as a request for this account and Region sees it, or undefined when the world does
 * not declare the account, or (for `regional`) the Region. Account-wide services (IAM, S3,
 * Support) answer for any Region: their view lends the regional slices of the account's first
 * Region, or empty ones, for the cross-service reads some handlers make.
 */
export function scopedWorld(whole: World, scope: Scope, regional = true): World | undefined {
  const world = rootOf(whole);
  if (scope.account === world.account.id && scope.region === world.region) return world;
  const acct = scope.account === world.account.id ? undefined : member(world, scope.account);
  if (scope.account !== world.account.id && !acct) return undefined;
  let slices = regionSlices(world, scope.account, scope.region);
  if (!slices) {
    if (regional) return undefined;
    const first = regionsOf(world, scope.account)[0];
    slices = first === undefined ? emptyRegion() : regionSlices(world, scope.account, first)!;
  }
  const view: Record<string, unknown> = { ...world, region: scope.region };
  for (const key of keysOf('regional')) view[key] = (slices as Record<string, unknown>)[key];
  if (acct) {
    view.account = { id: acct.id, ...(acct.alias !== undefined ? { alias: acct.alias } : {}) };
    for (const key of keysOf('account')) view[key] = (acct as Record<string, unknown>)[key];
  }
  Object.defineProperty(view, ROOT, { value: world, enumerable: false });
  return view as unknown as World;
}

function emptyRegion(): RegionSlices {
  const out: Record<string, unknown> = {};
  for (const s of services) if (s.scope === 'regional') out[s.key] = s.schema.parse(undefined);
  return out as RegionSlices;
}

/** The account-wide view of an account (its IAM), or undefined for an account the world does not hold. */
export function accountWorld(whole: World, accountId: string): World | undefined {
  return scopedWorld(whole, { account: accountId, region: rootOf(whole).region }, false);
}
