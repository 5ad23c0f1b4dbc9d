/**
 * An organization of fleets: a security account (111122223333, us-east-1) where Firebreak runs as
 * the role `Firebreak`, and member accounts each with a `FirebreakResponder` role that only that
 * role may assume, with the external id `firebreak-<account>`. Every member account×Region holds
 * N web instances (tag role=web) with the same instance ids in every one of them, so an item acted
 * on in the wrong account would show. Measured in bench/org-fleet.ts, tested in test/org/.
 */
export const SECURITY_ACCOUNT = '111122223333';
export const ORG_ROLE_TEMPLATE = 'arn:aws:iam::{% account %}:role/FirebreakResponder';
export const ORG_EXTERNAL_ID = 'firebreak-{% account %}';

const hexId = (prefix: string, kind: number, n: number) => `${prefix}-0b${kind.toString(16)}${n.toString(16).padStart(14, '0')}`;

/** The instance ids of each account×Region's fleet (the same in every one). */
export const orgInstanceId = (i: number) => hexId('i', 2, i);

/** `n` accounts from 100000000001 upward: 12 digits, none the security account. */
export const memberAccounts = (n: number) => Array.from({ length: n }, (_, i) => String(100000000001 + i));

function regionFleet(n: number, region: string) {
  const vpcId = hexId('vpc', 0, 1);
  const subnetId = hexId('subnet', 0, 1);
  const webSg = hexId('sg', 0, 1);
  const az = `${region}a`;
  const instances = [];
  const networkInterfaces = [];
  const volumes = [];
  for (let i = 0; i < n; i++) {
    const id = orgInstanceId(i);
    const ip = `10.1.${Math.floor(i / 250)}.${(i % 250) + 4}`;
    const vol = hexId('vol', 2, i);
    instances.push({
      id,
      subnetId,
      privateIpAddress: ip,
      blockDevices: [{ deviceName: '/dev/xvda', volumeId: vol, deleteOnTermination: true }],
      tags: { Name: `web-${i}`, role: 'web' },
    });
    networkInterfaces.push({
      id: hexId('eni', 2, i),
      subnetId,
      privateIpAddress: ip,
      groups: [webSg],
      attachment: { instanceId: id, deviceIndex: 0 },
    });
    volumes.push({ id: vol, size: 8, availabilityZone: az });
  }
  return {
    ec2: {
      vpcs: [{ id: vpcId, cidrBlock: '10.1.0.0/16' }],
      subnets: [{ id: subnetId, vpcId, cidrBlock: '10.1.0.0/16', availabilityZone: az }],
      securityGroups: [
        {
          id: webSg,
          name: 'web',
          description: 'web fleet',
          vpcId,
          ingress: [{ protocol: 'tcp', fromPort: 443, toPort: 443, cidr: '0.0.0.0/0' }],
        },
      ],
      instances,
      networkInterfaces,
      volumes,
    },
  };
}

export interface OrgWorldOptions {
  /** Member accounts whose Regions hold a fleet. */
  accounts: string[];
  regions: string[];
  /** Instances in each account×Region. */
  perLocation: number;
  /** Member accounts with the same fleets, not named in the run (they must stay unchanged). */
  bystanders?: string[];
  latencyMs?: number;
  rateLimits?: unknown;
  /** The world's clock at start (ISO, whole seconds): STS sets Expiration by it and the SDK judges it by the machine's. */
  time?: string;
}

export function orgWorldDoc(o: OrgWorldOptions) {
  const responder = (account: string) => ({
    name: 'FirebreakResponder',
    trustPolicy: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${SECURITY_ACCOUNT}:role/Firebreak` },
          Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'],
          Condition: { StringEquals: { 'sts:ExternalId': `firebreak-${account}` } },
        },
      ],
    },
  });
  const member = (account: string) => ({
    id: account,
    iam: { roles: [responder(account)] },
    regions: Object.fromEntries(o.regions.map((r) => [r, regionFleet(o.perLocation, r)])),
  });
  return {
    account: { id: SECURITY_ACCOUNT, alias: 'security' },
    region: 'us-east-1',
    caller: { arn: `arn:aws:sts::${SECURITY_ACCOUNT}:assumed-role/Firebreak/firebreak`, userId: 'AROAEXAMPLEFIREBREAK1:firebreak' },
    ...(o.time ? { time: o.time } : {}),
    ...(o.latencyMs ? { latencyMs: o.latencyMs } : {}),
    ...(o.rateLimits ? { rateLimits: o.rateLimits } : {}),
    iam: {
      roles: [
        {
          name: 'Firebreak',
          id: 'AROAEXAMPLEFIREBREAK1',
          trustPolicy: {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
          },
          inlinePolicies: {
            'assume-responders': {
              Version: '2012-10-17',
              Statement: [
                {
                  Effect: 'Allow',
                  Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'],
                  Resource: 'arn:aws:iam::*:role/FirebreakResponder',
                },
              ],
            },
          },
        },
      ],
    },
    // The security account has the same fleet in its home Region: a response in the wrong account would act on it.
    ...regionFleet(o.perLocation, 'us-east-1'),
    accounts: [...o.accounts, ...(o.bystanders ?? [])].map(member),
  };
}
