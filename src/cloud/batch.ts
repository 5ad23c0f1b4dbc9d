/**
 * Reads batched across the targets of a fleet step. EC2's request-rate limits, not latency, set how
 * fast a fleet is contained, so the reads that many targets' plans make at the same moment
 * (DataLoader-style: the keys asked for within a few milliseconds, BATCH_WINDOW) go out as one
 * paginated call with the ids as filter values, and each caller gets its own part of the answer.
 *
 * Nothing is cached beyond that batch: a plan must read current state before it writes, so a
 * read may be batched with other targets' reads but never answered from an earlier one.
 * The batched call runs in the async context of the last caller of its batch, so the journal
 * records it under that caller's step (all callers of a batch share the step in a map step).
 */
import type { EC2Client, Instance, NetworkInterface, SecurityGroup, Tag } from '@aws-sdk/client-ec2';
import pLimit from 'p-limit';
import { EC2 } from './sdk.js';

/** Values per filter in one request: EC2 documents no higher limit across its Describe calls. */
const FILTER_VALUES = 200;

type Waiter<V> = { resolve: (v: V) => void; reject: (e: unknown) => void };

/**
 * How long a batch stays open. Answers reach a fleet step one by one (each change is made durable
 * before AWS, or the simulated cloud, answers), so the verify reads and tags of targets whose
 * applies end a few milliseconds apart would miss each other in a single turn of the event loop.
 * A batch therefore stays open while keys keep arriving — until `IDLE_MS` pass without one, and
 * never longer than `MAX_MS` after its first key. This only delays a read: it is sent after
 * every caller has asked, so each caller still gets state at least as fresh as its request.
 * Against AWS's tens of milliseconds per call, the few added here are small; they buy one call
 * per wave of targets instead of one per answer.
 */
export const BATCH_WINDOW = { IDLE_MS: 5, MAX_MS: 50 };

/** Collects keys while they keep arriving (BATCH_WINDOW), then loads them in chunks of `chunk`. */
class Coalescer<K, V> {
  private queue = new Map<K, Array<Waiter<V>>>();
  private opened = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly load: (keys: K[]) => Promise<(key: K) => V>,
    private readonly chunk: number,
  ) {}

  get(key: K): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      if (this.queue.size === 0) this.opened = Date.now();
      const waiting = this.queue.get(key);
      if (waiting) waiting.push({ resolve, reject });
      else this.queue.set(key, [{ resolve, reject }]);
      clearTimeout(this.timer);
      if (this.queue.size >= this.chunk) this.timer = setTimeout(() => this.flush(), 0);
      else {
        const wait = Math.min(BATCH_WINDOW.IDLE_MS, Math.max(0, this.opened + BATCH_WINDOW.MAX_MS - Date.now()));
        this.timer = setTimeout(() => this.flush(), wait);
      }
    });
  }

  private flush(): void {
    this.timer = undefined;
    const batch = this.queue;
    this.queue = new Map();
    const keys = [...batch.keys()];
    for (let i = 0; i < keys.length; i += this.chunk) {
      const part = keys.slice(i, i + this.chunk);
      this.load(part).then(
        (answer) => {
          for (const k of part) for (const w of batch.get(k)!) w.resolve(answer(k));
        },
        (err: unknown) => {
          for (const k of part) for (const w of batch.get(k)!) w.reject(err);
        },
      );
    }
  }
}

// biome-ignore lint/suspicious/noExplicitAny: coalescers of different key and value types share one map; each is typed again where `coalesced` hands it out
const shared = new WeakMap<object, Map<string, Coalescer<any, any>>>();

/**
 * The coalescer named `name` of `owner` (a client: one per run): `get(key)` calls made in one batch window
 * go to `load` together, in chunks of `chunk` keys (the API's limit for one request).
 */
export function coalesced<K, V>(
  owner: object,
  name: string,
  chunk: number,
  load: (keys: K[]) => Promise<(key: K) => V>,
): (key: K) => Promise<V> {
  let m = shared.get(owner);
  if (!m) {
    m = new Map();
    shared.set(owner, m);
  }
  let c = m.get(name) as Coalescer<K, V> | undefined;
  if (!c) {
    c = new Coalescer(load, chunk);
    m.set(name, c);
  }
  return (key) => c.get(key);
}

export interface Ec2Reads {
  /** The instance, or undefined when EC2 does not list it (filters, unlike InstanceIds, do not fail a batch on one unknown id). */
  instance(instanceId: string): Promise<Instance | undefined>;
  /** The network interfaces attached to the instance (with their tags, which DescribeInstances omits). */
  interfacesOf(instanceId: string): Promise<NetworkInterface[]>;
  /** Security groups with this name, in every VPC. */
  groupsNamed(name: string): Promise<SecurityGroup[]>;
  /** The security group, or undefined when it does not exist. */
  group(groupId: string): Promise<SecurityGroup | undefined>;
  /**
   * Adds tags to a resource; resources getting the same tags in one batch window share one CreateTags
   * (up to 1,000 ids). With `stamp`, the tag `stamp.key` gets the time the call is sent (from
   * `stamp.now`, the run's clock), so a timestamp tag does not split the batch into one call per
   * millisecond; it is at most BATCH_WINDOW.MAX_MS later than each caller's own time.
   */
  tag(resourceId: string, tags: Tag[], stamp?: TagStamp): Promise<void>;
}

