/**
 * Plumbing every simulated service shares: world-file fragments (timestamps, tags), the error AWS
 * returns for a missing required member, and tags in AWS's Key/Value shape.
 */
import * as z from 'zod';
import type { SimContext } from './service.js';

export const Timestamp = z.iso.datetime({ offset: true });

/** The creation time of entities a world file declares without one. */
export const WORLD_EPOCH = '2025-01-01T00:00:00Z';

/** Tags as a world file writes them; AWS's limits: keys 1–128 characters, values up to 256. */
export const Tags = z.record(z.string().min(1).max(128), z.string().max(256)).default({}).describe('tag key → value');

/** Tags in the `[{ Key, Value }]` shape AWS APIs return. */
export const tagList = (tags: Record<string, string>): Array<{ Key: string; Value: string }> =>
  Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

/**
 * A member the API requires. The SDK does not check required members client-side, so the service
 * refuses the call: query-protocol services (IAM, Auto Scaling, ELBv2) with `ValidationError`
 * naming the member in camelCase, JSON-protocol ones (Support) with `ValidationException` naming it
 * as sent. An empty string or empty list counts as missing (the query protocol sends neither).
 */
export function required<T>(ctx: SimContext, input: Record<string, unknown>, field: string, protocol: 'query' | 'json' = 'query'): T {
  const v = input[field];
  if (v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)) {
    const member = protocol === 'query' ? field[0]!.toLowerCase() + field.slice(1) : field;
    ctx.fail(
      protocol === 'query' ? 'ValidationError' : 'ValidationException',
      `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
      400,
    );
  }
  return v as T;
}
