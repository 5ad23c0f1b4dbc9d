/** Simulated EC2: instances, their attributes and their network interfaces. */
import type { SimHandler } from '../../service.js';
import type { InstanceT, NetworkInterfaceT } from './schema.js';
import {
  applyFilters,
  awsStyleId,
  azOf,
  checkIds,
  date,
  derivedId,
  dryRun,
  ec2Of,
  find,
  findAll,
  invalidValue,
  missing,
  paginate,
  type Ctx,
  type Filter,
} from './common.js';
import { tagList } from '../../kit.js';
import { enforceConnections, trackingSnapshot } from '../../connections.js';

const STATE_CODES = { pending: 0, running: 16, 'shutting-down': 32, terminated: 48, stopping: 64, stopped: 80 } as const;

export function groupRefs(ctx: Ctx, ids: readonly string[]) {
  const groups = ec2Of(ctx).securityGroups;
  return ids.map((id) => ({ GroupId: id, GroupName: groups.find((g) => g.id === id)?.name }));
}

export function interfacesOf(ctx: Ctx, instanceId: string): NetworkInterfaceT[] {
  return ec2Of(ctx)
    .networkInterfaces.filter((e) => e.attachment?.instanceId === instanceId)
    .sort((a, b) => a.attachment!.deviceIndex - b.attachment!.deviceIndex);
}

function vpcOfSubnet(ctx: Ctx, subnetId: string | undefined): string | undefined {
  return subnetId ? ec2Of(ctx).subnets.find((s) => s.id === subnetId)?.vpcId : undefined;
}

export function eniShape(ctx: Ctx, eni: NetworkInterfaceT) {
  const a = eni.attachment;
  return {
    NetworkInterfaceId: eni.id,
    SubnetId: eni.subnetId,
    VpcId: vpcOfSubnet(ctx, eni.subnetId),
    AvailabilityZone: azOf(ctx, eni.subnetId),
    Description: eni.description,
    OwnerId: ctx.accountId,
    PrivateIpAddress: eni.privateIpAddress,
    PrivateIpAddresses: eni.privateIpAddress ? [{ Primary: true, PrivateIpAddress: eni.privateIpAddress }] : [],
    MacAddress: eni.macAddress,
    Groups: groupRefs(ctx, eni.groups),
    SourceDestCheck: eni.sourceDestCheck,
    Status: a ? 'in-use' : 'available',
    InterfaceType: 'interface',
    RequesterManaged: false,
    TagSet: tagList(eni.tags),
    ...(a
      ? {
          Attachment: {
            AttachmentId: a.id ?? derivedId('eni-attach', eni.id),
            InstanceId: a.instanceId,
            InstanceOwnerId: ctx.accountId,
            DeviceIndex: a.deviceIndex,
            NetworkCardIndex: 0,
            Status: 'attached',
            DeleteOnTermination: a.deleteOnTermination ?? a.deviceIndex === 0,
            AttachTime: date(a.attachTime ?? ec2Of(ctx).instances.find((i) => i.id === a.instanceId)?.launchTime ?? '2025-12-01T00:00:00Z'),
          },
        }
      : {}),
  };
}

function profileOf(ctx: Ctx, instanceId: string) {
  const a = ec2Of(ctx).iamInstanceProfileAssociations.find((x) => x.instanceId === instanceId);
  return a ? { Arn: a.instanceProfileArn, Id: a.instanceProfileId ?? awsStyleId('AIPA', a.instanceProfileArn) } : undefined;
}