const byClient = new WeakMap<EC2Client, Ec2Reads>();

/** The batcher of this client (one per run: each run creates its clients). */
export function ec2Reads(ec2: EC2Client): Ec2Reads {
  let reads = byClient.get(ec2);
  if (!reads) {
    reads = makeReads(ec2);
    byClient.set(ec2, reads);
  }
  return reads;
}

export function grouped<T>(items: T[], keyOf: (t: T) => string | undefined): (key: string) => T[] {
  const m = new Map<string, T[]>();
  for (const t of items) {
    const k = keyOf(t);
    if (k !== undefined) (m.get(k) ?? m.set(k, []).get(k)!).push(t);
  }
  return (key) => m.get(key) ?? [];
}

function makeReads(ec2: EC2Client): Ec2Reads {
  const instances = new Coalescer<string, Instance | undefined>(async (ids) => {
    const found: Instance[] = [];
    for await (const page of EC2.paginateDescribeInstances(
      { client: ec2 },
      { Filters: [{ Name: 'instance-id', Values: ids }], MaxResults: 1000 },
    ))
      found.push(...(page.Reservations ?? []).flatMap((r) => r.Instances ?? []));
    const of = grouped(found, (i) => i.InstanceId);
    return (id) => of(id)[0];
  }, FILTER_VALUES);

  const interfaces = new Coalescer<string, NetworkInterface[]>(async (ids) => {
    const found: NetworkInterface[] = [];
    const input = { Filters: [{ Name: 'attachment.instance-id', Values: ids }], MaxResults: 1000 };
    for await (const page of EC2.paginateDescribeNetworkInterfaces({ client: ec2 }, input)) found.push(...(page.NetworkInterfaces ?? []));
    return grouped(found, (n) => n.Attachment?.InstanceId);
  }, FILTER_VALUES);

  const groupsByName = new Coalescer<string, SecurityGroup[]>(async (names) => {
    const found: SecurityGroup[] = [];
    const input = { Filters: [{ Name: 'group-name', Values: names }], MaxResults: 1000 };
    for await (const page of EC2.paginateDescribeSecurityGroups({ client: ec2 }, input)) found.push(...(page.SecurityGroups ?? []));
    return grouped(found, (g) => g.GroupName);
  }, FILTER_VALUES);

  const groupsById = new Coalescer<string, SecurityGroup | undefined>(async (ids) => {
    const found: SecurityGroup[] = [];
    const input = { Filters: [{ Name: 'group-id', Values: ids }], MaxResults: 1000 };
    for await (const page of EC2.paginateDescribeSecurityGroups({ client: ec2 }, input)) found.push(...(page.SecurityGroups ?? []));
    const of = grouped(found, (g) => g.GroupId);
    return (id) => of(id)[0];
  }, FILTER_VALUES);

  // Keyed by resource and tag set; one CreateTags per tag set. CreateTags fails whole when one
  // resource is gone: every caller of that call then sees the error (and its step's retry re-plans).
  const tagWriters = new Map<string, Coalescer<string, void>>();
  const tag = (resourceId: string, tags: Tag[], stamp?: TagStamp) => {
    const key = JSON.stringify([...tags.map((t) => [t.Key, t.Value]), stamp?.key ?? null]);
    let w = tagWriters.get(key);
    if (!w) {
      w = new Coalescer<string, void>(async (resources) => {
        const all = stamp ? [...tags, { Key: stamp.key, Value: stamp.now().toISOString() }] : tags;
        await ec2.send(new EC2.CreateTagsCommand({ Resources: resources, Tags: all }));
        return () => undefined;
      }, 1000);
      tagWriters.set(key, w);
    }
    return w.get(resourceId);
  };

  return {
    instance: (id) => instances.get(id),
    interfacesOf: (id) => interfaces.get(id),
    groupsNamed: (name) => groupsByName.get(name),
    group: (id) => groupsById.get(id),
    tag,
  };
}

/** A tag whose value is the time the call is sent (the run's clock): one value for every resource of the call. */
export type TagStamp = { key: string; now: () => Date };

/**
 * The tags the targets of one map step need, written for the whole step: one CreateTags per tag
 * set per 1,000 resources (the API's limit), however the applies interleave. Each target's plan says
 * what it needs (`need`); the first apply that asks (`written`) after every target of the step is
 * planned sends them all, and the others' applies wait for the call that holds their resources.
 *
 * Why from the plans rather than when applies ask: applies run `concurrency` at a time, so the
 * step's last targets start only after its first ones have finished; a write that waited for every
 * apply to ask would either deadlock or leave the first targets finished before their tags. Plans
 * are read-only and, in a step that gets a scope, never wait for an apply's slot (see map-step),
 * so the write goes out moments after the first swaps, beside them, never delaying them; and each
 * target still finishes (and is journaled done) only after its own tags are on.
 */
