/**
 * EC2-style request rate limiting: token buckets, one for mutating calls and one for
 * non-mutating (Describe*) calls, refilled continuously in real time. For benchmarks: a bucket
 * that runs dry answers RequestLimitExceeded (HTTP 503), which the SDK's retry strategy backs
 * off from, exactly as against EC2's own throttling.
 * EC2 throttles each account in each Region on its own, so every account×Region has its own pair
 * of buckets. EC2's documented defaults per account and Region are, for example, 200 tokens refilled at
 * 5/s for mutating actions and 100 tokens refilled at 20/s for non-mutating ones
 * (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html).
 */
import * as z from 'zod';

const Bucket = z.strictObject({
  capacity: z.number().int().positive(),
  refillPerSecond: z.number().nonnegative(),
});

export const RateLimitsSchema = z.strictObject({
  mutating: Bucket.optional(),
  describe: Bucket.optional(),
});

export type RateLimits = z.infer<typeof RateLimitsSchema>;

export class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(
    private readonly capacity: number,
    private readonly refillPerSecond: number,
    private readonly now: () => number,
  ) {
    this.tokens = capacity;
    this.last = now();
  }
  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((t - this.last) / 1000) * this.refillPerSecond);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

interface Buckets {
  mutating?: TokenBucket;
  describe?: TokenBucket;
}

export class RateLimiter {
  private readonly budgets = new Map<string, Buckets>();
  /** `now` is wall time in ms (performance.now by default); injectable for tests. */
  constructor(
    private readonly limits: RateLimits,
    private readonly now: () => number = () => performance.now(),
  ) {}
  /** False when the call's bucket is empty. `budget` names whose budget it is: `<account>/<region>`. */
  allow(budget: string, operation: string): boolean {
    let buckets = this.budgets.get(budget);
    if (!buckets) {
      const { mutating, describe } = this.limits;
      buckets = {
        ...(mutating ? { mutating: new TokenBucket(mutating.capacity, mutating.refillPerSecond, this.now) } : {}),
        ...(describe ? { describe: new TokenBucket(describe.capacity, describe.refillPerSecond, this.now) } : {}),
      };
      this.budgets.set(budget, buckets);
    }
    const bucket = isNonMutating(operation) ? buckets.describe : buckets.mutating;
    return bucket ? bucket.take() : true;
  }
}

export function isNonMutating(operation: string): boolean {
  return /^(Describe|Get|List)/.test(operation);
}
