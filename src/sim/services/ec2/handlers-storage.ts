/** Simulated EC2: EBS volumes and snapshots. */
import type { SimHandler } from '../../service.js';
import type { SnapshotT, VolumeT } from './schema.js';
import {
  applyFilters,
  date,
  dryRun,
  ec2Of,
  find,
  findAll,
  invalidValue,
  paginate,
  tagsFromSpecs,
  type Ctx,
  type Filter,
  type Tags,
} from './common.js';
import { tagList } from '../../kit.js';

/** Which instance a volume is attached to, and how. */
function attachmentOf(ctx: Ctx, volumeId: string) {
  for (const inst of ec2Of(ctx).instances) {
    if (inst.state === 'terminated') continue;
    const dev = inst.blockDevices.find((b) => b.volumeId === volumeId);
    if (dev) return { inst, dev };
  }
  return undefined;
}

function volumeShape(ctx: Ctx, v: VolumeT) {
  const a = attachmentOf(ctx, v.id);
  return {
    VolumeId: v.id,
    Size: v.size,
    VolumeType: v.volumeType,
    State: a ? 'in-use' : 'available',
    AvailabilityZone: v.availabilityZone ?? `${ctx.region}a`,
    CreateTime: date(v.createTime),
    Encrypted: v.encrypted,
    ...(v.kmsKeyId ? { KmsKeyId: v.kmsKeyId } : {}),
    SnapshotId: v.snapshotId ?? '',
    ...(v.iops ? { Iops: v.iops } : {}),
    MultiAttachEnabled: false,
    Attachments: a
      ? [
          {
            VolumeId: v.id,
            InstanceId: a.inst.id,
            Device: a.dev.deviceName,
            State: 'attached',
            AttachTime: date(a.dev.attachTime ?? a.inst.launchTime),
            DeleteOnTermination: a.dev.deleteOnTermination,
          },
        ]
      : [],
    Tags: tagList(v.tags),
  };
}

const describeVolumes: SimHandler = (
  ctx: Ctx,
  input: { VolumeIds?: string[]; Filters?: Filter[]; MaxResults?: number; NextToken?: string },
) => {
  const w = ec2Of(ctx);
  let list = input.VolumeIds?.length ? findAll(ctx, 'volume', w.volumes, input.VolumeIds) : [...w.volumes];
  list = applyFilters(
    ctx,
    list,
    input.Filters,
    {
      'volume-id': (v) => v.id,
      'attachment.instance-id': (v) => attachmentOf(ctx, v.id)?.inst.id,
      'attachment.device': (v) => attachmentOf(ctx, v.id)?.dev.deviceName,
      'attachment.delete-on-termination': (v) => attachmentOf(ctx, v.id)?.dev.deleteOnTermination,
      'attachment.status': (v) => (attachmentOf(ctx, v.id) ? 'attached' : undefined),
      status: (v) => (attachmentOf(ctx, v.id) ? 'in-use' : 'available'),
      size: (v) => v.size,
      'volume-type': (v) => v.volumeType,
      'availability-zone': (v) => v.availabilityZone ?? `${ctx.region}a`,
      encrypted: (v) => v.encrypted,
      'snapshot-id': (v) => v.snapshotId,
    },
    (v) => v.tags,
  );
  const { page, NextToken } = paginate(ctx, list, input);
  return { Volumes: page.map((v) => volumeShape(ctx, v)), ...(NextToken ? { NextToken } : {}) };
};

/**
 * A new snapshot is `pending` until the simulated clock passes `completesAt`; the state is
 * settled lazily before every EC2 call. Returns true when something completed.
 */
export function settleSnapshots(ctx: Ctx): boolean {
  const now = ctx.clock.now().getTime();
  let changed = false;
  for (const s of ec2Of(ctx).snapshots) {
    if (s.state === 'pending' && s.completesAt !== undefined && Date.parse(s.completesAt) <= now) {
      s.state = 'completed';
      changed = true;
    }
  }
  return changed;
}