function instanceShape(ctx: Ctx, inst: InstanceT) {
  const enis = interfacesOf(ctx, inst.id);
  const primary = enis.find((e) => e.attachment!.deviceIndex === 0);
  const subnetId = inst.subnetId ?? primary?.subnetId;
  const profile = profileOf(ctx, inst.id);
  const live = inst.state !== 'terminated';
  return {
    InstanceId: inst.id,
    ImageId: inst.imageId,
    InstanceType: inst.instanceType,
    State: { Code: STATE_CODES[inst.state], Name: inst.state },
    LaunchTime: date(inst.launchTime),
    Placement: { AvailabilityZone: azOf(ctx, subnetId), Tenancy: 'default', GroupName: '' },
    PrivateIpAddress: live ? (inst.privateIpAddress ?? primary?.privateIpAddress) : undefined,
    PublicIpAddress: live && inst.state === 'running' ? inst.publicIpAddress : undefined,
    SubnetId: live ? subnetId : undefined,
    VpcId: live ? vpcOfSubnet(ctx, subnetId) : undefined,
    KeyName: inst.keyName,
    Architecture: 'x86_64',
    Hypervisor: 'xen',
    VirtualizationType: 'hvm',
    RootDeviceName: inst.rootDeviceName,
    RootDeviceType: 'ebs',
    EbsOptimized: false,
    EnaSupport: true,
    SourceDestCheck: inst.sourceDestCheck,
    Monitoring: { State: 'disabled' },
    // The instance-level groups are those of the primary interface (device index 0).
    SecurityGroups: live && primary ? groupRefs(ctx, primary.groups) : [],
    NetworkInterfaces: live
      ? enis.map((e) => {
          const s = eniShape(ctx, e);
          return {
            NetworkInterfaceId: s.NetworkInterfaceId,
            SubnetId: s.SubnetId,
            VpcId: s.VpcId,
            Description: s.Description,
            OwnerId: s.OwnerId,
            PrivateIpAddress: s.PrivateIpAddress,
            PrivateIpAddresses: s.PrivateIpAddresses,
            MacAddress: s.MacAddress,
            Groups: s.Groups,
            SourceDestCheck: s.SourceDestCheck,
            Status: s.Status,
            InterfaceType: s.InterfaceType,
            Attachment: s.Attachment,
          };
        })
      : [],
    BlockDeviceMappings: live
      ? inst.blockDevices.map((b) => ({
          DeviceName: b.deviceName,
          Ebs: {
            VolumeId: b.volumeId,
            Status: 'attached',
            AttachTime: date(b.attachTime ?? inst.launchTime),
            DeleteOnTermination: b.deleteOnTermination,
          },
        }))
      : [],
    ...(profile && live ? { IamInstanceProfile: profile } : {}),
    Tags: tagList(inst.tags),
  };
}

function instanceFilterFields(ctx: Ctx) {
  const enisOf = (i: InstanceT) => interfacesOf(ctx, i.id);
  return {
    'instance-id': (i: InstanceT) => i.id,
    'image-id': (i: InstanceT) => i.imageId,
    'instance-type': (i: InstanceT) => i.instanceType,
    'instance-state-name': (i: InstanceT) => i.state,
    'instance-state-code': (i: InstanceT) => STATE_CODES[i.state],
    'vpc-id': (i: InstanceT) => vpcOfSubnet(ctx, i.subnetId ?? enisOf(i)[0]?.subnetId),
    'subnet-id': (i: InstanceT) => i.subnetId ?? enisOf(i)[0]?.subnetId,
    'availability-zone': (i: InstanceT) => azOf(ctx, i.subnetId ?? enisOf(i)[0]?.subnetId),
    'private-ip-address': (i: InstanceT) => i.privateIpAddress ?? enisOf(i)[0]?.privateIpAddress,
    'ip-address': (i: InstanceT) => i.publicIpAddress,
    'key-name': (i: InstanceT) => i.keyName,
    'network-interface.network-interface-id': (i: InstanceT) => enisOf(i).map((e) => e.id),
    'network-interface.group-id': (i: InstanceT) => enisOf(i).flatMap((e) => e.groups),
    'instance.group-id': (i: InstanceT) => enisOf(i).find((e) => e.attachment!.deviceIndex === 0)?.groups ?? [],
    'block-device-mapping.volume-id': (i: InstanceT) => i.blockDevices.map((b) => b.volumeId),
    'iam-instance-profile.arn': (i: InstanceT) => profileOf(ctx, i.id)?.Arn,
  };
}

const describeInstances: SimHandler = (
  ctx: Ctx,
  input: { InstanceIds?: string[]; Filters?: Filter[]; MaxResults?: number; NextToken?: string },
) => {
  const w = ec2Of(ctx);
  if (input.InstanceIds?.length && input.MaxResults !== undefined) {
    ctx.fail('InvalidParameterCombination', 'The parameter instancesSet cannot be used with the parameter maxResults');
  }
  let list = input.InstanceIds?.length ? findAll(ctx, 'instance', w.instances, input.InstanceIds) : [...w.instances];
  list = applyFilters(ctx, list, input.Filters, instanceFilterFields(ctx), (i) => i.tags);
  const { page, NextToken } = paginate(ctx, list, input);
  return {
    // One reservation per instance: the world does not record launch batches.
    Reservations: page.map((inst) => ({
      ReservationId: derivedId('r', inst.id),
      OwnerId: ctx.accountId,
      Groups: [],
      Instances: [instanceShape(ctx, inst)],
    })),
    ...(NextToken ? { NextToken } : {}),
  };
};

