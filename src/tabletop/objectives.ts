/**
 * Objectives: a small typed vocabulary of predicates over the world, the journals and the
 * timeline, checked after every event. Each objective is met at the first moment its predicate
 * holds (before its deadline, when it has one), missed when the deadline passes, and — when
 * `sustained` — lost again if the predicate stops holding. Some predicates can be *violated*
 * (a volume changed before it was snapshotted, a key deleted rather than disabled, an instance
 * outside the incident isolated): a violation is a miss that nothing undoes.
 */
import { parseDuration, type Clock } from '../core/clock.js';
import { aclAllows, interfaceOf, isKeyUsable, scopedWorld, type Connection, type World } from '../sim/index.js';
import { parseCidr } from '../core/net.js';
import type { Attacker } from './attacker.js';
import { kindOf, OBJECTIVE_KINDS, type ObjectiveKind, type ObjectiveT } from './scenario.js';

/** What the exercise knows besides the world, for the predicates. */
export interface ExerciseFacts {
  start: Date;
  /** The world when the exercise began. */
  initial: World;
  attacker?: Attacker;
  firstAlertAt?: number;
  /** First firing of each inject (ms since start), by inject id. */
  injectFired: Map<string, number>;
  /** Final outcome of each firing of each attacker inject, by inject id. */
  attacks: Map<string, Array<{ t: number; ok: boolean }>>;
  /** How many times each inject fires in all (its repeat count), by inject id. */
  firings: Map<string, number>;
  /** Steps of every run, as their journals completed them. */
  steps: Array<{ runId: string; playbook: string; key: string; stepId: string; action?: string; status: string; t: number }>;
  /** Responder calls the simulated cloud answered (to spot volume changes). */
  calls: ReadonlyArray<{ operation: string; input: unknown; error?: string; dryRun: boolean; at: string }>;
}

export type ObjectiveStatus = 'pending' | 'met' | 'missed';

export interface ObjectiveState {
  objective: ObjectiveT;
  kind: ObjectiveKind;
  status: ObjectiveStatus;
  /** When it was met or missed (ms since start). */
  t?: number;
  detail: string;
  /** Its deadline (ms since start), once known. */
  deadline?: number;
}

interface Verdict {
  ok: boolean;
  violated?: boolean;
  detail: string;
}

/** Kinds that hold unless violated: they are met only when the exercise ends. */
const MAINTAINED: ReadonlySet<ObjectiveKind> = new Set(['no-collateral']);

export class ObjectiveTracker {
  readonly states: ObjectiveState[];
  private finished = false;

  constructor(
    objectives: readonly ObjectiveT[],
    private readonly world: World,
    private readonly facts: ExerciseFacts,
    private readonly clock: Clock,
    private readonly onChange: (s: ObjectiveState) => void,
    /** Told each deadline once it is known, so the exercise can check the objective right after it. */
    private readonly onDeadline: (t: number) => void = () => undefined,
  ) {
    this.states = objectives.map((o) => ({ objective: o, kind: kindOf(o, OBJECTIVE_KINDS), status: 'pending', detail: 'not yet' }));
  }

  /** Check every objective at simulated time `t` (ms since start). */
  evaluate(t: number): void {
    if (this.finished) return;
    for (const s of this.states) {
      if (s.status === 'missed') continue;
      if (s.status === 'met' && !s.objective.sustained) continue;
      if (s.deadline === undefined) {
        s.deadline = this.deadlineOf(s.objective);
        if (s.deadline !== undefined) this.onDeadline(s.deadline);
      }
      const v = this.check(s.kind, s.objective);
      if (v.violated) {
        this.set(s, 'missed', t, v.detail);
      } else if (s.status === 'met') {
        if (!v.ok) this.set(s, 'missed', t, `lost: ${v.detail}`);
      } else if (s.deadline !== undefined && t > s.deadline) {
        this.set(s, 'missed', s.deadline, `not within ${s.objective.within}: ${v.detail}`);
      } else if (v.ok && !MAINTAINED.has(s.kind)) {
        this.set(s, 'met', t, v.detail);
      }
    }
  }

