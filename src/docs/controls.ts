/**
 * The 20 Critical Security Controls (version 4), as the guidance Firebreak encodes maps them onto
 * AWS: one line each on what the control asks. Runbooks, `firebreak list` and reports cite these.
 */
export interface ControlInfo {
  id: string;
  title: string;
  asks: string;
}

const CONTROLS: ControlInfo[] = [
  {
    id: 'CC1',
    title: 'Inventory of authorized and unauthorized devices',
    asks: 'Know which servers are trusted: list them (DescribeInstances), launch them from templates and approved AMIs, and tag each with its owner and purpose.',
  },
  {
    id: 'CC2',
    title: 'Inventory of authorized and unauthorized software',
    asks: 'Run only approved software: approved AMIs, configuration management, and file-integrity checks (host IDS) that spot rootkits.',
  },
  {
    id: 'CC3',
    title: 'Secure configurations for hardware and software',
    asks: 'Start from approved images from trusted sources, automate configuration, and filter traffic with security groups (stateful) and network ACLs (stateless).',
  },
  {
    id: 'CC4',
    title: 'Continuous vulnerability assessment and remediation',
    asks: 'Test on the host and over the network, and keep patching.',
  },
  {
    id: 'CC5',
    title: 'Malware defenses',
    asks: 'Use host-based anti-malware, harden NAT instances, filter inside the VPC with network ACLs, and reach instances only through bastion hosts.',
  },
  {
    id: 'CC6',
    title: 'Application software security',
    asks: 'Deploy applications with the least connectivity (security groups, private subnets), give them instance roles, and route alerts (SNS) to the right people.',
  },
  { id: 'CC7', title: 'Wireless device control', asks: 'Nothing specific to AWS.' },
  {
    id: 'CC8',
    title: 'Data recovery capability',
    asks: 'Be able to recover data: regular EBS snapshots (more often for data volumes), automated; for a suspicious instance, snapshot more often, isolate it, add explicit deny NACL entries and block address ranges; instance roles limit what leaked credentials can do.',
  },
  {
    id: 'CC9',
    title: 'Security skills assessment and training',
    asks: 'Train people, separate duties with IAM groups and separate accounts, and require MFA for the most sensitive operations.',
  },
  {
    id: 'CC10',
    title: 'Secure configurations for network devices',
    asks: 'Configure security groups (stateful) and network ACLs (stateless, per subnet) from templates rather than by hand.',
  },
  {
    id: 'CC11',
    title: 'Limitation and control of network ports, protocols and services',
    asks: 'Shrink the attack surface with security groups and network ACLs, public and private subnets, host firewalls and automated scans.',
  },
  {
    id: 'CC12',
    title: 'Controlled use of administrative privileges',
    asks: 'Use IAM groups and read-only users for audits, MFA for sensitive operations, instance roles with rotated credentials, and STS for federation.',
  },
  {
    id: 'CC13',
    title: 'Boundary defense',
    asks: 'Build the DMZ with VPC subnets, inspect traffic at NAT instances, and administer through hardened bastion hosts or a VPN.',
  },
  {
    id: 'CC14',
    title: 'Maintenance, monitoring and analysis of audit logs',
    asks: 'Turn on the logs services offer, ship instance logs to write-once S3 buckets, and analyse them at scale.',
  },
  {
    id: 'CC15',
    title: 'Controlled access based on the need to know',
    asks: 'Classify data, separate duties with IAM, separate VPCs or accounts, and encrypt S3 objects and EBS volumes.',
  },
  {
    id: 'CC16',
    title: 'Account monitoring and control',
    asks: 'One IAM user per person or third party, read-only users for audit, instance roles instead of stored keys, and logs kept in write-once buckets.',
  },
  {
    id: 'CC17',
    title: 'Data loss prevention',
    asks: 'Control egress from the VPC, encrypt data at rest and in transit, and log and inspect what leaves.',
  },
  {
    id: 'CC18',
    title: 'Incident response and management',
    asks: 'Be ready to respond: buy time to act rather than react, open an AWS Support case, and report abuse and security issues to AWS.',
  },
  {
    id: 'CC19',
    title: 'Secure network engineering',
    asks: 'Design with security groups and VPC subnets, and separate who may change the network with IAM.',
  },
  {
    id: 'CC20',
    title: 'Penetration tests and red team exercises',
    asks: 'Test instances on the host and over the network, with AWS’s penetration-testing approval.',
  },
];

const byId = new Map(CONTROLS.map((c) => [c.id, c]));

/** The control's title and what it asks, or a placeholder naming an id Firebreak does not know. */
export function controlInfo(id: string): ControlInfo {
  return byId.get(id.toUpperCase()) ?? { id, title: 'unknown control', asks: `'${id}' is not one of CC1–CC20.` };
}

export function isKnownControl(id: string): boolean {
  return byId.has(id.toUpperCase());
}

/** Sorted by number, duplicates removed: CC8 before CC18. */
export function sortControls(ids: Iterable<string>): string[] {
  const num = (id: string) => Number(/\d+/.exec(id)?.[0] ?? Number.MAX_SAFE_INTEGER);
  return [...new Set(ids)].sort((a, b) => num(a) - num(b) || a.localeCompare(b));
}