function progressOf(ctx: Ctx, s: SnapshotT): string {
  if (s.state !== 'pending') return s.state === 'completed' ? '100%' : '0%';
  const start = Date.parse(s.startTime);
  const end = s.completesAt ? Date.parse(s.completesAt) : start;
  const pct = end > start ? Math.floor(((ctx.clock.now().getTime() - start) / (end - start)) * 100) : 0;
  return `${Math.max(0, Math.min(99, pct))}%`;
}

function snapshotShape(ctx: Ctx, s: SnapshotT) {
  return {
    SnapshotId: s.id,
    VolumeId: s.volumeId,
    VolumeSize: s.volumeSize ?? ec2Of(ctx).volumes.find((v) => v.id === s.volumeId)?.size,
    State: s.state,
    StartTime: date(s.startTime),
    Progress: progressOf(ctx, s),
    OwnerId: s.ownerId ?? ctx.accountId,
    Description: s.description,
    Encrypted: s.encrypted,
    StorageTier: 'standard',
    Tags: tagList(s.tags),
  };
}

/** AWS limits pending snapshots per volume (5 for most volume types). */
function checkConcurrency(ctx: Ctx, volumes: readonly VolumeT[]): void {
  const w = ec2Of(ctx);
  for (const v of volumes) {
    const pending = w.snapshots.filter((s) => s.volumeId === v.id && s.state === 'pending').length;
    if (pending >= w.limits.concurrentSnapshots) {
      ctx.fail('ConcurrentSnapshotLimitExceeded', `Maximum allowed in-progress snapshots for a single volume exceeded. (volume ${v.id})`);
    }
  }
}

function newSnapshot(ctx: Ctx, v: VolumeT, description: string, tags: Tags): SnapshotT {
  const now = ctx.clock.now();
  const s: SnapshotT = {
    id: ctx.newId('snap'),
    volumeId: v.id,
    volumeSize: v.size,
    state: 'pending',
    startTime: now.toISOString(),
    completesAt: new Date(now.getTime() + ec2Of(ctx).snapshotCompletionSeconds * 1000).toISOString(),
    description,
    encrypted: v.encrypted,
    tags,
  };
  ec2Of(ctx).snapshots.push(s);
  return s;
}

type TagSpecs = Array<{ ResourceType?: string; Tags?: Array<{ Key?: string; Value?: string }> }>;

const createSnapshot: SimHandler = (
  ctx: Ctx,
  input: { VolumeId?: string; Description?: string; TagSpecifications?: TagSpecs; DryRun?: boolean },
) => {
  const v = find(ctx, 'volume', ec2Of(ctx).volumes, input.VolumeId);
  const tags = tagsFromSpecs(ctx, input.TagSpecifications, 'snapshot');
  if ((input.Description ?? '').length > 255)
    invalidValue(ctx, 'description', input.Description, 'Descriptions are at most 255 characters.');
  checkConcurrency(ctx, [v]);
  dryRun(ctx, input);
  const s = newSnapshot(ctx, v, input.Description ?? '', tags);
  ctx.changed();
  const { Progress: _p, StorageTier: _t, ...shape } = snapshotShape(ctx, s);
  return { ...shape, Progress: '' };
};

interface CreateSnapshotsInput {
  InstanceSpecification?: { InstanceId?: string; ExcludeBootVolume?: boolean; ExcludeDataVolumeIds?: string[] };
  Description?: string;
  TagSpecifications?: TagSpecs;
  CopyTagsFromSource?: string;
  DryRun?: boolean;
}

