/**
 * Everything around the engine for one run: the run lock, the journal and who watches it, the
 * backend's audited clients, who is acting (STS), target locks, the run's end and its summary.
 */
import type { ClientPlugin } from '../cloud/sdk.js';
import type { RunStarted } from '../audit/events.js';
import type { JournalEvent } from '../audit/journal.js';
import type { RunBackend } from '../cloud/backend.js';
import { auditRecorder, permissionGuard } from '../cloud/middleware.js';
import { STS } from '../cloud/sdk.js';
import type { Config } from '../config/config.js';
import type { Clock } from '../core/clock.js';
import { errorInfo } from '../core/error-info.js';
import type { AwsClients } from '../cloud/clients.js';
import { FirebreakError, GuardrailRefusal } from '../core/errors.js';
import { VERSION } from '../core/version.js';
import type { LoadedPlaybook } from '../playbook/schema.js';
import { getAction } from '../actions/registry.js';
import type { ReplayState } from './events.js';
import { assertAccountAllowed, guardrails, resolveGuardrailUnits } from './guardrails.js';
import type { HostRun, RunHost } from './host.js';
import { type Across, type AcrossResolved, checkAcross, locationKey, resolveAcross, type Location } from './locations.js';
import type { HeldLock, RunRecord, RunStore } from '../store/types.js';
import { executeRun, type EngineOptions, type RunResult } from './runner.js';

/** Someone who watches a run: called with every journal event once it is written (must not throw). */
export type RunObserver = (event: JournalEvent) => void;

export interface DriveArgs {
  store: RunStore;
  record: RunRecord;
  where: RunBackend;
  host: RunHost;
  observers?: RunObserver[];
  loaded: LoadedPlaybook;
  inputs: Record<string, unknown>;
  config: Config;
  clock: Clock;
  replayed: ReplayState;
  dryRun: boolean;
  incident: string;
  approvalOverrides?: Record<string, 'auto' | 'required'>;
  signal?: AbortSignal;
  lockWaitMs?: number;
  /** A new run: its run.started fields (without the journal's own). */
  started?: Omit<RunStarted, 'type' | 'seq' | 'ts' | 'prev'>;
  /** A resumed run: who resumed it. */
  resumedBy?: { osUser: string; host: string; pid: number };
  /** A fleet across accounts: the account×Regions it acts in, each with its role (session.ts fills them from the config). */
  locations?: Location[];
  /**
   * A fleet whose `--accounts` name OUs: resolved here through Organizations before the first step
   * and journaled (across.resolved), unless an earlier process of the run already did (`resolved`).
   */
  units?: { across: Across; resolved?: AcrossResolved };
  /** Part of a run instead of all of it (one step of a Step Functions execution): its end is not the run's. */
  part?: (o: EngineOptions) => Promise<RunResult>;
}

