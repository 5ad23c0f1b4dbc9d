/**
 * The one place that chooses where a run acts: real AWS (the SDK's standard configuration, a
 * profile, a region, a role to assume) or the simulated cloud (a world file, the demo world, or
 * an already-created simulated cloud a tabletop exercise shares with its attacker). Every entry
 * point builds its backend here; the engine receives it and never imports the simulator.
 */
import { createHash, randomUUID } from 'node:crypto';
import { resolve, join } from 'node:path';
import type { Backend, BackendDefaults, BackendRecord, ClientRequest, RunBackend } from '../cloud/backend.js';
import { createClients, type AssumeRoleOptions, type AwsClients } from '../cloud/clients.js';
import { STS } from '../cloud/sdk.js';
import type { Clock } from '../core/clock.js';
import { DEMO_WORLD } from '../core/paths.js';
import { InputError } from '../core/errors.js';
import { createSimCloud, loadWorld, type SimCloud, type World } from '../sim/index.js';
import { resolveRegion } from './region.js';
import { saveWorldSync } from './world-file.js';

type Plugins = NonNullable<Parameters<typeof createClients>[0]>['plugins'];

export interface AwsSpec {
  region?: string;
  profile?: string;
  /** Cross-account response: act through this role (config `roleArn` when not given). */
  roleArn?: string;
  externalId?: string;
  /** Who started the run, kept by AWS on the role session (`SourceIdentity`, 2–64 of [\w+=,.@-]). */
  sourceIdentity?: string;
  /** The MFA device the role's trust policy requires, and how to ask a person for its code. */
  mfaSerial?: string;
  mfaCode?: (serial: string) => Promise<string>;
}

export interface BackendSpec extends AwsSpec {
  /** The simulated cloud: a world file, or true for the demo world. */
  sim?: string | boolean;
  /** An already-created simulated cloud (tabletop: the attacker and the scenario clock share its world). Takes the place of `sim`. */
  simCloud?: SimCloud;
  /** Extra client plugins (tests: fault injection, call capture). */
  plugins?: Plugins;
  /** The run's clock; when given, the SDK's retry backoff is slept on it too (cloud/retry.ts). */
  clock?: Clock;
  /** The run's source of chance (retry jitter on a given clock): a tabletop's seeded generator. */
  random?: () => number;
}

/** The world file `--sim` names: true is the demo world. */
export function worldFileOf(sim: string | boolean | undefined): string | undefined {
  return sim === true ? DEMO_WORLD : typeof sim === 'string' ? resolve(sim) : undefined;
}

export function chooseBackend(spec: BackendSpec = {}): Backend {
  const worldFile = spec.simCloud ? undefined : worldFileOf(spec.sim);
  let world: Promise<World> | undefined;
  const loadStartWorld = () => (world ??= worldFile ? loadWorld(worldFile) : Promise.resolve(spec.simCloud!.world));
  const simulated = spec.simCloud !== undefined || worldFile !== undefined;
  let region: Promise<string> | undefined;
  const awsRegion = () => (region ??= resolveRegion(spec));
  return {
    async prepare(defaults) {
      if (!spec.roleArn && defaults.roleArn?.includes('{%')) {
        throw new InputError(`the config's roleArn '${defaults.roleArn}' is a template over an alert; this run has no alert to fill it`, {
          field: 'roleArn',
          hint: 'give the role with --role-arn ARN, or start the run with firebreak trigger',
        });
      }
      if (simulated) await loadStartWorld();
      else await awsRegion();
    },
    async start(runDir, defaults) {
      if (!simulated) {
        const resolved = { ...spec, region: await awsRegion() };
        return awsBackend(resolved, defaults, await awsRecord(resolved, defaults));
      }
      const w = await loadStartWorld();
      const role = roleRecord(spec, defaults);
      const record: BackendRecord = {
        backend: 'sim',
        ...(worldFile ? { world: worldFile } : {}),
        region: spec.region ?? w.region,
        // Without a role the simulated cloud's own credentials sign: its home account.
        account: role.roleArn ? accountOfRole(role.roleArn) : w.account.id,
        ...role,
      };
      return simBackend(spec, defaults, record, spec.simCloud ?? undefined, w, join(runDir, 'world.json'));
    },
    async resume(runDir, recorded, defaults) {
      const merged: AwsSpec = {
        ...spec,
        region: spec.region ?? recorded.region ?? undefined,
        profile: spec.profile ?? recorded.profile,
        roleArn: spec.roleArn ?? recorded.roleArn,
      };
      if (recorded.backend !== 'sim') return awsBackend({ ...spec, ...merged }, defaults, recorded);
      const file = join(runDir, 'world.json');
      return simBackend({ ...spec, ...merged }, defaults, recorded, undefined, await loadWorld(file), file);
    },
  };
}

