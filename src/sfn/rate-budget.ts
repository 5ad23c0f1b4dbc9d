/**
 * How many map items may run at once without outrunning a service's API request limits.
 *
 * The figures are conservative sustained rates (requests per second, per account and Region) that
 * Firebreak allows itself, well under the documented limits, because other tools of the account share
 * the same buckets: EC2 refills its mutating-action bucket at 5 per second
 * (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html), IAM and STS are global and
 * shared by the whole organization's automation, DLM and Support allow a few calls per second. A map item
 * makes roughly one such call per second of its life, so the budget is also the number of items in flight.
 */
export const RATE_BUDGET: Readonly<Record<string, number>> = {
  autoscaling: 2,
  dlm: 1,
  ec2: 5,
  elasticloadbalancing: 5,
  iam: 2,
  sts: 10,
  support: 1,
};

/** Used for a service the table does not name: the smallest budget, so an unknown service is never flooded. */
export const DEFAULT_BUDGET = 1;

/** The services an action's declared permissions call (`ec2:DescribeInstances` → `ec2`), sorted. */
export function servicesOf(permissions: readonly string[]): string[] {
  return [...new Set(permissions.map((p) => p.slice(0, p.indexOf(':'))))].sort();
}

/**
 * A map step's MaxConcurrency: its own `concurrency`, lowered to the smallest budget of the services
 * its action calls (STS is left out: every run asks it once, not once per item).
 */
export function maxConcurrency(concurrency: number, permissions: readonly string[]): number {
  const budgets = servicesOf(permissions)
    .filter((s) => s !== 'sts')
    .map((s) => RATE_BUDGET[s] ?? DEFAULT_BUDGET);
  return Math.max(1, Math.min(concurrency, ...budgets));
}