/** Crash-consistent snapshots of every EBS volume of one instance, at the same moment. */
const createSnapshots: SimHandler = (ctx: Ctx, input: CreateSnapshotsInput) => {
  const w = ec2Of(ctx);
  const spec = input.InstanceSpecification;
  if (!spec?.InstanceId) ctx.fail('MissingParameter', 'The request must contain the parameter InstanceSpecification.InstanceId');
  const inst = find(ctx, 'instance', w.instances, spec.InstanceId);
  if (input.CopyTagsFromSource !== undefined && input.CopyTagsFromSource !== 'volume')
    invalidValue(ctx, 'CopyTagsFromSource', input.CopyTagsFromSource);
  const tags = tagsFromSpecs(ctx, input.TagSpecifications, 'snapshot');
  const excluded = new Set(spec.ExcludeDataVolumeIds ?? []);
  const devices = inst.blockDevices.filter((b) => {
    if (spec.ExcludeBootVolume === true && b.deviceName === inst.rootDeviceName) return false;
    return !excluded.has(b.volumeId);
  });
  for (const id of excluded) {
    if (!inst.blockDevices.some((b) => b.volumeId === id))
      invalidValue(ctx, 'ExcludeDataVolumeIds', id, `Volume ${id} is not attached to ${inst.id}.`);
    if (inst.blockDevices.find((b) => b.volumeId === id)?.deviceName === inst.rootDeviceName) {
      ctx.fail('InvalidParameterValue', 'The root volume cannot be excluded with ExcludeDataVolumeIds; use ExcludeBootVolume.');
    }
  }
  const volumes = devices.map((d) => w.volumes.find((v) => v.id === d.volumeId)!);
  if (volumes.length === 0) ctx.fail('InvalidParameterValue', `No volumes of instance ${inst.id} to snapshot.`);
  checkConcurrency(ctx, volumes);
  dryRun(ctx, input);
  const made = volumes.map((v) =>
    newSnapshot(ctx, v, input.Description ?? '', input.CopyTagsFromSource === 'volume' ? { ...v.tags, ...tags } : { ...tags }),
  );
  ctx.changed();
  return {
    Snapshots: made.map((s) => ({
      SnapshotId: s.id,
      VolumeId: s.volumeId,
      VolumeSize: s.volumeSize,
      State: s.state,
      StartTime: date(s.startTime),
      Progress: '',
      OwnerId: ctx.accountId,
      Description: s.description,
      Encrypted: s.encrypted,
      Tags: tagList(s.tags),
    })),
  };
};

const describeSnapshots: SimHandler = (
  ctx: Ctx,
  input: {
    SnapshotIds?: string[];
    OwnerIds?: string[];
    RestorableByUserIds?: string[];
    Filters?: Filter[];
    MaxResults?: number;
    NextToken?: string;
  },
) => {
  const w = ec2Of(ctx);
  let list = input.SnapshotIds?.length ? findAll(ctx, 'snapshot', w.snapshots, input.SnapshotIds) : [...w.snapshots];
  if (input.OwnerIds?.length) {
    const owners = input.OwnerIds.map((o) => (o === 'self' ? ctx.accountId : o));
    list = list.filter((s) => owners.includes(s.ownerId ?? ctx.accountId));
  }
  list = applyFilters(
    ctx,
    list,
    input.Filters,
    {
      'snapshot-id': (s) => s.id,
      'volume-id': (s) => s.volumeId,
      status: (s) => s.state,
      'owner-id': (s) => s.ownerId ?? ctx.accountId,
      description: (s) => s.description,
      'start-time': (s) => s.startTime,
      encrypted: (s) => s.encrypted,
      progress: (s) => progressOf(ctx, s),
    },
    (s) => s.tags,
  );
  const { page, NextToken } = paginate(ctx, list, input);
  return { Snapshots: page.map((s) => snapshotShape(ctx, s)), ...(NextToken ? { NextToken } : {}) };
};

const deleteSnapshot: SimHandler = (ctx: Ctx, input: { SnapshotId?: string; DryRun?: boolean }) => {
  const w = ec2Of(ctx);
  const s = find(ctx, 'snapshot', w.snapshots, input.SnapshotId);
  dryRun(ctx, input);
  w.snapshots = w.snapshots.filter((x) => x !== s);
  ctx.changed();
  return {};
};

export const storageHandlers: Record<string, SimHandler> = {
  DescribeVolumes: describeVolumes,
  CreateSnapshot: createSnapshot,
  CreateSnapshots: createSnapshots,
  DescribeSnapshots: describeSnapshots,
  DeleteSnapshot: deleteSnapshot,
};
