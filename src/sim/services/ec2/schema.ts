/**
 * The EC2 slice of a simulated world. Field names are camelCase and tags are a map, so world
 * files stay short; the handlers turn them into AWS's own shapes. Every field has a default, so
 * a world may omit the slice or any list in it.
 */
import * as z from 'zod';
import { isCidr4, isCidr6 } from '../../../core/net.js';
import { Tags } from '../../kit.js';

const START = '2025-12-01T00:00:00Z';

export const resourceId = (prefix: string) =>
  z.string().regex(new RegExp(`^${prefix}-[0-9a-f]{8}([0-9a-f]{9})?$`), `an id such as ${prefix}-0123456789abcdef0`);

const IsoTime = z.iso.datetime({ offset: true });
const Cidr4 = z.string().refine(isCidr4, 'an IPv4 CIDR block such as 10.0.0.0/16');
const Cidr6 = z.string().refine(isCidr6, 'an IPv6 CIDR block such as ::/0');
const Port = z.number().int().min(-1).max(65535);

export const Vpc = z.strictObject({
  id: resourceId('vpc'),
  cidrBlock: Cidr4,
  isDefault: z.boolean().default(false),
  tags: Tags,
});

export const Subnet = z.strictObject({
  id: resourceId('subnet'),
  vpcId: resourceId('vpc'),
  cidrBlock: Cidr4,
  availabilityZone: z.string().optional().describe("default: the world's region + 'a'"),
  tags: Tags,
});

export const NaclEntry = z
  .strictObject({
    ruleNumber: z.number().int().min(1).max(32766).describe("1–32766; the '*' rule (32767, deny all) is always present and implicit"),
    egress: z.boolean().default(false),
    protocol: z
      .string()
      .regex(/^(-1|\d{1,3})$/, "a protocol number ('6' tcp, '17' udp, '1' icmp) or '-1' for all")
      .default('-1'),
    ruleAction: z.enum(['allow', 'deny']),
    cidrBlock: Cidr4.optional(),
    ipv6CidrBlock: Cidr6.optional(),
    portRange: z.strictObject({ from: Port, to: Port }).optional(),
    icmpTypeCode: z.strictObject({ type: z.number().int(), code: z.number().int() }).optional(),
  })
  .refine((e) => (e.cidrBlock === undefined) !== (e.ipv6CidrBlock === undefined), {
    message: 'an entry names exactly one of cidrBlock or ipv6CidrBlock',
  });

export const NetworkAcl = z.strictObject({
  id: resourceId('acl'),
  vpcId: resourceId('vpc'),
  isDefault: z.boolean().default(false).describe("the VPC's default NACL serves subnets with no explicit association"),
  entries: z.array(NaclEntry).default([]),
  associations: z.array(z.strictObject({ subnetId: resourceId('subnet'), id: resourceId('aclassoc').optional() })).default([]),
  tags: Tags,
});

/** One security group rule: one protocol and port range, one source or destination. */
export const SgRule = z
  .strictObject({
    id: resourceId('sgr').optional(),
    protocol: z.string().default('-1').describe("'tcp', 'udp', 'icmp', 'icmpv6', a protocol number, or '-1' for all"),
    fromPort: Port.optional(),
    toPort: Port.optional(),
    cidr: Cidr4.optional(),
    ipv6Cidr: Cidr6.optional(),
    groupId: resourceId('sg').optional().describe('a security group as the source (ingress) or destination (egress)'),
    prefixListId: z
      .string()
      .regex(/^pl-[0-9a-f]+$/)
      .optional(),
    description: z.string().optional(),
  })
  .refine((r) => [r.cidr, r.ipv6Cidr, r.groupId, r.prefixListId].filter((x) => x !== undefined).length === 1, {
    message: 'a rule names exactly one of cidr, ipv6Cidr, groupId or prefixListId',
  });

export const SecurityGroup = z.strictObject({
  id: resourceId('sg'),
  name: z.string().min(1).max(255),
  description: z.string().default(''),
  vpcId: resourceId('vpc'),
  ingress: z.array(SgRule).default([]),
  egress: z
    .array(SgRule)
    .default([{ protocol: '-1', cidr: '0.0.0.0/0' }])
    .describe('default: allow all outbound, as AWS creates a group; write [] for none'),
  tags: Tags,
});

export const BlockDevice = z.strictObject({
  deviceName: z.string(),
  volumeId: resourceId('vol'),
  deleteOnTermination: z.boolean().default(true),
  attachTime: IsoTime.optional(),
});