export async function drive(a: DriveArgs): Promise<RunResult & { runId: string; runDir: string }> {
  const { record } = a;
  const runId = record.runId;
  const runLock = await record.lock({ runId, purpose: a.started ? 'run' : 'resume' });
  if (!runLock)
    throw new FirebreakError(`run ${runId} is active in another process`, {
      hint: `firebreak runs   (shows its status); wait for it, or stop that process`,
    });
  const held: HeldLock[] = [runLock];
  const journal = record.openJournal(a.clock);
  try {
    const watchers = [...(a.host.onEvent ? [a.host.onEvent.bind(a.host)] : []), ...(a.observers ?? [])];
    if (watchers.length)
      journal.onAppend((e) => {
        for (const w of watchers) w(e);
      });
    const startedAt = a.started ? journal.append('run.started', a.started).ts : a.replayed.started?.ts;
    if (a.resumedBy) journal.append('run.resumed', { by: a.resumedBy });
    // A call's record is written at once and flushed with the next decision (see audit/journal.ts).
    // Each call records where it went: the account (the role's, or STS's answer once known), its
    // signing Region, and the role it acted through.
    let account = a.where.record.account;
    const roleArn = a.where.record.roleArn;
    // Organizations calls (guardrails by OU) go out with the run's own credentials, never through the role.
    const audit = auditRecorder((call) =>
      journal.append(
        'aws.call',
        call.service === 'organizations' ? call : { ...call, ...(account ? { account } : {}), ...(roleArn ? { roleArn } : {}) },
        { sync: 'later' },
      ),
    );
    // Nothing acts on the cloud before what the journal says so far is in the run store.
    const settled = settleFirst(record);
    const aws = a.where.clients({
      runId,
      userAgent: `firebreak/${VERSION} run/${runId}`,
      plugins: [settled, audit, permissionGuard()],
      rolePlugins: [settled, audit],
    });
    // A run across accounts: one set of clients per account×Region, created on first use, each
    // journaling its calls under its own account and role.
    const located = new Map<string, AwsClients>();
    const awsIn = (at: Location): AwsClients => {
      const k = locationKey(at);
      let c = located.get(k);
      if (!c) {
        const auditIn = auditRecorder((call) =>
          journal.append('aws.call', { ...call, account: at.account, ...(at.roleArn ? { roleArn: at.roleArn } : {}) }, { sync: 'later' }),
        );
        c = a.where.clientsIn(
          {
            runId,
            userAgent: `firebreak/${VERSION} run/${runId}`,
            plugins: [settled, auditIn, permissionGuard()],
            rolePlugins: [settled, auditIn],
          },
          at,
        );
        located.set(k, c);
      }
      return c;
    };
    const hostRun: HostRun = { runId, runDir: record.dir, journal, aws, postedApproval: (step) => record.postedApproval(step) };

    // Who is acting is asked at once but awaited only before the first write, so the first
    // plan's reads overlap with it; the allowed-account guardrail is checked there.
    const identity = aws.sts.send(new STS.GetCallerIdentityCommand({}));
    identity.then(
      (id) => (account ??= id.Account),
      () => undefined,
    );
    // Guardrails naming OUs are resolved with the credentials the run starts from (Organizations answers no member role).
    const units = resolveGuardrailUnits(a.config, () => aws.organizations, a.where.world ?? `aws:${a.where.record.profile ?? ''}`);
    units?.catch(() => undefined);
    let identified: Promise<void> | undefined;
    // The OUs' accounts, journaled once before the first check that uses them.
    let unitsJournaled: Promise<Awaited<typeof units>> | undefined;
    const guardrailUnits = () =>
      (unitsJournaled ??= (async () => {
        const resolved = await units;
        if (resolved) journal.append('guardrails.resolved', { units: resolved });
        return resolved;
      })());
    const checkedIn = new Map<string, Promise<void>>();
    // Across accounts, each account×Region is checked before the first change there: STS's answer
    // for the role assumed there must be that account, and the guardrails must allow it.
    const identifyIn = (at: Location) => {
      const k = locationKey(at);
      let p = checkedIn.get(k);
      if (!p) {
        p = awsIn(at)
          .sts.send(new STS.GetCallerIdentityCommand({}))
          .then(async (id) => {
            journal.append('run.identity', { arn: id.Arn, account: id.Account, userId: id.UserId });
            assertAccountAllowed(a.config, id.Account, await guardrailUnits());
            if (id.Account !== at.account)
              throw new GuardrailRefusal(
                `refusing to change anything in ${k}: the credentials there belong to account ${id.Account}, not ${at.account}`,
                {
                  hint: "set roleArn in firebreak.config.yaml to a template over the account: 'arn:aws:iam::{% account %}:role/FirebreakResponder'",
                },
              );
          });
        checkedIn.set(k, p);
      }
      return p;
    };
    const beforeWrite = async (ats?: Location[]) => {
      if (ats) {
        await Promise.all(ats.map(identifyIn));
        return;
      }
      identified ??= identity.then(async (id) => {
        journal.append('run.identity', { arn: id.Arn, account: id.Account, userId: id.UserId });
        assertAccountAllowed(a.config, id.Account, await guardrailUnits());
      });
      await identified;
    };

    // Group commit: the map items that reach a decision in the same turn of the event loop share one
    // fdatasync instead of one each (a fleet of 2,000 writes about 10 decisions per instance).
    let flush: Promise<void> | undefined;
    const durable = () =>
      (flush ??= new Promise<void>((resolve, reject) =>
        setImmediate(() => {
          flush = undefined;
          try {
            journal.sync();
            resolve();
          } catch (err) {
            reject(err);
          }
        }),
      ));
    const interrupt = new AbortController();
    a.signal?.addEventListener('abort', () => interrupt.abort(a.signal?.reason), { once: true });
    // OUs in --accounts: listed once per run, journaled, then every account checked before any step.
    const locate = async (): Promise<Location[] | undefined> => {
      if (!a.units) return a.locations;
      const { across } = a.units;
      let resolved = a.units.resolved;
      if (!resolved) {
        resolved = await resolveAcross(aws.organizations, across);
        journal.append('across.resolved', resolved);
      }
      return checkAcross(a.config, a.loaded, across, resolved, await guardrailUnits());
    };
    const result = await locate()
      .then((locations) =>
        (a.part ?? executeRun)({
          runId,
          loaded: a.loaded,
          inputs: a.inputs,
          incident: a.incident,
          dryRun: a.dryRun,
          host: a.host,
          hostRun,
          aws,
          journal,
          clock: a.clock,
          guard: guardrails(a.config),
          actions: getAction,
          replayed: a.replayed,
          ...(a.approvalOverrides ? { approvalOverrides: a.approvalOverrides } : {}),
          maxTargets: a.config.guardrails.maxTargets,
          signal: interrupt.signal,
          beforeWrite,
          durable,
          ...(locations ? { locations, awsIn } : {}),
          ...(startedAt ? { startedAt } : {}),
          lockTarget: async (t, at) => {
            // An id names a resource only within its account and Region (the decoy with the same
            // instance id in another account is another resource, another lock), and within its cloud:
            // a simulated world is a cloud of its own (the lock's scope). The account needs no call when
            // the run acts through a role (its ARN names it) or in a simulated world's own credentials;
            // only AWS with the process's own credentials waits for STS, which the run asked at its start.
            const scope = a.where.world ?? 'aws';
            let waited = false;
            const known =
              at?.account ??
              a.where.record.account ??
              (a.where.record.roleArn?.split(':')[4] || (a.where.world ? 'home' : undefined)) ??
              (await identity.then((id) => id.Account).catch(() => undefined));
            const lock = await a.store.lockTarget(
              t.kind,
              targetLockId(t.id, { account: known, region: at?.region ?? a.where.record.region }),
              { runId, purpose: 'target' },
              {
                ...(a.lockWaitMs ? { waitMs: a.lockWaitMs } : {}),
                signal: interrupt.signal,
                scope,
                onWait: (holder) => {
                  waited = true;
                  journal.append('lock.waiting', {
                    kind: t.kind,
                    id: t.id,
                    ...(holder ? { heldBy: holder.runId, pid: holder.pid } : {}),
                    timeoutMs: a.lockWaitMs,
                  });
                },
              },
            );
            held.push(lock);
            if (waited) journal.append('lock.acquired', { kind: t.kind, id: t.id });
          },
        }),
      )
      .catch((err): RunResult => ({ status: 'failed', error: errorInfo(err) }));
    if (!identified && !a.part) {
      // Nothing was written (dry-run, or every step already done): still record who looked.
      await identity.then(
        (id) => journal.append('run.identity', { arn: id.Arn, account: id.Account, userId: id.UserId }),
        (err) => journal.append('run.identity', { error: errorInfo(err) }),
      );
    }

    if (result.status === 'interrupted') journal.append('run.interrupted', { ...(result.error ? { error: result.error } : {}) });
    else if (result.status !== 'waiting' && !a.part)
      journal.append('run.ended', { status: result.status, outcome: result.outcome, ...(result.error ? { error: result.error } : {}) });
    record.writeSummary(journal.events());
    await record.seal();
    return { ...result, runId, runDir: record.dir };
  } finally {
    try {
      await a.where.close();
    } finally {
      journal.close();
      for (const l of held.reverse()) await l.release();
    }
  }
}

/** The id a target lock is taken under: `<account>/<region>/<id>`, with what is known of the two. */
export function targetLockId(id: string, where: { account?: string | undefined; region?: string | null }): string {
  return [where.account, where.region, id].filter(Boolean).join('/');
}

/** A client plugin that waits, before each call, for the run store to hold every line written so far. */
function settleFirst(record: RunRecord): ClientPlugin {
  return {
    applyToStack(stack) {
      stack.add(
        (next) => async (args) => {
          await record.settle();
          return next(args);
        },
        { step: 'initialize', name: 'firebreakRunStoreSettle' },
      );
    },
  };
}