async function awsRecord(spec: AwsSpec, defaults: BackendDefaults): Promise<BackendRecord> {
  const role = roleRecord(spec, defaults);
  return {
    backend: 'aws',
    region: spec.region ?? (await resolvedRegion(spec.profile)),
    ...(spec.profile ? { profile: spec.profile } : {}),
    ...(role.roleArn ? { account: accountOfRole(role.roleArn) } : {}),
    ...role,
  };
}

/**
 * The Region the SDK's clients will sign for, resolved as the SDK resolves it (AWS_REGION, the
 * profile's `region`); AWS_DEFAULT_REGION is not read by SDK v3, so it is not shown either.
 * null when nothing names one: the first call then fails with the SDK's "Region is missing".
 */
async function resolvedRegion(profile: string | undefined): Promise<string | null> {
  const sts = new STS.STSClient(profile ? { profile } : {});
  try {
    return await sts.config.region();
  } catch (err) {
    // The SDK's own error when no source names a Region: the header then shows none.
    if ((err as Error).message === 'Region is missing') return null;
    throw err;
  } finally {
    sts.destroy();
  }
}

function roleRecord(spec: AwsSpec, defaults: BackendDefaults): { roleArn?: string } {
  const roleArn = spec.roleArn ?? defaults.roleArn;
  return roleArn ? { roleArn } : {};
}

/** The account a role ARN names (`arn:aws:iam::222222222222:role/…`). */
export function accountOfRole(roleArn: string): string | undefined {
  return /^arn:aws[\w-]*:iam::(\d{12}):role\//.exec(roleArn)?.[1];
}

function awsBackend(spec: BackendSpec, defaults: BackendDefaults, record: BackendRecord): RunBackend {
  return {
    record,
    clients: (req) => runClients(spec, defaults, req, undefined),
    clientsIn: (req, at) => runClients(located(spec, at), {}, req, undefined),
    close: async () => {},
  };
}

/**
 * The run's copy of the simulated world lives in the run folder and is saved (durably) after
 * every change, so a run killed at any moment resumes on a world that has every change its
 * journal's decisions depend on. A shared simulated cloud (tabletop) is saved once, at start:
 * the exercise owns it.
 */
function simBackend(
  spec: BackendSpec,
  defaults: BackendDefaults,
  record: BackendRecord,
  shared: SimCloud | undefined,
  world: World,
  file: string,
): RunBackend {
  if (shared) {
    saveWorldSync(shared.world, file);
    return {
      record,
      world: worldName(sharedWorldKey(shared)),
      clients: (req) => runClients(spec, defaults, req, shared),
      clientsIn: (req, at) => runClients(located(spec, at), {}, req, shared),
      close: async () => {},
    };
  }
  // persistTo: every change is in the run folder's change log before its call answers, as a change
  // AWS answered survives a crash of the caller; close() folds the log into the world file.
  const sim = createSimCloud(world, { ...(spec.clock ? { clock: spec.clock } : {}), persistTo: file });
  return {
    record,
    world: worldName(record.world ?? file),
    clients: (req) => runClients(spec, defaults, req, sim),
    clientsIn: (req, at) => runClients(located(spec, at), {}, req, sim),
    close: () => sim.close(),
  };
}

/** The spec for one account×Region of a run across accounts: its Region, and the role there (the run's own credentials without one). */
function located(spec: BackendSpec, at: { region: string; roleArn?: string; externalId?: string }): BackendSpec {
  const { roleArn: _r, externalId: _e, ...rest } = spec;
  return {
    ...rest,
    region: at.region,
    ...(at.roleArn ? { roleArn: at.roleArn } : {}),
    ...(at.externalId ? { externalId: at.externalId } : {}),
  };
}