const describeInstanceAttribute: SimHandler = (ctx: Ctx, input: { InstanceId?: string; Attribute?: string }) => {
  const inst = find(ctx, 'instance', ec2Of(ctx).instances, input.InstanceId);
  if (!input.Attribute) missing(ctx, 'attribute');
  const out: Record<string, unknown> = { InstanceId: inst.id };
  const primary = interfacesOf(ctx, inst.id).find((e) => e.attachment!.deviceIndex === 0);
  switch (input.Attribute) {
    case 'instanceType':
      out.InstanceType = { Value: inst.instanceType };
      break;
    case 'disableApiTermination':
      out.DisableApiTermination = { Value: inst.disableApiTermination };
      break;
    case 'disableApiStop':
      out.DisableApiStop = { Value: false };
      break;
    case 'instanceInitiatedShutdownBehavior':
      out.InstanceInitiatedShutdownBehavior = { Value: inst.instanceInitiatedShutdownBehavior };
      break;
    case 'rootDeviceName':
      out.RootDeviceName = { Value: inst.rootDeviceName };
      break;
    case 'sourceDestCheck':
      out.SourceDestCheck = { Value: inst.sourceDestCheck };
      break;
    case 'ebsOptimized':
      out.EbsOptimized = { Value: false };
      break;
    case 'enaSupport':
      out.EnaSupport = { Value: true };
      break;
    case 'userData':
      out.UserData = {};
      break;
    case 'kernel':
      out.KernelId = {};
      break;
    case 'ramdisk':
      out.RamdiskId = {};
      break;
    case 'productCodes':
      out.ProductCodes = [];
      break;
    case 'groupSet':
      out.Groups = primary ? groupRefs(ctx, primary.groups) : [];
      break;
    case 'blockDeviceMapping':
      out.BlockDeviceMappings = inst.blockDevices.map((b) => ({
        DeviceName: b.deviceName,
        Ebs: {
          VolumeId: b.volumeId,
          Status: 'attached',
          AttachTime: date(b.attachTime ?? inst.launchTime),
          DeleteOnTermination: b.deleteOnTermination,
        },
      }));
      break;
    default:
      invalidValue(ctx, 'attribute', input.Attribute);
  }
  return out;
};

interface ModifyInstanceAttributeInput {
  InstanceId?: string;
  DryRun?: boolean;
  Attribute?: string;
  Value?: string;
  DisableApiTermination?: { Value?: boolean };
  InstanceInitiatedShutdownBehavior?: { Value?: string };
  SourceDestCheck?: { Value?: boolean };
  Groups?: string[];
  BlockDeviceMappings?: Array<{ DeviceName?: string; Ebs?: { VolumeId?: string; DeleteOnTermination?: boolean } }>;
  [other: string]: unknown;
}

const SUPPORTED_ATTRIBUTES = [
  'DisableApiTermination',
  'InstanceInitiatedShutdownBehavior',
  'SourceDestCheck',
  'Groups',
  'BlockDeviceMappings',
];

