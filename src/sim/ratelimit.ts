/**
 * EC2-style request rate limiting: token buckets, one for mutating calls and one for
 * non-mutating (Describe*) calls, refilled continuously in real time. For benchmarks: a bucket
 * that runs dry answers RequestLimitExceeded (HTTP 503), which the SDK's retry strategy backs
 * off from, exactly as against EC2's own throttling.
 * EC2's documented defaults per account and Region are, for example, 200 tokens refilled at
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

export class RateLimiter {
  private readonly mutating?: TokenBucket;
  private readonly describe?: TokenBucket;
  /** `now` is wall time in ms (performance.now by default); injectable for tests. */
  constructor(limits: RateLimits, now: () => number = () => performance.now()) {
    if (limits.mutating) this.mutating = new TokenBucket(limits.mutating.capacity, limits.mutating.refillPerSecond, now);
    if (limits.describe) this.describe = new TokenBucket(limits.describe.capacity, limits.describe.refillPerSecond, now);
  }
  /** False when the call's bucket is empty. */
  allow(operation: string): boolean {
    const bucket = isNonMutating(operation) ? this.describe : this.mutating;
    return bucket ? bucket.take() : true;
  }
}

export function isNonMutating(operation: string): boolean {
  return /^(Describe|Get|List)/.test(operation);
}
