/** Shared set-up for the simulated-cloud tests: a fresh demo world and real SDK clients plugged into it. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EC2Client } from '@aws-sdk/client-ec2';
import { STSClient } from '@aws-sdk/client-sts';
import { IAMClient } from '@aws-sdk/client-iam';
import { createSimCloud, parseWorld, type SimCloud, type SimCloudOptions, type World } from '../../src/sim/index.js';

export const DEMO_FILE = fileURLToPath(new URL('../../worlds/demo.yaml', import.meta.url));
export const DEMO_TEXT = readFileSync(DEMO_FILE, 'utf8');

export const WEB = 'i-0abc123def4567890';
export const DB = 'i-0fedcba9876543210';
export const WEB_ETH0 = 'eni-0a1a1a1a1a1a1a1a1';
export const WEB_ETH1 = 'eni-0b2b2b2b2b2b2b2b2';
export const SG_WEB = 'sg-0123456789abcdef0';
export const SG_MGMT = 'sg-0aaaabbbbccccdddd';
export const SG_APP = 'sg-0eeeeffff00001111';
export const VPC = 'vpc-0a1b2c3d4e5f60718';
export const SUBNET_WEB = 'subnet-0aa11bb22cc33dd44';
export const SUBNET_APP = 'subnet-0ee55ff66aa77bb88';
export const ACL_WEB = 'acl-0a0a0a0a0a0a0a0a1';
export const ACL_APP = 'acl-0b0b0b0b0b0b0b0b2';
export const VOL_ROOT = 'vol-0aaa1111bbbb2222c';
export const VOL_DATA = 'vol-0ddd3333eeee4444f';
export const VOL_DB = 'vol-0aaa5555bbbb6666c';
export const ASSOC = 'iip-assoc-0123456789abcdef0';

export function demoWorld(edit?: (w: World) => void): World {
  const w = parseWorld(DEMO_TEXT, DEMO_FILE);
  edit?.(w);
  return w;
}

export interface Harness {
  sim: SimCloud;
  ec2: EC2Client;
  sts: STSClient;
  iam: IAMClient;
  world: World;
}

/** Real SDK clients answered by the simulated cloud. `maxAttempts: 1` unless a test is about retries. */
export function harness(
  world: World = demoWorld(),
  opts: SimCloudOptions & { maxAttempts?: number; retryMode?: 'standard' | 'adaptive' } = {},
): Harness {
  const sim = createSimCloud(world, opts);
  const cfg = {
    region: sim.region,
    credentials: sim.credentials,
    maxAttempts: opts.maxAttempts ?? 1,
    retryMode: opts.retryMode ?? 'standard',
  };
  const ec2 = new EC2Client(cfg);
  const sts = new STSClient(cfg);
  const iam = new IAMClient(cfg);
  for (const c of [ec2, sts, iam]) c.middlewareStack.use(sim.plugin);
  return { sim, ec2, sts, iam, world };
}

/** The rejection of a promise (fails the test if it resolves). */
export async function rejection(
  p: Promise<unknown>,
): Promise<Error & { $metadata: { httpStatusCode: number; attempts?: number }; $fault: string; Code?: string }> {
  try {
    await p;
  } catch (err) {
    return err as never;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

export const deepCopy = <T>(v: T): T => structuredClone(v);