/** A simulated world's name for locks, from the world file a run started from (or one shared cloud). */
/** The lock scope of a simulated world: runs in two worlds never share a lock. */
export const worldName = (key: string) => `sim-${createHash('sha256').update(key).digest('hex').slice(0, 12)}`;

/** A shared simulated cloud (one tabletop exercise) is one world for every run in it. */
const sharedKeys = new WeakMap<SimCloud, string>();
function sharedWorldKey(shared: SimCloud): string {
  let key = sharedKeys.get(shared);
  if (!key) {
    key = randomUUID();
    sharedKeys.set(shared, key);
  }
  return key;
}

function runClients(spec: BackendSpec, defaults: BackendDefaults, req: ClientRequest, sim: SimCloud | undefined): AwsClients {
  const roleArn = spec.roleArn ?? defaults.roleArn;
  const externalId = spec.externalId ?? defaults.externalId;
  const simPlugins = sim ? [sim.plugin] : [];
  return createClients({
    ...(sim
      ? { region: spec.region ?? sim.region, credentials: sim.credentials }
      : { ...(spec.region ? { region: spec.region } : {}), ...(spec.profile ? { profile: spec.profile } : {}) }),
    ...(roleArn
      ? {
          assumeRole: {
            roleArn,
            // RoleSessionName allows 64 characters; the run id makes the role's CloudTrail events traceable to the run.
            sessionName: `firebreak-${req.runId}`.slice(0, 64),
            ...(externalId ? { externalId } : {}),
            ...(spec.sourceIdentity ? { sourceIdentity: spec.sourceIdentity } : {}),
            ...(spec.mfaSerial ? { mfaSerial: spec.mfaSerial } : {}),
            ...(spec.mfaCode ? { mfaCode: spec.mfaCode } : {}),
            plugins: [...req.rolePlugins, ...simPlugins],
          },
        }
      : {}),
    userAgent: req.userAgent,
    plugins: [...req.plugins, ...(spec.plugins ?? []), ...simPlugins],
    ...(spec.clock ? { clock: spec.clock } : {}),
    ...(spec.random ? { random: spec.random } : {}),
  });
}

/**
 * Clients that are not a run's (routing's tag lookups, tabletop players and attacker): the same
 * choice, without a run folder.
 */
export function utilityClients(
  spec: Omit<BackendSpec, 'sim'>,
  o: {
    userAgent: string;
    plugins?: Plugins;
    maxAttempts?: number;
    credentials?: SimCloud['credentials'];
    /** Act through this role (routing's tag lookup in the alert's account); the simulated cloud answers its AssumeRole too. */
    assumeRole?: AssumeRoleOptions;
  },
): AwsClients {
  const sim = spec.simCloud;
  return createClients({
    ...(sim
      ? { region: spec.region ?? sim.region, credentials: o.credentials ?? sim.credentials }
      : { ...(spec.region ? { region: spec.region } : {}), ...(spec.profile ? { profile: spec.profile } : {}) }),
    ...(o.assumeRole ? { assumeRole: { ...o.assumeRole, plugins: [...(o.assumeRole.plugins ?? []), ...(sim ? [sim.plugin] : [])] } } : {}),
    userAgent: o.userAgent,
    plugins: [...(o.plugins ?? []), ...(spec.plugins ?? []), ...(sim ? [sim.plugin] : [])],
    ...(o.maxAttempts ? { maxAttempts: o.maxAttempts } : {}),
    ...(spec.clock ? { clock: spec.clock } : {}),
    ...(spec.random ? { random: spec.random } : {}),
  });
}

/** As utilityClients, from a `--sim` flag: a world file is loaded as a private copy, and nothing these clients change is saved. */
export async function utilityClientsFor(spec: BackendSpec, o: Parameters<typeof utilityClients>[1]): Promise<AwsClients> {
  const worldFile = spec.simCloud ? undefined : worldFileOf(spec.sim);
  const simCloud = spec.simCloud ?? (worldFile ? createSimCloud(await loadWorld(worldFile)) : undefined);
  const { sim: _sim, ...rest } = spec;
  return utilityClients({ ...rest, ...(simCloud ? { simCloud } : {}) }, o);
}