  /** The exercise ended at `t`: what is still pending is decided now. */
  finish(t: number): ObjectiveState[] {
    this.evaluate(t);
    for (const s of this.states) {
      if (s.status !== 'pending') continue;
      const v = this.check(s.kind, s.objective);
      if (MAINTAINED.has(s.kind) && v.ok) this.set(s, 'met', t, v.detail);
      else if (s.kind === 'credential-revoked' && !this.facts.attacker?.credentials.has(s.objective['credential-revoked']!.credential))
        this.set(s, 'met', t, 'the attacker never obtained it');
      else this.set(s, 'missed', t, `not achieved by the end: ${v.detail}`);
    }
    this.finished = true;
    return this.states;
  }

  private set(s: ObjectiveState, status: ObjectiveStatus, t: number, detail: string): void {
    s.status = status;
    s.t = t;
    s.detail = detail;
    this.onChange(s);
  }

  private deadlineOf(o: ObjectiveT): number | undefined {
    if (o.within === undefined) return undefined;
    const from = o.from === 'start' ? 0 : o.from === 'first-alert' ? this.facts.firstAlertAt : this.facts.injectFired.get(o.from);
    return from === undefined ? undefined : from + parseDuration(o.within);
  }

  private check(kind: ObjectiveKind, o: ObjectiveT): Verdict {
    const w = this.world;
    switch (kind) {
      case 'instance-isolated': {
        const v = o['instance-isolated']!;
        // An instance of a member account or another Region is judged where it lives.
        const scope = v.account || v.region ? scopedWorld(w, { account: v.account ?? w.account.id, region: v.region ?? w.region }) : w;
        return scope ? isolated(scope, v.instance) : { ok: false, detail: `the world holds no ${v.account ?? ''} ${v.region ?? ''}` };
      }
      case 'connections-closed': {
        const v = o['connections-closed']!;
        const att = this.facts.attacker;
        const open = (att?.openConnections(v.instance) ?? []).filter(
          (c) => !v.connection || att!.connectionsNamed(v.connection).includes(c.id),
        );
        return open.length === 0
          ? { ok: true, detail: 'no attacker connection open' }
          : { ok: false, detail: `open: ${open.map(label).join(', ')}` };
      }
      case 'snapshot-before-change':
        return this.snapshotBeforeChange(o['snapshot-before-change']!.instance);
      case 'no-collateral':
        return collateral(w, this.facts.initial, o['no-collateral']!);
      case 'support-case-opened': {
        const sev = o['support-case-opened']!.severity;
        const before = new Set(this.facts.initial.support.cases.map((c) => c.id));
        const opened = w.support.cases.find((c) => !before.has(c.id) && (!sev || c.severityCode === sev));
        if (opened) return { ok: true, detail: `case ${opened.displayId} (${opened.severityCode}): ${opened.subject}` };
        const byHand = this.facts.steps.find((s) => s.action === 'support.open-case' && s.status === 'manual');
        if (byHand) return { ok: true, detail: `opened by hand (step ${byHand.key} confirmed done)` };
        return { ok: false, detail: 'no support case opened' };
      }
      case 'access-key-disabled': {
        const id = o['access-key-disabled']!.accessKeyId;
        const key = w.iam.users.flatMap((u) => u.accessKeys).find((k) => k.id === id);
        if (!key)
          return {
            ok: false,
            violated: true,
            detail: `${id} was deleted, not disabled: it cannot be re-enabled, and its last-used record went with it`,
          };
        return key.status === 'Inactive' ? { ok: true, detail: `${id} is Inactive` } : { ok: false, detail: `${id} is still Active` };
      }
      case 'credential-revoked': {
        const name = o['credential-revoked']!.credential;
        const c = this.facts.attacker?.credentials.get(name);
        if (!c) return { ok: false, detail: `the attacker does not hold ${name} yet` };
        return isKeyUsable(w, c.accessKeyId, this.now())
          ? { ok: false, detail: `${name} (${c.accessKeyId}) still works` }
          : { ok: true, detail: `${name} (${c.accessKeyId}) no longer works` };
      }
      case 'attacker-locked-out': {
        const att = this.facts.attacker;
        if (!att) return { ok: true, detail: 'no attacker' };
        const creds = att.usableCredentials();
        const conns = att.openConnections();
        if (creds.length === 0 && conns.length === 0) return { ok: true, detail: 'no working credential and no open connection' };
        return {
          ok: false,
          detail: [
            creds.length ? `working credentials: ${creds.map((c) => `${c.name} (${c.accessKeyId})`).join(', ')}` : '',
            conns.length ? `open connections: ${conns.map(label).join(', ')}` : '',
          ]
            .filter(Boolean)
            .join('; '),
        };
      }
      case 'address-range-blocked':
        return rangeBlocked(w, o['address-range-blocked']!);
      case 'attack-stopped': {
        const id = o['attack-stopped']!.inject;
        const tries = this.facts.attacks.get(id) ?? [];
        const last = tries.at(-1);
        if (!last) return { ok: false, detail: `${id} has not happened yet` };
        if (!last.ok) return { ok: true, detail: `${id} failed (attempt ${tries.length})` };
        // Its last attempt worked: nothing can stop it any more.
        const final = tries.length >= (this.facts.firings.get(id) ?? 1);
        return {
          ok: false,
          ...(final ? { violated: true } : {}),
          detail: `${id} worked (attempt ${tries.length}${final ? ', its last' : ''})`,
        };
      }
      case 'step-completed': {
        const v = o['step-completed']!;
        const done = this.facts.steps.find(
          (s) => s.stepId === v.step && (!v.playbook || s.playbook === v.playbook) && (v.status as string[]).includes(s.status),
        );
        return done
          ? { ok: true, detail: `${done.playbook} step ${done.key}: ${done.status}` }
          : { ok: false, detail: `step ${v.step} not ${v.status.join(' or ')}` };
      }
      case 'instance-profile-removed':
        return profileRemoved(w, this.facts.initial, o['instance-profile-removed']!.instance);
    }
  }