export interface StepTags {
  /** From a plan: `resourceId` needs `tags`. A plan made again (a retry) replaces what it asked before. */
  need(resourceId: string, tags: Tag[], stamp?: TagStamp): void;
  /** From an apply: resolves once the call holding each resource succeeded (rejects with its error). */
  written(resourceIds: string[]): Promise<void>;
}

type Need = { tags: Tag[]; stamp: TagStamp | undefined };

class StepTagWriter implements StepTags {
  private pending = new Map<string, Need>();
  private sent = new Map<string, Promise<void>>();
  private flight: Promise<void> | undefined;

  constructor(
    private readonly ec2: EC2Client,
    private readonly planned: Promise<void>,
  ) {}

  need(resourceId: string, tags: Tag[], stamp?: TagStamp): void {
    this.pending.set(resourceId, { tags, stamp });
    this.sent.delete(resourceId);
  }

  async written(resourceIds: string[]): Promise<void> {
    if (resourceIds.some((id) => !this.sent.has(id))) {
      this.flight ??= this.planned.then(() => {
        this.flight = undefined;
        this.send();
      });
      await this.flight;
    }
    await Promise.all(
      resourceIds.map(
        (id) => this.sent.get(id) ?? Promise.reject(new Error(`failed to tag ${id}: no plan of this step asked for its tags`)),
      ),
    );
  }

  /** Every tag asked for and not yet sent, grouped by tag set, in calls of up to 1,000 resources. */
  private send(): void {
    const sets = new Map<string, { need: Need; ids: string[] }>();
    for (const [id, need] of this.pending) {
      const key = JSON.stringify([need.tags.map((t) => [t.Key, t.Value]), need.stamp?.key ?? null]);
      (sets.get(key) ?? sets.set(key, { need, ids: [] }).get(key)!).ids.push(id);
    }
    this.pending.clear();
    for (const { need, ids } of sets.values()) {
      for (let i = 0; i < ids.length; i += 1000) {
        const part = ids.slice(i, i + 1000);
        const Tags = need.stamp ? [...need.tags, { Key: need.stamp.key, Value: need.stamp.now().toISOString() }] : need.tags;
        const call = this.ec2.send(new EC2.CreateTagsCommand({ Resources: part, Tags })).then(() => undefined);
        // CreateTags fails whole when one resource is gone: every target of the call sees the error
        // (its step's retry re-plans and asks again). Handled here too, for resources no apply awaits.
        call.catch(() => undefined);
        for (const id of part) this.sent.set(id, call);
      }
    }
  }
}

const stepWriters = new WeakMap<object, WeakMap<EC2Client, StepTagWriter>>();

/** The tag writer of this map step's run (`scope`) for this client (one per account and Region). */
export function stepTags(ec2: EC2Client, scope: { planned: Promise<void> }): StepTags {
  let byClient = stepWriters.get(scope);
  if (!byClient) {
    byClient = new WeakMap();
    stepWriters.set(scope, byClient);
  }
  let w = byClient.get(ec2);
  if (!w) {
    w = new StepTagWriter(ec2, scope.planned);
    byClient.set(ec2, w);
  }
  return w;
}

const pacers = new WeakMap<object, Map<string, ReturnType<typeof pLimit>>>();

/**
 * At most `inFlight` calls named `name` of `owner` (a client) at once, first come first served: for
 * reads AWS has no batched form of, when a step plans all its targets together. The first targets'
 * plans then finish first, and the calls meet EC2's request-rate limit a few at a time, as the
 * step's applies do, rather than hundreds at once (each throttled answer costs one of the SDK's attempts).
 */
export function paced(owner: object, name: string, inFlight: number): <T>(call: () => Promise<T>) => Promise<T> {
  let m = pacers.get(owner);
  if (!m) {
    m = new Map();
    pacers.set(owner, m);
  }
  let limit = m.get(name);
  if (!limit) {
    limit = pLimit(inFlight);
    m.set(name, limit);
  }
  const l = limit;
  return (call) => l(call);
}

/**
 * One flight per key: concurrent callers share the first caller's promise. With `remember`, later
 * callers of the same run get its result too (a group this run created exists for its later
 * targets, whose plans may predate it); without, the key is free again once the flight lands.
 */
const flights = new WeakMap<object, Map<string, Promise<unknown>>>();

export function once<T>(owner: object, key: string, o: { remember: boolean }, work: () => Promise<T>): Promise<T> {
  let m = flights.get(owner);
  if (!m) {
    m = new Map();
    flights.set(owner, m);
  }
  let p = m.get(key) as Promise<T> | undefined;
  if (!p) {
    const flight = work();
    m.set(key, flight);
    // A failed flight is never remembered: the next caller (a retry) tries again.
    flight.then(
      () => {
        if (!o.remember) m.delete(key);
      },
      () => m.delete(key),
    );
    p = flight;
  }
  return p;
}