const modifyInstanceAttribute: SimHandler = (ctx: Ctx, input: ModifyInstanceAttributeInput) => {
  const w = ec2Of(ctx);
  const inst = find(ctx, 'instance', w.instances, input.InstanceId);
  // The legacy form names the attribute and a string value.
  const req: ModifyInstanceAttributeInput = { ...input };
  if (input.Attribute !== undefined) {
    if (input.Value === undefined) missing(ctx, 'value');
    if (input.Attribute === 'disableApiTermination') req.DisableApiTermination = { Value: input.Value === 'true' };
    else if (input.Attribute === 'instanceInitiatedShutdownBehavior') req.InstanceInitiatedShutdownBehavior = { Value: input.Value };
    else if (input.Attribute === 'sourceDestCheck') req.SourceDestCheck = { Value: input.Value === 'true' };
    else invalidValue(ctx, 'attribute', input.Attribute);
  }
  const given = Object.keys(req).filter(
    (k) =>
      !['InstanceId', 'DryRun', 'Attribute', 'Value'].includes(k) &&
      req[k] !== undefined &&
      !(Array.isArray(req[k]) && (req[k] as unknown[]).length === 0),
  );
  const unsupported = given.filter((k) => !SUPPORTED_ATTRIBUTES.includes(k));
  if (unsupported.length) throw new Error(`the simulated cloud does not implement ec2:ModifyInstanceAttribute ${unsupported.join(', ')}`);
  if (given.length === 0) missing(ctx, 'attribute');
  // AWS changes one attribute per call.
  if (given.length > 1)
    ctx.fail(
      'InvalidParameterCombination',
      `Fields for multiple attribute types specified: ${given.map((k) => k[0]!.toLowerCase() + k.slice(1)).join(', ')}`,
    );
  if (inst.state === 'terminated')
    ctx.fail('IncorrectInstanceState', `The instance '${inst.id}' is not in a state from which it can be modified.`);

  const what = given[0]!;
  if (what === 'DisableApiTermination') {
    const v = req.DisableApiTermination!.Value;
    if (typeof v !== 'boolean') missing(ctx, 'disableApiTermination.value');
    dryRun(ctx, input);
    inst.disableApiTermination = v;
  } else if (what === 'InstanceInitiatedShutdownBehavior') {
    const v = req.InstanceInitiatedShutdownBehavior!.Value;
    if (v !== 'stop' && v !== 'terminate') invalidValue(ctx, 'instanceInitiatedShutdownBehavior', v);
    dryRun(ctx, input);
    inst.instanceInitiatedShutdownBehavior = v;
  } else if (what === 'SourceDestCheck') {
    const v = req.SourceDestCheck!.Value;
    if (typeof v !== 'boolean') missing(ctx, 'sourceDestCheck.value');
    dryRun(ctx, input);
    inst.sourceDestCheck = v;
    for (const e of interfacesOf(ctx, inst.id)) e.sourceDestCheck = v;
  } else if (what === 'Groups') {
    const enis = interfacesOf(ctx, inst.id);
    // AWS's trap for responders: the instance-level call only works with a single interface.
    if (enis.length > 1) {
      ctx.fail(
        'InvalidInstanceID',
        `There are multiple interfaces attached to instance '${inst.id}'. Please specify an interface ID for the operation instead.`,
      );
    }
    const eni = enis[0];
    if (!eni) ctx.fail('InvalidInstanceID', `The instance '${inst.id}' has no network interface`);
    const groups = checkGroupsForInterface(ctx, eni, req.Groups!);
    dryRun(ctx, input);
    setInterfaceGroups(ctx, eni, groups, 'ec2:ModifyInstanceAttribute');
  } else {
    const changes = req.BlockDeviceMappings!.map((m) => {
      if (!m.DeviceName) missing(ctx, 'blockDeviceMapping.deviceName');
      const dev = inst.blockDevices.find((b) => b.deviceName === m.DeviceName);
      if (!dev) ctx.fail('InvalidInstanceAttributeValue', `No device is currently mapped at ${m.DeviceName}`);
      if (m.Ebs?.VolumeId !== undefined && m.Ebs.VolumeId !== dev.volumeId) {
        ctx.fail('InvalidInstanceAttributeValue', `Volume ${m.Ebs.VolumeId} is not attached at ${m.DeviceName}`);
      }
      if (typeof m.Ebs?.DeleteOnTermination !== 'boolean') missing(ctx, 'blockDeviceMapping.ebs.deleteOnTermination');
      return { dev, value: m.Ebs.DeleteOnTermination };
    });
    dryRun(ctx, input);
    for (const c of changes) c.dev.deleteOnTermination = c.value;
  }
  ctx.changed();
  return {};
};

/** The groups must exist, be distinct, be in the interface's VPC, and number at most 5. */
function checkGroupsForInterface(ctx: Ctx, eni: NetworkInterfaceT, ids: string[]): string[] {
  const w = ec2Of(ctx);
  const groups = findAll(ctx, 'group', w.securityGroups, ids);
  const vpcId = vpcOfSubnet(ctx, eni.subnetId);
  for (const g of groups) {
    if (g.vpcId !== vpcId) ctx.fail('InvalidParameter', `Security group ${g.id} and subnet ${eni.subnetId} belong to different networks.`);
  }
  if (groups.length > 5)
    ctx.fail('SecurityGroupsPerInterfaceLimitExceeded', 'The maximum number of security groups per interface has been reached.');
  return groups.map((g) => g.id);
}

/** Change an interface's groups and cut the flows AWS would cut (see connections.ts). */
function setInterfaceGroups(ctx: Ctx, eni: NetworkInterfaceT, groups: string[], cause: string): void {
  const before = trackingSnapshot(ctx.world);
  eni.groups = groups;
  enforceConnections(ctx.world, before, ctx.clock.now(), `${cause} ${eni.id}`);
}

