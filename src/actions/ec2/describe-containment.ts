import * as z from 'zod';
import { defineAction } from '../define.js';
import { instanceTargetGroups, parseTargets, recordedService } from '../shared/service-state.js';
import { findSchedulePolicy, scheduledVolumes, parseSchedule, PREVIOUS_SCHEDULE_TAG } from '../shared/snapshot-schedule.js';
import { InstanceId, tagValue, TAG } from '../shared/ec2.js';
import { parsePreservedFrom, readEvidenceAttributes } from '../shared/instance-attributes.js';
import { EC2 } from '../../cloud/sdk.js';

const Input = z.strictObject({
  instanceId: InstanceId,
  /** The incident of the containment run (its run id unless --incident was given). */
  incident: z.string().min(1).max(256),
});
type Input = z.infer<typeof Input>;

/** Inputs for the four release actions, read from what containment recorded on the resources. */
export interface ContainmentRecord {
  instanceId: string;
  isolated: boolean;
  /** Input of ec2.restore-security-groups. */
  interfaces: Array<{ networkInterfaceId: string; groups: string[] }>;
  preserved: boolean;
  /** Input of ec2.restore-instance-attributes (without instanceId). */
  attributes?: {
    disableApiTermination: boolean;
    instanceInitiatedShutdownBehavior: 'stop' | 'terminate';
    volumes: Array<{ deviceName: string; volumeId: string; deleteOnTermination: boolean }>;
  };
  removedFromService: boolean;
  /** Input of ec2.return-to-service (without instanceId). */
  service: {
    autoScalingGroup?: string;
    mode?: 'standby' | 'detach';
    previousMinSize?: number;
    targetGroups: Array<{ targetGroupArn: string; port: number }>;
  };
  scheduled: boolean;
  /** Input of ec2.lower-snapshot-frequency. */
  schedule: {
    incident: string;
    policyId?: string;
    volumeIds: string[];
    deletePolicy: boolean;
    restoreSchedule?: { intervalHours: number; retainCount: number; state: 'ENABLED' | 'DISABLED' };
  };
}

export default defineAction<Input, ContainmentRecord, ContainmentRecord>({
  id: 'ec2.describe-containment',
  summary: "Read what containment changed on an instance from Firebreak's own tags (read-only): the inputs to release it",
  description: [
    'Containment records what it changed on the resources themselves, before changing them: the original security groups on',
    'each interface (`firebreak:original-groups`), the attributes before preservation (`firebreak:preserved-from`), the Auto',
    'Scaling group, minimum size and target groups (`firebreak:asg*`, `firebreak:target-groups`), and the schedule tag on the',
    'volumes (`firebreak:snapshot-schedule=<incident>`). This lookup turns those records into the inputs of the release',
    "actions, so an instance can be released from its id and incident alone — on another machine, long after the run's",
    'journal is gone. (`firebreak undo <run>` does the same from the journal.)',
  ].join('\n'),
  controls: ['CC8', 'CC18'],
  input: Input,
  mutating: false,
  permissions: [
    'ec2:DescribeInstances',
    'ec2:DescribeInstanceAttribute',
    'ec2:DescribeNetworkInterfaces',
    'ec2:DescribeVolumes',
    'elasticloadbalancing:DescribeTargetGroups',
    'dlm:GetLifecyclePolicies',
    'dlm:GetLifecyclePolicy',
  ],

  async plan(ctx, input) {
    const [{ instance, attrs }, enis, policy, volumes] = await Promise.all([
      readEvidenceAttributes(ctx.aws.ec2, input.instanceId),
      ctx.aws.ec2.send(
        new EC2.DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [input.instanceId] }] }),
      ),
      findSchedulePolicy(ctx.aws.dlm, input.incident),
      scheduledVolumes(ctx.aws.ec2, input.incident),
    ]);
    const interfaces = (enis.NetworkInterfaces ?? [])
      .map((n) => ({
        networkInterfaceId: n.NetworkInterfaceId!,
        groups: (tagValue(n.TagSet, TAG.originalGroups) ?? '').split(',').filter(Boolean),
      }))
      .filter((i) => i.groups.length > 0);
    const preserved = parsePreservedFrom(instance, attrs);
    const rec = recordedService(instance);
    const targetGroups = rec.targetGroups ? parseTargets(rec.targetGroups, await instanceTargetGroups(ctx.aws.elbv2, instance.VpcId)) : [];
    const instanceVolumes = new Set(attrs.volumes.map((v) => v.volumeId));
    const mine = volumes.filter((v) => instanceVolumes.has(v.VolumeId!)).map((v) => v.VolumeId!);
    const others = volumes.length - mine.length;
    const previous = parseSchedule(policy?.Tags?.[PREVIOUS_SCHEDULE_TAG]);
    const record: ContainmentRecord = {
      instanceId: input.instanceId,
      isolated: interfaces.length > 0,
      interfaces,
      preserved: preserved !== undefined,
      ...(preserved
        ? {
            attributes: {
              disableApiTermination: preserved.disableApiTermination,
              instanceInitiatedShutdownBehavior: preserved.shutdownBehavior,
              volumes: preserved.volumes,
            },
          }
        : {}),
      removedFromService: rec.group !== undefined || targetGroups.length > 0,
      service: {
        ...(rec.group ? { autoScalingGroup: rec.group, mode: rec.mode ?? 'detach' } : {}),
        ...(rec.previousMinSize !== undefined ? { previousMinSize: Number(rec.previousMinSize) } : {}),
        targetGroups,
      },
      scheduled: mine.length > 0 || (policy !== undefined && others === 0),
      schedule: {
        incident: input.incident,
        ...(policy?.PolicyId ? { policyId: policy.PolicyId } : {}),
        volumeIds: mine,
        // A policy that existed before the incident carries its earlier schedule: restore, never delete it.
        deletePolicy: previous === undefined,
        ...(previous ? { restoreSchedule: previous } : {}),
      },
    };
    const notes = [
      record.isolated ? `isolated: ${interfaces.length} interface(s) with recorded groups` : 'no isolation recorded',
      record.preserved ? 'preservation recorded' : 'no preservation recorded',
      record.removedFromService
        ? `out of service: ${rec.group ?? 'no group'}, ${targetGroups.length} target group registration(s)`
        : 'no Auto Scaling or target group change recorded',
      mine.length
        ? `${mine.length} volume(s) on the raised snapshot schedule of ${input.incident}`
        : `no volume on the snapshot schedule of ${input.incident}`,
    ];
    if (others > 0) notes.push(`${others} volume(s) of other instances are on the same schedule: the policy stays until they are released`);
    return { changes: [], alreadyDone: true, notes, facts: record };
  },

  async apply(_ctx, _input, plan) {
    return plan.facts;
  },

  async verify() {
    return [];
  },
});
