/**
 * The SDK's retries, waiting on a run's own clock.
 *
 * Against AWS, clients use the SDK's adaptive retry mode unchanged (clients.ts). A run on a
 * simulated clock (a tabletop exercise, a test's SimClock) cannot: the SDK sleeps its backoff with
 * `setTimeout` and its adaptive rate limiter measures `Date.now()`, so a throttled call would
 * wait in real time while the simulated clock moves on without it — and where the retry lands in
 * simulated time would depend on how fast the machine is. A tabletop timeline must be the same
 * on every machine for the same seed.
 *
 * So on such a clock the clients get the SDK's own StandardRetryStrategy (which errors are
 * retryable, the attempt limit, the retry quota: all the SDK's) with its backoff taken out of
 * real time: the strategy is given a zero backoff, and the wait the SDK would have made —
 * its formula: full jitter over min(base × 2^retries, MAXIMUM_RETRY_DELAY), base
 * `Retry.throttlingDelay()` for throttling and `Retry.delay()` otherwise, stretched to a server's
 * retry-after hint within 5 s — is slept on the run's clock instead, with the clock owner's
 * source of chance for the jitter. The client-side rate limiter of adaptive mode is left out:
 * its token bucket refills in real time, which a simulated clock has no use for.
 */
import type { RetryErrorInfo, RetryStrategyV2, RetryToken, StandardRetryToken } from '@smithy/types';
import type { Clock } from '../core/clock.js';
import { SmithyRetry } from './sdk.js';

export interface ClockedRetryOptions {
  clock: Clock;
  maxAttempts: number;
  /** A float in [0, 1) for the backoff's jitter (a tabletop's seeded generator). */
  random?: () => number;
}

/** A backoff that never waits: the clocked strategy does the waiting. */
const NO_WAIT = { computeNextBackoffDelay: () => 0, setDelayBase: () => undefined };

export function clockedRetryStrategy(o: ClockedRetryOptions): RetryStrategyV2 {
  const standard = new SmithyRetry.StandardRetryStrategy({ maxAttempts: o.maxAttempts, backoff: NO_WAIT });
  const random = o.random ?? Math.random;
  return {
    acquireInitialRetryToken: (scope: string) => standard.acquireInitialRetryToken(scope),
    async refreshRetryTokenForRetry(token: RetryToken, errorInfo: RetryErrorInfo): Promise<RetryToken> {
      // Throws when the SDK would not retry (not retryable, attempts or quota spent).
      const next = await standard.refreshRetryTokenForRetry(token as StandardRetryToken, errorInfo);
      const base = errorInfo.errorType === 'THROTTLING' ? SmithyRetry.Retry.throttlingDelay() : SmithyRetry.Retry.delay();
      let delay = Math.floor(random() * Math.min(base * 2 ** token.getRetryCount(), SmithyRetry.MAXIMUM_RETRY_DELAY));
      if (errorInfo.retryAfterHint instanceof Date) {
        delay = Math.max(delay, Math.min(errorInfo.retryAfterHint.getTime() - o.clock.now().getTime(), delay + 5_000));
      }
      await o.clock.sleep(delay);
      return next;
    },
    recordSuccess: (token: RetryToken) => standard.recordSuccess(token as StandardRetryToken),
  };
}