  private now(): Date {
    return this.clock.now();
  }

  private snapshotBeforeChange(instanceId: string): Verdict {
    const inst = this.facts.initial.ec2.instances.find((i) => i.id === instanceId)!;
    const since = this.facts.start.getTime();
    const changes = [
      ...(this.facts.attacker?.volumeChanges ?? []).map((c) => ({ volumeId: c.volumeId, at: c.at.getTime(), by: c.by })),
      ...responderVolumeChanges(this.facts.calls, inst),
    ];
    const missing: string[] = [];
    for (const b of inst.blockDevices) {
      const snaps = this.world.ec2.snapshots
        .filter((s) => s.volumeId === b.volumeId && Date.parse(s.startTime) >= since)
        .map((s) => Date.parse(s.startTime));
      const first = snaps.length ? Math.min(...snaps) : undefined;
      const change = changes.filter((c) => c.volumeId === b.volumeId).sort((a, z) => a.at - z.at)[0];
      if (change && (first === undefined || first > change.at)) {
        return {
          ok: false,
          violated: true,
          detail: `${b.volumeId} was changed by ${change.by} at ${new Date(change.at).toISOString()} before any snapshot of it existed`,
        };
      }
      if (first === undefined) missing.push(b.volumeId);
    }
    return missing.length === 0
      ? { ok: true, detail: `every volume of ${instanceId} has a snapshot` }
      : { ok: false, detail: `no snapshot yet of ${missing.join(', ')}` };
  }
}

const label = (c: Connection) => `${c.id} (${c.instanceId} ↔ ${c.remoteIp})`;

function isolated(w: World, instanceId: string): Verdict {
  const enis = w.ec2.networkInterfaces.filter((e) => e.attachment?.instanceId === instanceId);
  const ruled = enis.filter((e) =>
    w.ec2.securityGroups.some((g) => e.groups.includes(g.id) && (g.ingress.length > 0 || g.egress.length > 0)),
  );
  const open = w.ec2.connections.filter((c) => c.instanceId === instanceId && c.state === 'open');
  if (ruled.length === 0 && open.length === 0)
    return { ok: true, detail: `every interface of ${instanceId} in groups without rules, no connection open` };
  const why = [
    ruled.length ? `${ruled.map((e) => e.id).join(', ')} still in groups with rules` : '',
    open.length
      ? `still open: ${open.map(label).join(', ')}${ruled.length === 0 ? ' (tracked connections survive a security-group change)' : ''}`
      : '',
  ].filter(Boolean);
  return { ok: false, detail: why.join('; ') };
}