export const Instance = z.strictObject({
  id: resourceId('i'),
  imageId: resourceId('ami').default('ami-0123456789abcdef0'),
  instanceType: z.string().default('t3.micro'),
  state: z.enum(['pending', 'running', 'shutting-down', 'terminated', 'stopping', 'stopped']).default('running'),
  subnetId: resourceId('subnet').optional(),
  privateIpAddress: z.string().optional(),
  publicIpAddress: z.string().optional(),
  keyName: z.string().optional(),
  launchTime: IsoTime.default(START),
  disableApiTermination: z.boolean().default(false),
  instanceInitiatedShutdownBehavior: z.enum(['stop', 'terminate']).default('stop'),
  rootDeviceName: z.string().default('/dev/xvda'),
  blockDevices: z.array(BlockDevice).default([]),
  sourceDestCheck: z.boolean().default(true),
  tags: Tags,
});

export const NetworkInterface = z.strictObject({
  id: resourceId('eni'),
  subnetId: resourceId('subnet'),
  privateIpAddress: z.string().optional(),
  description: z.string().default(''),
  groups: z.array(resourceId('sg')).min(1).max(16),
  attachment: z
    .strictObject({
      instanceId: resourceId('i'),
      deviceIndex: z.number().int().min(0),
      id: resourceId('eni-attach').optional(),
      deleteOnTermination: z.boolean().optional().describe('default: true for device 0, false otherwise'),
      attachTime: IsoTime.optional(),
    })
    .optional(),
  sourceDestCheck: z.boolean().default(true),
  macAddress: z.string().optional(),
  tags: Tags,
});

export const Volume = z.strictObject({
  id: resourceId('vol'),
  size: z.number().int().positive().default(8),
  volumeType: z.enum(['gp2', 'gp3', 'io1', 'io2', 'st1', 'sc1', 'standard']).default('gp3'),
  availabilityZone: z.string().optional(),
  encrypted: z.boolean().default(false),
  kmsKeyId: z.string().optional(),
  snapshotId: resourceId('snap').optional(),
  iops: z.number().int().positive().optional(),
  createTime: IsoTime.default(START),
  tags: Tags,
});

export const Snapshot = z.strictObject({
  id: resourceId('snap'),
  volumeId: resourceId('vol'),
  volumeSize: z.number().int().positive().optional(),
  state: z.enum(['pending', 'completed', 'error']).default('completed'),
  startTime: IsoTime.default(START),
  completesAt: IsoTime.optional().describe('when a pending snapshot becomes completed (simulated time)'),
  ownerId: z
    .string()
    .regex(/^\d{12}$/)
    .optional()
    .describe("default: the world's account"),
  description: z.string().default(''),
  encrypted: z.boolean().default(false),
  tags: Tags,
});

export const IamInstanceProfileAssociation = z.strictObject({
  id: resourceId('iip-assoc'),
  instanceId: resourceId('i'),
  instanceProfileArn: z.string().regex(/^arn:aws[\w-]*:iam::\d{12}:instance-profile\/.+$/, 'an instance profile ARN'),
  instanceProfileId: z.string().optional(),
  associatedAt: IsoTime.optional(),
});

/** A network flow to or from an instance: what isolation must cut. */
export const Connection = z.strictObject({
  id: z.string().min(1),
  instanceId: resourceId('i'),
  networkInterfaceId: resourceId('eni').optional().describe("default: the instance's primary interface"),
  remoteIp: z.string().refine((s) => isCidr4(`${s}/32`) || isCidr6(`${s}/128`), 'an IP address'),
  remotePort: z.number().int().min(0).max(65535).optional(),
  localPort: z.number().int().min(0).max(65535),
  protocol: z.enum(['tcp', 'udp', 'icmp']).default('tcp'),
  direction: z.enum(['inbound', 'outbound']).default('inbound'),
  state: z.enum(['open', 'closed']).default('open'),
  openedAt: IsoTime.optional(),
  closedAt: IsoTime.optional(),
  closedBy: z.string().optional(),
});

export const Ec2Limits = z.strictObject({
  naclRulesPerDirection: z.number().int().positive().default(20),
  concurrentSnapshots: z.number().int().positive().default(5).describe('pending snapshots per volume'),
  rulesPerSecurityGroup: z.number().int().positive().default(60).describe('per direction'),
});

const Ec2Shape = z.strictObject({
  vpcs: z.array(Vpc).default([]),
  subnets: z.array(Subnet).default([]),
  networkAcls: z.array(NetworkAcl).default([]),
  securityGroups: z.array(SecurityGroup).default([]),
  instances: z.array(Instance).default([]),
  networkInterfaces: z.array(NetworkInterface).default([]),
  volumes: z.array(Volume).default([]),
  snapshots: z.array(Snapshot).default([]),
  iamInstanceProfileAssociations: z.array(IamInstanceProfileAssociation).default([]),
  connections: z.array(Connection).default([]),
  limits: Ec2Limits.default({ naclRulesPerDirection: 20, concurrentSnapshots: 5, rulesPerSecurityGroup: 60 }),
  snapshotCompletionSeconds: z.number().nonnegative().default(120).describe('simulated seconds a new snapshot stays pending'),
});

