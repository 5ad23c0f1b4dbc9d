/**
 * Everything the engine asks a person goes through a RunHost. Three hosts share this interface:
 * interactive (a terminal prompt, in the CLI), automatic (the approval policy plus approvals
 * that arrive from `firebreak approve`), and tabletop (players' scripted or prompted decisions).
 * A host that cannot get an answer throws WaitingForApproval; destructive choices default to "no".
 */
import type { RunEventWriter } from '../audit/events.js';
import type { AwsClients } from '../cloud/clients.js';
import type { Approval, JournalLike, PlanRecord } from './events.js';

export interface StepView {
  runId: string;
  key: string; // step key (step id, or id#visit for a step entered more than once)
  stepId: string;
  title: string;
  description?: string;
  action: string;
  actionSummary: string;
  input: unknown;
  plan: PlanRecord;
  /** The playbook's (or the route's) policy for this step. */
  policy: 'auto' | 'required';
  items?: number; // map steps: how many targets
  /** A map step across accounts: its targets and changes in each account×Region (the plan is shown grouped by them). */
  groups?: LocationGroup[];
}

export interface LocationGroup {
  account: string;
  region: string;
  targets: number;
  changes?: number;
}

export interface ManualView {
  runId: string;
  key: string;
  stepId: string;
  title: string;
  instructions: string;
}

/**
 * The run a host is deciding for, handed to it with each question: where the run's files are
 * (the automatic host's inbox), its journal (a notification reads the plan and records that it
 * was sent) and its audited clients (a notification is published on the run's behalf).
 */
export interface HostRun {
  runId: string;
  runDir: string;
  journal: RunEventWriter & { events(): readonly JournalLike[] };
  aws: AwsClients;
  /** An answer `firebreak approve` posted for a step while the run was alive (the run store's inbox). */
  postedApproval(step: string): (Approval & { at: string }) | undefined | Promise<(Approval & { at: string }) | undefined>;
}

export interface RunHost {
  readonly kind: 'interactive' | 'auto' | 'tabletop';
  /** Decide a step whose plan changes the cloud. */
  approve(view: StepView, signal: AbortSignal, run: HostRun): Promise<Approval>;
  /**
   * True when this host approves a step of `policy` without anyone reading its plan (the
   * automatic host, policy `auto`). A map step then plans, applies and verifies each target in
   * turn instead of planning every target before applying any: the first target is contained
   * seconds after the run starts, and reads and writes share the API's rate limits instead of
   * draining them one after the other. Hosts where a person or a player decides leave it unset.
   */
  approvesUnseen?(policy: 'auto' | 'required'): boolean;
  /** A task a person must do and confirm ('approve' = done). */
  manual(view: ManualView, signal: AbortSignal, run: HostRun): Promise<Approval>;
  /** Progress: every journal event as it is written, called by the engine (display only; must not throw). */
  onEvent?(event: { type: string; [k: string]: unknown }): void;
}
