/** What the two snapshot-frequency actions share: the target tag, the policy lookup, the schedule shape. */
import type { DLMClient, LifecyclePolicy } from '@aws-sdk/client-dlm';
import type { EC2Client, Volume } from '@aws-sdk/client-ec2';
import { DLM, EC2 } from '../../cloud/sdk.js';

/** The volume tag a raised-frequency policy targets; its value is the incident. */
export const SCHEDULE_TAG = 'firebreak:snapshot-schedule';
/** On a policy Firebreak updated (rather than created): the schedule it had before, `<hours>h/<count>/<state>`. */
export const PREVIOUS_SCHEDULE_TAG = 'firebreak:previous-schedule';
export const SCHEDULE_NAME = 'firebreak-raised-frequency';

/** CreateRule intervals DLM accepts, in hours (DLM API Reference, CreateRule). */
export const DLM_INTERVAL_HOURS = [1, 2, 3, 4, 6, 8, 12, 24] as const;

export interface Schedule {
  intervalHours: number;
  retainCount: number;
  state: 'ENABLED' | 'DISABLED';
}

export const formatSchedule = (s: Schedule) => `${s.intervalHours}h/${s.retainCount}/${s.state}`;

export function parseSchedule(text: string | undefined): Schedule | undefined {
  const m = /^(\d+)h\/(\d+)\/(ENABLED|DISABLED)$/.exec(text ?? '');
  return m ? { intervalHours: Number(m[1]), retainCount: Number(m[2]), state: m[3] as Schedule['state'] } : undefined;
}

/** The schedule of a Firebreak policy as it stands (its one schedule), or undefined when it has another shape. */
export function scheduleOf(p: LifecyclePolicy): Schedule | undefined {
  const s = p.PolicyDetails?.Schedules?.[0];
  const interval = s?.CreateRule?.Interval;
  const count = s?.RetainRule?.Count;
  if (interval === undefined || count === undefined || (p.State !== 'ENABLED' && p.State !== 'DISABLED')) return undefined;
  return { intervalHours: interval, retainCount: count, state: p.State };
}

/** The lifecycle policy that targets `SCHEDULE_TAG=<incident>`, with its details, or undefined. */
export async function findSchedulePolicy(dlm: DLMClient, incident: string): Promise<LifecyclePolicy | undefined> {
  const list = await dlm.send(new DLM.GetLifecyclePoliciesCommand({ TargetTags: [`${SCHEDULE_TAG}=${incident}`] }));
  const summary = list.Policies?.[0];
  if (!summary?.PolicyId) return undefined;
  return (await dlm.send(new DLM.GetLifecyclePolicyCommand({ PolicyId: summary.PolicyId }))).Policy;
}

/** Volumes carrying the schedule tag of this incident (any instance). */
export async function scheduledVolumes(ec2: EC2Client, incident: string): Promise<Volume[]> {
  const out: Volume[] = [];
  const input = { Filters: [{ Name: `tag:${SCHEDULE_TAG}`, Values: [incident] }] };
  for await (const page of EC2.paginateDescribeVolumes({ client: ec2 }, input)) out.push(...(page.Volumes ?? []));
  return out;
}

/** DLM descriptions allow letters, digits, spaces, '_' and '-' only (at most 500). */
export const policyDescription = (incident: string) =>
  `Firebreak raised snapshot frequency for incident ${incident}`.replace(/[^0-9A-Za-z _-]/g, '-').slice(0, 500);