export type Ec2World = z.output<typeof Ec2Shape>;
export type VpcT = z.output<typeof Vpc>;
export type SubnetT = z.output<typeof Subnet>;
export type NetworkAclT = z.output<typeof NetworkAcl>;
export type NaclEntryT = z.output<typeof NaclEntry>;
export type SecurityGroupT = z.output<typeof SecurityGroup>;
export type SgRuleT = z.output<typeof SgRule>;
export type InstanceT = z.output<typeof Instance>;
export type NetworkInterfaceT = z.output<typeof NetworkInterface>;
export type VolumeT = z.output<typeof Volume>;
export type SnapshotT = z.output<typeof Snapshot>;
export type AssociationT = z.output<typeof IamInstanceProfileAssociation>;
export type ConnectionT = z.output<typeof Connection>;

/** References between resources must resolve: a world that cannot exist in AWS is rejected. */
function checkReferences(w: Ec2World, ctx: z.RefinementCtx): void {
  const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  const unique = (list: { id: string }[], key: string) => {
    const seen = new Set<string>();
    list.forEach((r, i) => {
      if (seen.has(r.id)) issue([key, i, 'id'], `duplicate id '${r.id}'`);
      seen.add(r.id);
    });
  };
  for (const key of [
    'vpcs',
    'subnets',
    'networkAcls',
    'securityGroups',
    'instances',
    'networkInterfaces',
    'volumes',
    'snapshots',
    'iamInstanceProfileAssociations',
    'connections',
  ] as const) {
    unique(w[key], key);
  }
  const vpcs = new Set(w.vpcs.map((v) => v.id));
  const subnets = new Map(w.subnets.map((s) => [s.id, s]));
  const groups = new Map(w.securityGroups.map((g) => [g.id, g]));
  const instances = new Map(w.instances.map((i) => [i.id, i]));
  const volumes = new Set(w.volumes.map((v) => v.id));
  const enis = new Map(w.networkInterfaces.map((e) => [e.id, e]));

  w.subnets.forEach((s, i) => {
    if (!vpcs.has(s.vpcId)) issue(['subnets', i, 'vpcId'], `no VPC '${s.vpcId}' in ec2.vpcs`);
  });

  const associated = new Map<string, string>();
  w.networkAcls.forEach((acl, i) => {
    if (!vpcs.has(acl.vpcId)) issue(['networkAcls', i, 'vpcId'], `no VPC '${acl.vpcId}' in ec2.vpcs`);
    acl.associations.forEach((a, j) => {
      const s = subnets.get(a.subnetId);
      if (!s) issue(['networkAcls', i, 'associations', j, 'subnetId'], `no subnet '${a.subnetId}' in ec2.subnets`);
      else if (s.vpcId !== acl.vpcId)
        issue(['networkAcls', i, 'associations', j, 'subnetId'], `subnet '${a.subnetId}' is in another VPC than ${acl.id}`);
      // AWS associates a subnet with exactly one network ACL.
      if (associated.has(a.subnetId))
        issue(
          ['networkAcls', i, 'associations', j, 'subnetId'],
          `subnet '${a.subnetId}' is already associated with ${associated.get(a.subnetId)}`,
        );
      associated.set(a.subnetId, acl.id);
    });
    const numbers = new Set<string>();
    acl.entries.forEach((e, j) => {
      const k = `${e.egress}:${e.ruleNumber}`;
      if (numbers.has(k))
        issue(
          ['networkAcls', i, 'entries', j, 'ruleNumber'],
          `rule ${e.ruleNumber} appears twice in the ${e.egress ? 'egress' : 'ingress'} entries`,
        );
      numbers.add(k);
    });
  });
  const defaults = new Map<string, number>();
  w.networkAcls.forEach((acl) => {
    if (acl.isDefault) defaults.set(acl.vpcId, (defaults.get(acl.vpcId) ?? 0) + 1);
  });
  for (const [vpc, n] of defaults) if (n > 1) issue(['networkAcls'], `VPC '${vpc}' has ${n} default network ACLs; AWS has one`);

  const names = new Set<string>();
  w.securityGroups.forEach((g, i) => {
    if (!vpcs.has(g.vpcId)) issue(['securityGroups', i, 'vpcId'], `no VPC '${g.vpcId}' in ec2.vpcs`);
    const k = `${g.vpcId}/${g.name}`;
    if (names.has(k)) issue(['securityGroups', i, 'name'], `a security group named '${g.name}' already exists in ${g.vpcId}`);
    names.add(k);
    for (const dir of ['ingress', 'egress'] as const) {
      g[dir].forEach((r, j) => {
        if (r.groupId && !groups.has(r.groupId))
          issue(['securityGroups', i, dir, j, 'groupId'], `no security group '${r.groupId}' in ec2.securityGroups`);
      });
    }
  });

  const attachedVolumes = new Map<string, string>();
  w.instances.forEach((inst, i) => {
    if (inst.subnetId && !subnets.has(inst.subnetId)) issue(['instances', i, 'subnetId'], `no subnet '${inst.subnetId}' in ec2.subnets`);
    inst.blockDevices.forEach((b, j) => {
      if (!volumes.has(b.volumeId)) issue(['instances', i, 'blockDevices', j, 'volumeId'], `no volume '${b.volumeId}' in ec2.volumes`);
      if (attachedVolumes.has(b.volumeId))
        issue(
          ['instances', i, 'blockDevices', j, 'volumeId'],
          `volume '${b.volumeId}' is already attached to ${attachedVolumes.get(b.volumeId)}`,
        );
      attachedVolumes.set(b.volumeId, inst.id);
    });
  });

  const devices = new Set<string>();
  w.networkInterfaces.forEach((eni, i) => {
    const subnet = subnets.get(eni.subnetId);
    if (!subnet) issue(['networkInterfaces', i, 'subnetId'], `no subnet '${eni.subnetId}' in ec2.subnets`);
    eni.groups.forEach((g, j) => {
      const group = groups.get(g);
      if (!group) issue(['networkInterfaces', i, 'groups', j], `no security group '${g}' in ec2.securityGroups`);
      else if (subnet && group.vpcId !== subnet.vpcId)
        issue(['networkInterfaces', i, 'groups', j], `security group '${g}' is in another VPC than subnet ${subnet.id}`);
    });
    if (eni.attachment) {
      const inst = instances.get(eni.attachment.instanceId);
      if (!inst) issue(['networkInterfaces', i, 'attachment', 'instanceId'], `no instance '${eni.attachment.instanceId}' in ec2.instances`);
      const k = `${eni.attachment.instanceId}#${eni.attachment.deviceIndex}`;
      if (devices.has(k))
        issue(
          ['networkInterfaces', i, 'attachment', 'deviceIndex'],
          `instance ${eni.attachment.instanceId} already has an interface at device index ${eni.attachment.deviceIndex}`,
        );
      devices.add(k);
    }
  });

  const profiled = new Set<string>();
  w.iamInstanceProfileAssociations.forEach((a, i) => {
    if (!instances.has(a.instanceId))
      issue(['iamInstanceProfileAssociations', i, 'instanceId'], `no instance '${a.instanceId}' in ec2.instances`);
    if (profiled.has(a.instanceId))
      issue(['iamInstanceProfileAssociations', i, 'instanceId'], `instance ${a.instanceId} already has an instance profile association`);
    profiled.add(a.instanceId);
  });

  w.connections.forEach((c, i) => {
    if (!instances.has(c.instanceId)) issue(['connections', i, 'instanceId'], `no instance '${c.instanceId}' in ec2.instances`);
    if (c.networkInterfaceId) {
      const eni = enis.get(c.networkInterfaceId);
      if (!eni) issue(['connections', i, 'networkInterfaceId'], `no network interface '${c.networkInterfaceId}' in ec2.networkInterfaces`);
      else if (eni.attachment?.instanceId !== c.instanceId)
        issue(['connections', i, 'networkInterfaceId'], `network interface '${c.networkInterfaceId}' is not attached to ${c.instanceId}`);
    } else if (
      instances.has(c.instanceId) &&
      !w.networkInterfaces.some((e) => e.attachment?.instanceId === c.instanceId && e.attachment.deviceIndex === 0)
    ) {
      issue(
        ['connections', i, 'instanceId'],
        `instance ${c.instanceId} has no primary network interface (device index 0) to carry the connection`,
      );
    }
  });
}

export const ec2Schema = Ec2Shape.superRefine(checkReferences).default({
  vpcs: [],
  subnets: [],
  networkAcls: [],
  securityGroups: [],
  instances: [],
  networkInterfaces: [],
  volumes: [],
  snapshots: [],
  iamInstanceProfileAssociations: [],
  connections: [],
  limits: { naclRulesPerDirection: 20, concurrentSnapshots: 5, rulesPerSecurityGroup: 60 },
  snapshotCompletionSeconds: 120,
});
