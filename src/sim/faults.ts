/**
 * Faults injected into the simulated cloud: errors (throttling, AccessDenied, 5xx) and latency,
 * for one operation, one service or every call. They come from the world file's `faults` list
 * or are added at run time (tests, tabletop injects).
 */
import * as z from 'zod';

export const FaultSchema = z
  .strictObject({
    operation: z
      .string()
      .regex(/^(\*|[a-z0-9-]+:(\*|[A-Za-z0-9]+))$/, "an operation such as 'ec2:ModifyNetworkInterfaceAttribute', 'ec2:*' or '*'")
      .describe('service:Operation (service as in IAM actions, or the world key), service:* or *'),
    error: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9.]*$/, 'an AWS error code such as Throttling or AccessDenied')
      .optional()
      .describe("AWS error code; 'AccessDenied' and 'Throttling' become each service's own code"),
    message: z.string().optional(),
    status: z.number().int().min(400).max(599).optional().describe('HTTP status; defaults to the status AWS uses for the code'),
    times: z.number().int().positive().optional().describe('how many matching calls fail (default: all)'),
    after: z.number().int().nonnegative().default(0).describe('let this many matching calls through first'),
    latencyMs: z.number().int().nonnegative().optional().describe('real delay added to each faulted call'),
  })
  .refine((f) => f.error !== undefined || f.latencyMs !== undefined, { message: 'a fault needs an error, a latencyMs, or both' });

export type Fault = z.input<typeof FaultSchema>;

export interface FaultHandle {
  readonly id: number;
  /** How many calls this fault has hit so far. */
  readonly fired: number;
  remove(): void;
}

export interface FaultHit {
  error?: { code: string; status?: number; message?: string };
  latencyMs: number;
}

interface Armed {
  id: number;
  fault: z.output<typeof FaultSchema>;
  seen: number;
  fired: number;
}

export class FaultInjector {
  private armed: Armed[] = [];
  private nextId = 1;

  constructor(initial: readonly Fault[] = []) {
    for (const f of initial) this.add(f);
  }

  /** Add a fault; throws on a malformed one (so a typo cannot silently inject nothing). */
  add(fault: Fault): FaultHandle {
    const parsed = FaultSchema.safeParse(fault);
    if (!parsed.success) throw new Error(`failed to add fault ${JSON.stringify(fault)}: ${parsed.error.issues[0]?.message}`);
    const a: Armed = { id: this.nextId++, fault: parsed.data, seen: 0, fired: 0 };
    this.armed.push(a);
    const list = this.armed;
    return {
      id: a.id,
      get fired() {
        return a.fired;
      },
      remove: () => {
        const i = list.indexOf(a);
        if (i >= 0) list.splice(i, 1);
      },
    };
  }

  clear(): void {
    this.armed.length = 0;
  }

  list(): Array<Fault & { id: number; fired: number }> {
    return this.armed.map((a) => ({ ...a.fault, id: a.id, fired: a.fired }));
  }

  /**
   * Whether this call is faulted. `prefixes` are the names the service answers to
   * (its IAM prefix and its world key), compared case-insensitively.
   */
  check(prefixes: readonly string[], operation: string): FaultHit {
    const hit: FaultHit = { latencyMs: 0 };
    const names = prefixes.map((p) => p.toLowerCase());
    for (const a of this.armed) {
      if (!matches(a.fault.operation, names, operation)) continue;
      a.seen++;
      if (a.seen <= a.fault.after) continue;
      if (a.fault.times !== undefined && a.fired >= a.fault.times) continue;
      a.fired++;
      hit.latencyMs += a.fault.latencyMs ?? 0;
      if (a.fault.error && !hit.error) {
        hit.error = { code: a.fault.error };
        if (a.fault.status !== undefined) hit.error.status = a.fault.status;
        if (a.fault.message !== undefined) hit.error.message = a.fault.message;
      }
    }
    return hit;
  }
}

function matches(pattern: string, prefixes: string[], operation: string): boolean {
  if (pattern === '*') return true;
  const [svc, op] = pattern.split(':') as [string, string];
  return prefixes.includes(svc.toLowerCase()) && (op === '*' || op === operation);
}