const describeNetworkInterfaces: SimHandler = (
  ctx: Ctx,
  input: { NetworkInterfaceIds?: string[]; Filters?: Filter[]; MaxResults?: number; NextToken?: string },
) => {
  const w = ec2Of(ctx);
  let list = input.NetworkInterfaceIds?.length
    ? findAll(ctx, 'eni', w.networkInterfaces, input.NetworkInterfaceIds)
    : [...w.networkInterfaces];
  list = applyFilters(
    ctx,
    list,
    input.Filters,
    {
      'network-interface-id': (e) => e.id,
      'attachment.instance-id': (e) => e.attachment?.instanceId,
      'attachment.device-index': (e) => e.attachment?.deviceIndex,
      'attachment.status': (e) => (e.attachment ? 'attached' : undefined),
      'group-id': (e) => e.groups,
      'subnet-id': (e) => e.subnetId,
      'vpc-id': (e) => vpcOfSubnet(ctx, e.subnetId),
      'private-ip-address': (e) => e.privateIpAddress,
      'availability-zone': (e) => azOf(ctx, e.subnetId),
      status: (e) => (e.attachment ? 'in-use' : 'available'),
      description: (e) => e.description,
      'owner-id': () => ctx.accountId,
    },
    (e) => e.tags,
  );
  const { page, NextToken } = paginate(ctx, list, input);
  return { NetworkInterfaces: page.map((e) => eniShape(ctx, e)), ...(NextToken ? { NextToken } : {}) };
};

interface ModifyEniInput {
  NetworkInterfaceId?: string;
  DryRun?: boolean;
  Groups?: string[];
  Description?: { Value?: string };
  SourceDestCheck?: { Value?: boolean };
  Attachment?: { AttachmentId?: string; DeleteOnTermination?: boolean };
  [other: string]: unknown;
}

const modifyNetworkInterfaceAttribute: SimHandler = (ctx: Ctx, input: ModifyEniInput) => {
  const eni = find(ctx, 'eni', ec2Of(ctx).networkInterfaces, input.NetworkInterfaceId);
  // An empty list is not sent on the wire (EC2's query protocol drops empty lists).
  const given = Object.keys(input).filter(
    (k) =>
      !['NetworkInterfaceId', 'DryRun'].includes(k) &&
      input[k] !== undefined &&
      !(Array.isArray(input[k]) && (input[k] as unknown[]).length === 0),
  );
  const unsupported = given.filter((k) => !['Groups', 'Description', 'SourceDestCheck', 'Attachment'].includes(k));
  if (unsupported.length)
    throw new Error(`the simulated cloud does not implement ec2:ModifyNetworkInterfaceAttribute ${unsupported.join(', ')}`);
  if (given.length === 0) missing(ctx, 'attribute');
  if (given.length > 1)
    ctx.fail(
      'InvalidParameterCombination',
      `Fields for multiple attribute types specified: ${given.map((k) => k[0]!.toLowerCase() + k.slice(1)).join(', ')}`,
    );
  const what = given[0];
  if (what === 'Groups') {
    checkIds(ctx, 'group', input.Groups!);
    const groups = checkGroupsForInterface(ctx, eni, input.Groups!);
    dryRun(ctx, input);
    setInterfaceGroups(ctx, eni, groups, 'ec2:ModifyNetworkInterfaceAttribute');
  } else if (what === 'Description') {
    dryRun(ctx, input);
    eni.description = input.Description!.Value ?? '';
  } else if (what === 'SourceDestCheck') {
    if (typeof input.SourceDestCheck!.Value !== 'boolean') missing(ctx, 'sourceDestCheck.value');
    dryRun(ctx, input);
    eni.sourceDestCheck = input.SourceDestCheck!.Value;
  } else {
    const a = input.Attachment!;
    const current = eni.attachment;
    if (!current || (a.AttachmentId !== undefined && a.AttachmentId !== (current.id ?? derivedId('eni-attach', eni.id)))) {
      ctx.fail('InvalidAttachmentID.NotFound', `The attachment ID '${a.AttachmentId ?? ''}' does not exist`);
    }
    if (typeof a.DeleteOnTermination !== 'boolean') missing(ctx, 'attachment.deleteOnTermination');
    dryRun(ctx, input);
    current.deleteOnTermination = a.DeleteOnTermination;
  }
  ctx.changed();
  return {};
};

export const instanceHandlers: Record<string, SimHandler> = {
  DescribeInstances: describeInstances,
  DescribeInstanceAttribute: describeInstanceAttribute,
  ModifyInstanceAttribute: modifyInstanceAttribute,
  DescribeNetworkInterfaces: describeNetworkInterfaces,
  ModifyNetworkInterfaceAttribute: modifyNetworkInterfaceAttribute,
};

export { vpcOfSubnet };
