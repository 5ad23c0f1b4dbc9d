/**
 * Preloaded into fleet runs. Records which retry strategy the EC2 client really used (read from
 * the client's own resolved config at its first call), and with FIREBREAK_BENCH_RETRY_MODE set
 * swaps it for the strategy the SDK builds for that mode, so standard and adaptive retries can be
 * compared on the same build. The replacement comes from a client the SDK configures itself, so
 * it is exactly what `retryMode: '<mode>'` produces.
 */
import { writeFileSync } from 'node:fs';
import { EC2Client } from '@aws-sdk/client-ec2';

const out = process.env.FIREBREAK_BENCH_RETRY_PROBE;
const want = process.env.FIREBREAK_BENCH_RETRY_MODE as 'standard' | 'adaptive' | undefined;
const seen: Array<{ configured: string; used: string; maxAttempts: number }> = [];

type Cfg = { retryStrategy: () => Promise<{ mode?: string }>; maxAttempts: () => Promise<number> };
const patched = new WeakSet<object>();
const send = EC2Client.prototype.send;
EC2Client.prototype.send = async function (this: EC2Client, ...args: unknown[]) {
  if (!patched.has(this)) {
    patched.add(this);
    const client = this as unknown as { config: Cfg };
    const configured = (await client.config.retryStrategy()).mode ?? 'unknown';
    if (want && want !== configured) {
      const donor = new EC2Client({ region: 'us-east-1', retryMode: want, maxAttempts: await client.config.maxAttempts() }) as unknown as {
        config: Cfg;
      };
      client.config.retryStrategy = donor.config.retryStrategy;
    }
    seen.push({
      configured,
      used: (await client.config.retryStrategy()).mode ?? 'unknown',
      maxAttempts: await client.config.maxAttempts(),
    });
  }
  return (send as (...a: unknown[]) => Promise<unknown>).apply(this, args);
} as typeof send;

if (out) process.on('exit', () => writeFileSync(out, JSON.stringify(seen)));
