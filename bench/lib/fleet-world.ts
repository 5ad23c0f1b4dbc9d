/**
 * A fleet of N single-interface, single-volume web instances (tag role=web) in one VPC, without
 * Firebreak's isolation groups unless `warm`: the world `ec2-fleet-compromise` is measured on
 * (bench/fleet.ts) and pinned on (test/playbooks/ec2-fleet-calls.test.ts).
 */
const hexId = (prefix: string, kind: number, n: number) => `${prefix}-0b${kind.toString(16)}${n.toString(16).padStart(14, '0')}`;
export const FLEET_VPC = hexId('vpc', 0, 1);

export function fleetWorldDoc(n: number, o: { warm?: boolean; latencyMs?: number; rateLimits?: unknown } = {}) {
  const vpcId = FLEET_VPC;
  const subnetId = hexId('subnet', 0, 1);
  const webSg = hexId('sg', 0, 1);
  const instances = [];
  const enis = [];
  const volumes = [];
  for (let i = 0; i < n; i++) {
    const id = hexId('i', 2, i);
    const ip = `10.1.${Math.floor(i / 250)}.${(i % 250) + 4}`;
    const vol = hexId('vol', 2, i);
    instances.push({
      id,
      subnetId,
      privateIpAddress: ip,
      blockDevices: [{ deviceName: '/dev/xvda', volumeId: vol, deleteOnTermination: true }],
      tags: { Name: `web-${i}`, role: 'web' },
    });
    enis.push({ id: hexId('eni', 2, i), subnetId, privateIpAddress: ip, groups: [webSg], attachment: { instanceId: id, deviceIndex: 0 } });
    volumes.push({ id: vol, size: 8, availabilityZone: 'us-east-1a' });
  }
  const groups: unknown[] = [
    {
      id: webSg,
      name: 'web',
      description: 'web fleet',
      vpcId,
      ingress: [{ protocol: 'tcp', fromPort: 443, toPort: 443, cidr: '0.0.0.0/0' }],
    },
  ];
  if (o.warm)
    groups.push(
      { id: hexId('sg', 1, 1), name: 'firebreak-isolation', description: 'isolation', vpcId, ingress: [], egress: [] },
      {
        id: hexId('sg', 1, 2),
        name: 'firebreak-isolation-transit',
        description: 'transit',
        vpcId,
        ingress: [
          { protocol: '-1', cidr: '0.0.0.0/0' },
          { protocol: '-1', ipv6Cidr: '::/0' },
        ],
        egress: [
          { protocol: '-1', cidr: '0.0.0.0/0' },
          { protocol: '-1', ipv6Cidr: '::/0' },
        ],
      },
    );
  return {
    account: { id: '111122223333' },
    region: 'us-east-1',
    ...(o.latencyMs ? { latencyMs: o.latencyMs } : {}),
    ...(o.rateLimits ? { rateLimits: o.rateLimits } : {}),
    ec2: {
      vpcs: [{ id: vpcId, cidrBlock: '10.1.0.0/16' }],
      subnets: [{ id: subnetId, vpcId, cidrBlock: '10.1.0.0/16', availabilityZone: 'us-east-1a' }],
      securityGroups: groups,
      instances,
      networkInterfaces: enis,
      volumes,
    },
  };
}
