/**
 * The attacker of a scenario, acting on the same simulated cloud as the players. API actions go
 * through real SDK clients signed with the attacker's own credentials, so a disabled key fails
 * with AWS's own error and a revoked session with AWS's explicit deny. Network actions open
 * flows that security groups and network ACLs judge as AWS does (see src/sim/connections.ts).
 *
 * Work on an instance (stealing its role credentials, copying data out, wiping logs) needs a
 * channel: an open attacker connection on the instance, or the implant calling home to the C2
 * address — which an isolated instance can no longer do.
 */
import type { AwsClients } from '../cloud/clients.js';
import { utilityClients } from '../backend/backend.js';
import { awsErrorCode } from '../core/errors.js';
import { findRole, isKeyUsable, issueRoleSession, type Connection, type SimCloud } from '../sim/index.js';
import { cidrContains, parseCidr } from '../core/net.js';
import type { Rng } from './rng.js';
import { ATTACKER_KINDS, kindOf, type AttackerActionT, type AttackerStepT, type AttackerT } from './scenario.js';
import { sendRaw } from './sdk-commands.js';
import { explainAwsError, explainOpenConnection } from './lessons.js';
import { IAM, STS } from '../cloud/sdk.js';

export interface HeldCredential {
  name: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** How the attacker got it. */
  origin: string;
}

export interface AttackOutcome {
  ok: boolean;
  /** What was tried, in words. */
  text: string;
  lesson?: string;
}

export interface VolumeChange {
  volumeId: string;
  instanceId: string;
  at: Date;
  by: string;
}

// The simulated cloud identifies callers by access key id and does not check signatures; the SDK
// still needs a secret to sign with.
const FAKE_SECRET = 'attackerFAKEsecretKEYnotCHECKEDbySIMx000';

export class Attacker {
  readonly credentials = new Map<string, HeldCredential>();
  /** Connection ids by the name the scenario gave them, oldest first. */
  private readonly named = new Map<string, string[]>();
  private readonly mine = new Set<string>();
  private readonly compromised = new Set<string>();
  readonly volumeChanges: VolumeChange[] = [];
  private readonly clients = new Map<string, AwsClients>();

  /** When the exercise began: snapshots older than this are backups, not evidence of this incident. */
  private readonly started: Date;