function collateral(w: World, initial: World, v: { tags: Record<string, string>; except: string[] }): Verdict {
  for (const before of initial.ec2.instances) {
    if (v.except.includes(before.id) || !Object.entries(v.tags).every(([k, val]) => before.tags[k] === val)) continue;
    const now = w.ec2.instances.find((i) => i.id === before.id);
    if (!now || now.state !== before.state)
      return {
        ok: false,
        violated: true,
        detail: `${before.id} (${before.tags.Name ?? 'unnamed'}) went from ${before.state} to ${now?.state ?? 'gone'}`,
      };
    for (const e0 of initial.ec2.networkInterfaces.filter((e) => e.attachment?.instanceId === before.id)) {
      const e1 = w.ec2.networkInterfaces.find((e) => e.id === e0.id);
      if (!e1 || [...e1.groups].sort().join() !== [...e0.groups].sort().join()) {
        return {
          ok: false,
          violated: true,
          detail: `${before.id} (${before.tags.Name ?? 'unnamed'}) was touched: ${e0.id} went from ${e0.groups.join(',')} to ${e1?.groups.join(',') ?? 'gone'}`,
        };
      }
    }
    const a0 = initial.ec2.iamInstanceProfileAssociations.find((a) => a.instanceId === before.id)?.instanceProfileArn;
    const a1 = w.ec2.iamInstanceProfileAssociations.find((a) => a.instanceId === before.id)?.instanceProfileArn;
    if (a0 !== a1)
      return {
        ok: false,
        violated: true,
        detail: `${before.id} (${before.tags.Name ?? 'unnamed'}) was touched: its instance profile changed`,
      };
  }
  return { ok: true, detail: 'no instance it covers was touched' };
}

function rangeBlocked(w: World, v: { cidr: string; instance: string; port: number }): Verdict {
  const c = parseCidr(v.cidr)!;
  const width = c.family === 4 ? 32 : 128;
  const base = (c.base >> BigInt(width - c.bits)) << BigInt(width - c.bits);
  const last = base + 2n ** BigInt(width - c.bits) - 1n;
  const probes = [base, last]
    .map((n) => (c.family === 4 ? [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 255n)).join('.') : undefined))
    .filter((x): x is string => !!x);
  const probe = (remoteIp: string): Connection => ({
    id: 'probe',
    instanceId: v.instance,
    remoteIp,
    localPort: v.port,
    remotePort: 40000,
    protocol: 'tcp',
    direction: 'inbound',
    state: 'open',
  });
  const eni = interfaceOf(w, probe(probes[0] ?? '::1'));
  if (!eni) return { ok: false, detail: `${v.instance} has no primary interface` };
  const allowed = probes.filter((ip) => aclAllows(w, eni.subnetId, probe(ip)).allowed);
  return allowed.length === 0
    ? { ok: true, detail: `the network ACL of ${eni.subnetId} refuses ${v.cidr}` }
    : { ok: false, detail: `the network ACL of ${eni.subnetId} lets ${allowed.join(', ')} in on port ${v.port}` };
}

function profileRemoved(w: World, initial: World, instanceId: string): Verdict {
  const roleOf = (world: World) => {
    const arn = world.ec2.iamInstanceProfileAssociations.find((a) => a.instanceId === instanceId)?.instanceProfileArn;
    const name = arn?.split('/').pop();
    return { arn, role: world.iam.instanceProfiles.find((p) => p.name === name)?.roles[0] };
  };
  const before = roleOf(initial);
  const now = roleOf(w);
  if (!now.arn) return { ok: true, detail: `${instanceId} has no instance profile` };
  if (now.role !== before.role)
    return { ok: true, detail: `${instanceId} now hands out ${now.role ?? 'no role'} instead of ${before.role}` };
  return { ok: false, detail: `${instanceId} still hands out ${before.role} credentials (${now.arn})` };
}

const VOLUME_CHANGING = new Set(['DetachVolume', 'DeleteVolume', 'ModifyVolume', 'StopInstances', 'TerminateInstances', 'RebootInstances']);

function responderVolumeChanges(
  calls: ExerciseFacts['calls'],
  inst: World['ec2']['instances'][number],
): Array<{ volumeId: string; at: number; by: string }> {
  const out: Array<{ volumeId: string; at: number; by: string }> = [];
  for (const c of calls) {
    if (c.error || c.dryRun || !VOLUME_CHANGING.has(c.operation)) continue;
    const input = c.input as { VolumeId?: string; InstanceIds?: string[] };
    for (const b of inst.blockDevices) {
      if (input.VolumeId === b.volumeId || input.InstanceIds?.includes(inst.id))
        out.push({ volumeId: b.volumeId, at: Date.parse(c.at), by: `an ${c.operation} call` });
    }
  }
  return out;
}
