/**
 * Where a run acts: the interface the engine sees. Real AWS or the simulated cloud, chosen in
 * one place (src/backend); the engine only asks a backend for the run's SDK clients and for what
 * run.started records about it, so it never knows which one it has.
 */
import type { AwsClients, CloudOptions } from './clients.js';

type Plugins = NonNullable<CloudOptions['plugins']>;

/** What run.started records about where the run acts (resume reads it back). */
export interface BackendRecord {
  backend: 'aws' | 'sim';
  /** The world file a simulated run started from. */
  world?: string;
  /** The Region the clients resolved (the alert's, the flag's, or the profile's): not the environment's guess. */
  region: string | null;
  /** The account acted in, when known before the first call (the role's, or a simulated world's home). */
  account?: string;
  profile?: string;
  roleArn?: string;
}

/** A run's defaults from firebreak.config.yaml (cross-account role). */
export interface BackendDefaults {
  roleArn?: string;
  externalId?: string;
}

export interface ClientRequest {
  runId: string;
  userAgent: string;
  /** The run's middleware: audit journal, permission guard. */
  plugins: Plugins;
  /** Middleware for the STS client that assumes the run's role (audit only). */
  rolePlugins: Plugins;
}

/** A backend bound to one run folder. */
export interface RunBackend {
  readonly record: BackendRecord;
  /**
   * Which cloud the run's resources live in, beyond account and region: a simulated world has
   * its own (a file-safe name), so runs in two simulated worlds never share a lock. Absent: AWS.
   */
  readonly world?: string;
  clients(req: ClientRequest): AwsClients;
  /**
   * The clients of one account×Region of a run across accounts: signed for `region`, through
   * `roleArn` (with `externalId`) when given, else with the run's own credentials.
   */
  clientsIn(req: ClientRequest, at: { region: string; roleArn?: string; externalId?: string }): AwsClients;
  /** The run is over (ended, waiting or interrupted): a simulated cloud folds its change log into its world file. */
  close(): Promise<void>;
}

export interface Backend {
  /** Check everything without writing (a simulated world file parses). Called before the run folder exists. */
  prepare(defaults: BackendDefaults): Promise<void>;
  /** A new run: a simulated cloud keeps its world in the run folder from here on. */
  start(runDir: string, defaults: BackendDefaults): Promise<RunBackend>;
  /** A stopped run, from what its run.started recorded: the simulated world is the run folder's copy. */
  resume(runDir: string, recorded: BackendRecord, defaults: BackendDefaults): Promise<RunBackend>;
}