  constructor(
    private readonly sim: SimCloud,
    readonly spec: AttackerT,
    private readonly rng: Rng,
  ) {
    this.started = sim.clock.now();
    for (const [name, c] of Object.entries(spec.credentials)) {
      this.credentials.set(name, {
        name,
        accessKeyId: c.accessKeyId,
        secretAccessKey: c.secretAccessKey ?? FAKE_SECRET,
        ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}),
        origin: 'held at the start',
      });
    }
    for (const id of spec.footholds) this.compromised.add(id);
    for (const c of sim.world.ec2.connections) {
      if (this.isAttackerAddress(c.remoteIp)) {
        this.mine.add(c.id);
        if (c.state === 'open') this.compromised.add(c.instanceId);
      }
    }
  }

  get name(): string {
    return this.spec.name;
  }

  /** Try the action; when it fails, try each `otherwise` alternative in turn (the attacker adapts). */
  async perform(action: AttackerActionT): Promise<AttackOutcome[]> {
    const outcomes: AttackOutcome[] = [await this.attempt(action)];
    for (const alt of action.otherwise ?? []) {
      if (outcomes.at(-1)!.ok) break;
      outcomes.push(await this.attempt(alt));
    }
    return outcomes;
  }

  /** Every attacker connection that is open, optionally on one instance. */
  openConnections(instanceId?: string): Connection[] {
    return this.sim.world.ec2.connections.filter(
      (c) => c.state === 'open' && this.isMine(c) && (instanceId === undefined || c.instanceId === instanceId),
    );
  }

  /** Ids of the connections opened under `name`. */
  connectionsNamed(name: string): string[] {
    return this.named.get(name) ?? [];
  }

  /** Credentials the attacker holds that AWS would still accept now. */
  usableCredentials(): HeldCredential[] {
    const now = this.sim.clock.now();
    return [...this.credentials.values()].filter((c) => isKeyUsable(this.sim.world, c.accessKeyId, now));
  }

  private isMine(c: Connection): boolean {
    return this.mine.has(c.id) || this.isAttackerAddress(c.remoteIp);
  }

  private isAttackerAddress(ip: string): boolean {
    return this.spec.addresses.some((a) => (a.includes('/') ? cidrContains(a, ip) : a === ip));
  }

  private async attempt(step: AttackerStepT): Promise<AttackOutcome> {
    const kind = kindOf(step, ATTACKER_KINDS);
    // A credential the scenario expected the attacker to obtain earlier, when that move failed.
    const using = (step[kind] as { with?: string }).with;
    if (using !== undefined && !this.credentials.has(using))
      return { ok: false, text: `${kind} with ${using}: the attacker never obtained ${using}` };
    switch (kind) {
      case 'connect':
        return this.connect(step.connect!);
      case 'check-connection':
        return this.checkConnection(step['check-connection']!.name);
      case 'create-access-key':
        return this.createAccessKey(step['create-access-key']!);
      case 'assume-role':
        return this.assumeRole(step['assume-role']!);
      case 'call':
        return this.call(step.call!);
      case 'steal-instance-credentials':
        return this.stealInstanceCredentials(step['steal-instance-credentials']!);
      case 'exfiltrate':
        return this.exfiltrate(step.exfiltrate!);
      case 'move-laterally':
        return this.moveLaterally(step['move-laterally']!);
      case 'wipe-evidence':
        return this.wipeEvidence(step['wipe-evidence']!);
    }
  }

  // --- network ---------------------------------------------------------------------------------

  private pickAddress(from: string | undefined): string {
    const spec = from ?? this.spec.addresses[0]!;
    if (!spec.includes('/')) return spec;
    const c = parseCidr(spec)!;
    // A host address of the range (not the network or broadcast address), chosen by the seed.
    const width = c.family === 4 ? 32 : 128;
    const hosts = 2n ** BigInt(width - c.bits);
    const offset = hosts > 2n ? 1n + BigInt(this.rng.below(Number(hosts > 65_534n ? 65_534n : hosts - 2n))) : 0n;
    const value = ((c.base >> BigInt(width - c.bits)) << BigInt(width - c.bits)) + offset;
    return c.family === 4 ? [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 255n)).join('.') : v6(value);
  }

  private open(
    spec: {
      instanceId: string;
      remoteIp: string;
      localPort: number;
      remotePort: number;
      protocol: 'tcp' | 'udp';
      direction: 'inbound' | 'outbound';
    },
    name: string,
  ): Connection {
    const taken = new Set(this.sim.world.ec2.connections.map((c) => c.id));
    let id = name;
    for (let n = 2; taken.has(id); n++) id = `${name}-${n}`;
    const conn = this.sim.openConnection({ id, ...spec });
    this.mine.add(conn.id);
    this.named.set(name, [...(this.named.get(name) ?? []), conn.id]);
    if (conn.state === 'open') this.compromised.add(spec.instanceId);
    return conn;
  }

  private ephemeralPort(): number {
    return 32768 + this.rng.below(28232);
  }

  private connect(v: NonNullable<AttackerStepT['connect']>): AttackOutcome {
    const ip = this.pickAddress(v.from);
    const inbound = v.direction === 'inbound';
    const conn = this.open(
      {
        instanceId: v.instance,
        remoteIp: ip,
        protocol: v.protocol,
        direction: v.direction,
        localPort: inbound ? v.port : this.ephemeralPort(),
        remotePort: inbound ? this.ephemeralPort() : v.port,
      },
      v.name ?? 'attacker',
    );
    const what = inbound ? `connect to ${v.instance} port ${v.port} from ${ip}` : `call out from ${v.instance} to ${ip}:${v.port}`;
    if (conn.state === 'open') return { ok: true, text: `${what}: open (${conn.id})` };
    return { ok: false, text: `${what}: ${conn.closedBy}` };
  }

  private checkConnection(name: string): AttackOutcome {
    const ids = this.named.get(name) ?? [];
    const id = ids.at(-1);
    if (!id) return { ok: false, text: `check connection ${name}: it was never opened` };
    const conn = this.sim.world.ec2.connections.find((c) => c.id === id)!;
    if (conn.state === 'open') {
      const lesson = explainOpenConnection(this.sim.world, conn);
      return { ok: true, text: `check connection ${name} (${id}) on ${conn.instanceId}: still open`, ...(lesson ? { lesson } : {}) };
    }
    return {
      ok: false,
      text: `check connection ${name} (${id}) on ${conn.instanceId}: closed${conn.closedBy ? ` — ${conn.closedBy}` : ''}`,
    };
  }

  /**
   * A channel to work on the instance: an open attacker connection on it, or (where an implant
   * runs) a new call home to the C2 address, which the instance's groups and ACL must let out.
   */
  private channel(instanceId: string): { ok: true; via: string } | { ok: false; why: string } {
    const open = this.openConnections(instanceId)[0];
    if (open) return { ok: true, via: `connection ${open.id}` };
    if (!this.compromised.has(instanceId)) return { ok: false, why: `the attacker has no foothold on ${instanceId}` };
    const inst = this.sim.world.ec2.instances.find((i) => i.id === instanceId);
    if (inst?.state !== 'running') return { ok: false, why: `${instanceId} is ${inst?.state ?? 'gone'}` };
    const c2 = this.pickAddress(this.spec.addresses[0]);
    const conn = this.open(
      { instanceId, remoteIp: c2, remotePort: this.spec.c2Port, localPort: this.ephemeralPort(), protocol: 'tcp', direction: 'outbound' },
      'c2',
    );
    if (conn.state === 'open') return { ok: true, via: `a new call home to ${c2}:${this.spec.c2Port} (${conn.id})` };
    return { ok: false, why: `the implant on ${instanceId} cannot call home: ${conn.closedBy}` };
  }

  private exfiltrate(v: NonNullable<AttackerStepT['exfiltrate']>): AttackOutcome {
    if (v.via) {
      const id = this.connectionsNamed(v.via).at(-1);
      const conn = this.sim.world.ec2.connections.find((c) => c.id === id);
      if (conn?.state === 'open') {
        return {
          ok: true,
          text: `exfiltrate ${v.data} from ${v.instance} over ${conn.id}: done`,
          lesson: explainOpenConnection(this.sim.world, conn) ?? 'the channel was still open, so the data left',
        };
      }
      return {
        ok: false,
        text: `exfiltrate ${v.data} from ${v.instance} over ${v.via}: the connection is closed${conn?.closedBy ? ` — ${conn.closedBy}` : ''}`,
      };
    }
    const ch = this.channel(v.instance);
    if (!ch.ok) return { ok: false, text: `exfiltrate ${v.data} from ${v.instance}: failed — ${ch.why}` };
    return {
      ok: true,
      text: `exfiltrate ${v.data} from ${v.instance} over ${ch.via}: done`,
      lesson:
        'data leaves over any channel the instance still has: isolate it (two-step swap) to cut both open sessions and new calls home',
    };
  }

  private moveLaterally(v: NonNullable<AttackerStepT['move-laterally']>): AttackOutcome {
    const ch = this.channel(v.from);
    if (!ch.ok) return { ok: false, text: `move from ${v.from} to ${v.to}: failed — ${ch.why}` };
    const world = this.sim.world;
    const primary = (id: string) =>
      world.ec2.networkInterfaces.find((e) => e.attachment?.instanceId === id && e.attachment.deviceIndex === 0);
    const src = primary(v.from)?.privateIpAddress;
    const dst = primary(v.to)?.privateIpAddress;
    if (!src || !dst) return { ok: false, text: `move from ${v.from} to ${v.to}: failed — no private address to connect between` };
    const port = this.ephemeralPort();
    const out = this.open(
      { instanceId: v.from, remoteIp: dst, remotePort: v.port, localPort: port, protocol: 'tcp', direction: 'outbound' },
      'lateral',
    );
    if (out.state !== 'open') return { ok: false, text: `move from ${v.from} to ${v.to}:${v.port}: ${out.closedBy}` };
    const inn = this.open(
      { instanceId: v.to, remoteIp: src, localPort: v.port, remotePort: port, protocol: 'tcp', direction: 'inbound' },
      'lateral',
    );
    if (inn.state !== 'open') return { ok: false, text: `move from ${v.from} to ${v.to}:${v.port}: ${inn.closedBy}` };
    return {
      ok: true,
      text: `move from ${v.from} to ${v.to} port ${v.port}: in (${inn.id})`,
      lesson: `the attacker now has a foothold on ${v.to} as well`,
    };
  }

  private wipeEvidence(v: NonNullable<AttackerStepT['wipe-evidence']>): AttackOutcome {
    const ch = this.channel(v.instance);
    if (!ch.ok) return { ok: false, text: `wipe ${v.what} on ${v.instance}: failed — ${ch.why}` };
    const inst = this.sim.world.ec2.instances.find((i) => i.id === v.instance)!;
    const at = this.sim.clock.now();
    for (const b of inst.blockDevices) this.volumeChanges.push({ volumeId: b.volumeId, instanceId: v.instance, at, by: this.name });
    const unsaved = inst.blockDevices.filter(
      (b) => !this.sim.world.ec2.snapshots.some((s) => s.volumeId === b.volumeId && Date.parse(s.startTime) >= this.started.getTime()),
    );
    return {
      ok: true,
      text: `wipe ${v.what} on ${v.instance} over ${ch.via}: done (volumes ${inst.blockDevices.map((b) => b.volumeId).join(', ')} changed)`,
      ...(unsaved.length
        ? {
            lesson: `the evidence on ${unsaved.map((b) => b.volumeId).join(', ')} is gone: no snapshot was taken before the attacker changed it`,
          }
        : {}),
    };
  }

  // --- credentials -----------------------------------------------------------------------------

  private clientsFor(name: string): AwsClients {
    const c = this.credentials.get(name);
    if (!c) throw new Error(`failed to act as ${name}: the attacker holds no such credential`);
    let clients = this.clients.get(c.accessKeyId);
    if (!clients) {
      // One attempt per call: the attacker's request either works or shows AWS's answer.
      clients = utilityClients(
        { simCloud: this.sim },
        {
          credentials: {
            accessKeyId: c.accessKeyId,
            secretAccessKey: c.secretAccessKey,
            ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}),
          },
          userAgent: 'attacker',
          maxAttempts: 1,
        },
      );
      this.clients.set(c.accessKeyId, clients);
    }
    return clients;
  }

  private failure(what: string, cred: string, err: unknown): AttackOutcome {
    const code = awsErrorCode(err);
    if (!code) throw err;
    const key = this.credentials.get(cred)?.accessKeyId;
    const lesson = explainAwsError(code, key);
    return { ok: false, text: `${what} with ${cred} (${key}): ${code}: ${(err as Error).message}`, ...(lesson ? { lesson } : {}) };
  }

  private async createAccessKey(v: NonNullable<AttackerStepT['create-access-key']>): Promise<AttackOutcome> {
    const what = `create an access key for IAM user ${v.user}`;
    try {
      const out = await this.clientsFor(v.with).iam.send(new IAM.CreateAccessKeyCommand({ UserName: v.user }));
      const k = out.AccessKey!;
      this.credentials.set(v.as, {
        name: v.as,
        accessKeyId: k.AccessKeyId!,
        secretAccessKey: k.SecretAccessKey!,
        origin: `created with ${v.with}`,
      });
      return {
        ok: true,
        text: `${what} with ${v.with}: got ${k.AccessKeyId} (kept as ${v.as})`,
        lesson: 'a second key is persistence: disabling the leaked key alone does not lock the attacker out',
      };
    } catch (err) {
      return this.failure(what, v.with, err);
    }
  }

  private async assumeRole(v: NonNullable<AttackerStepT['assume-role']>): Promise<AttackOutcome> {
    const roleArn = v.role.startsWith('arn:') ? v.role : `arn:aws:iam::${this.sim.world.account.id}:role/${v.role}`;
    const what = `assume role ${v.role}`;
    try {
      const out = await this.clientsFor(v.with).sts.send(new STS.AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: v.sessionName }));
      const c = out.Credentials!;
      this.credentials.set(v.as, {
        name: v.as,
        accessKeyId: c.AccessKeyId!,
        secretAccessKey: c.SecretAccessKey!,
        sessionToken: c.SessionToken!,
        origin: `assumed ${v.role} with ${v.with}`,
      });
      const revoked = findRole(this.sim.world, roleArn)?.inlinePolicies.AWSRevokeOlderSessions !== undefined;
      return {
        ok: true,
        text: `${what} with ${v.with}: got session ${c.AccessKeyId} (kept as ${v.as})`,
        ...(revoked
          ? {
              lesson:
                "revoking a role's sessions stops only sessions issued before it: AssumeRole keeps working until the trust policy (or the caller's key) is fixed",
            }
          : {}),
      };
    } catch (err) {
      return this.failure(what, v.with, err);
    }
  }

  private async call(v: NonNullable<AttackerStepT['call']>): Promise<AttackOutcome> {
    const what = `${v.service}:${v.operation}`;
    try {
      await sendRaw(this.clientsFor(v.with), v.service, v.operation, v.input);
      return { ok: true, text: `${what} with ${v.with} (${this.credentials.get(v.with)!.accessKeyId}): succeeded` };
    } catch (err) {
      return this.failure(what, v.with, err);
    }
  }

  /**
   * The instance metadata service hands the instance profile's role credentials to whatever runs
   * on the instance; EC2 issues them, not an AWS API call the attacker makes, so the session is
   * recorded in the world directly (as EC2 would), named after the instance as EC2 names it.
   */
  private stealInstanceCredentials(v: NonNullable<AttackerStepT['steal-instance-credentials']>): AttackOutcome {
    const what = `steal the role credentials of ${v.instance} from its metadata service`;
    const ch = this.channel(v.instance);
    if (!ch.ok) return { ok: false, text: `${what}: failed — ${ch.why}` };
    const world = this.sim.world;
    const assoc = world.ec2.iamInstanceProfileAssociations.find((a) => a.instanceId === v.instance);
    if (!assoc)
      return { ok: false, text: `${what}: failed — the instance has no instance profile, so the metadata service has no credentials` };
    const profileName = assoc.instanceProfileArn.split('/').pop()!;
    const roleName = world.iam.instanceProfiles.find((p) => p.name === profileName)?.roles[0];
    const role = roleName ? findRole(world, roleName) : undefined;
    if (!role) return { ok: false, text: `${what}: failed — instance profile ${profileName} holds no role` };
    const now = this.sim.clock.now();
    const { accessKeyId } = issueRoleSession(world, {
      roleArn: `arn:aws:iam::${world.account.id}:role${role.path}${role.name}`,
      issuedAt: now,
      // EC2 rotates instance credentials and keeps each valid for at least several hours.
      expiresAt: new Date(now.getTime() + 6 * 3_600_000),
      sessionName: v.instance,
    });
    this.credentials.set(v.as, {
      name: v.as,
      accessKeyId,
      secretAccessKey: FAKE_SECRET,
      sessionToken: `tabletop-session-${accessKeyId}`,
      origin: `instance profile ${profileName} of ${v.instance}`,
    });
    const revoked = role.inlinePolicies.AWSRevokeOlderSessions !== undefined;
    return {
      ok: true,
      text: `${what} over ${ch.via}: got a ${role.name} session ${accessKeyId} (kept as ${v.as})`,
      ...(revoked
        ? {
            lesson: `fresh credentials: revoking ${role.name}'s sessions does not stop instance profile ${profileName} from handing out new ones — replace or remove the instance profile`,
          }
        : {}),
    };
  }
}

function v6(value: bigint): string {
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((value >> BigInt(i * 16)) & 0xffffn).toString(16));
  return groups.join(':');
}
