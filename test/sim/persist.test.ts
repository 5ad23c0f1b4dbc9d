/**
 * `createSimCloud(world, { persistTo })`: a change is on disk before its call answers, as on AWS.
 * Scenarios: a process killed with SIGKILL right after its calls answered, a log line torn by a
 * crash, a crash between compaction's two writes, and compaction against replay.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  ModifyInstanceAttributeCommand,
} from '@aws-sdk/client-ec2';
import { CreateAccessKeyCommand, UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import { loadWorld, parseWorld } from '../../src/sim/index.js';
import { changeLogPath } from '../../src/sim/change-log.js';
import { DB, DEMO_FILE, harness, SG_WEB, VPC, WEB, demoWorld, type Harness } from './helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
let bundleDir: string;
let dir: string;

beforeAll(async () => {
  bundleDir = mkdtempSync(join(tmpdir(), 'fb-persist-build-'));
  await build({
    entryPoints: [join(here, '..', 'fixtures', 'sim', 'persist-child.ts')],
    outfile: join(bundleDir, 'child.mjs'),
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    banner: {
      js: "import { createRequire as __childCreateRequire } from 'node:module'; const require = __childCreateRequire(import.meta.url);",
    },
    logLevel: 'error',
  });
}, 60_000);
afterAll(() => rmSync(bundleDir, { recursive: true, force: true }));
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fb-persist-'));
});

const groupNames = (w: { ec2: { securityGroups: Array<{ name: string }> } }) => w.ec2.securityGroups.map((g) => g.name);

/** Run the child until it has printed `answers` group ids, then SIGKILL it. */
function createThenKill(persistTo: string, answers: number, concurrency: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(bundleDir, 'child.mjs'), DEMO_FILE, persistTo, '400', String(concurrency)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let killed = false;
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const ids = out.split('\n').filter((l) => l.startsWith('sg-'));
      if (!killed && ids.length >= answers) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.once('exit', (code, signal) => {
      if (signal !== 'SIGKILL') return reject(new Error(`child exited (${code}) before it was killed: ${err}`));
      resolve(out.split('\n').filter((l) => /^sg-[0-9a-f]+$/.test(l)));
    });
  });
}

describe('a persisted simulated world survives a kill', () => {
  it('keeps a group whose create answered just before SIGKILL', async () => {
    const file = join(dir, 'world.json');
    const answered = await createThenKill(file, 1, 1);
    expect(answered.length).toBeGreaterThanOrEqual(1);
    // The world file alone was written before the call: the change is in the log only.
    expect(groupNames(parseWorld(readFileSync(file, 'utf8'), file))).not.toContain('kill-test-0');
    const world = await loadWorld(file);
    expect(world.ec2.securityGroups.find((g) => g.id === answered[0])?.name).toBe('kill-test-0');
  }, 60_000);

  it('keeps every group whose create answered when calls run concurrently', async () => {
    const file = join(dir, 'world.json');
    const answered = await createThenKill(file, 40, 8);
    const world = await loadWorld(file);
    const ids = new Set(world.ec2.securityGroups.map((g) => g.id));
    expect(answered.filter((id) => !ids.has(id))).toEqual([]);
    // Ids stay unique after the reload: a group created now does not reuse one handed out before the kill.
    const h = harness(world);
    const out = await h.ec2.send(new CreateSecurityGroupCommand({ GroupName: 'after-kill', Description: 'after', VpcId: VPC }));
    expect(answered).not.toContain(out.GroupId);
    expect(ids.has(out.GroupId!)).toBe(false);
  }, 60_000);
});

/** A persisted cloud with a few changes across services, left open (as a killed process leaves it). */
async function changedWorld(file: string, compactEvery?: number): Promise<Harness> {
  const h = harness(demoWorld(), { persistTo: file, ...(compactEvery ? { compactEvery } : {}) });
  const sg = await h.ec2.send(new CreateSecurityGroupCommand({ GroupName: 'quarantine', Description: 'no traffic', VpcId: VPC }));
  await h.ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: SG_WEB,
      IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.0.0.0/8' }] }],
    }),
  );
  await h.ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: DB, Groups: [sg.GroupId!] }));
  await h.ec2.send(new CreateTagsCommand({ Resources: [WEB], Tags: [{ Key: 'firebreak:incident', Value: 'INC-1' }] }));
  const key = await h.iam.send(new CreateAccessKeyCommand({ UserName: 'oncall-responder' }));
  await h.iam.send(
    new UpdateAccessKeyCommand({ UserName: 'oncall-responder', AccessKeyId: key.AccessKey!.AccessKeyId!, Status: 'Inactive' }),
  );
  h.sim.openConnection({ instanceId: WEB, remoteIp: '203.0.113.7', localPort: 22 });
  await h.ec2.send(new CreateTagsCommand({ Resources: [WEB], Tags: [{ Key: 'after-connection', Value: 'yes' }] }));
  return h;
}

const json = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;

describe('the change log', () => {
  it('replays to the world the calls made, and compaction writes that same world', async () => {
    const file = join(dir, 'world.json');
    const h = await changedWorld(file);
    const replayed = await loadWorld(file);
    expect(json(replayed)).toEqual(json(h.world));
    await h.sim.close();
    expect(readFileSync(changeLogPath(file), 'utf8').trim().split('\n')).toHaveLength(1);
    const compacted = parseWorld(readFileSync(file, 'utf8'), file);
    expect(json(compacted)).toEqual(json(replayed));
    expect(json(await loadWorld(file))).toEqual(json(replayed));
  });

  it('compacts every N changes on its own, and the world still reloads whole', async () => {
    const file = join(dir, 'world.json');
    const h = await changedWorld(file, 2);
    const lines = readFileSync(changeLogPath(file), 'utf8').trim().split('\n');
    expect(lines.length).toBeLessThanOrEqual(3); // the header and at most one change since the last compaction
    expect(groupNames(parseWorld(readFileSync(file, 'utf8'), file))).toContain('quarantine');
    expect(json(await loadWorld(file))).toEqual(json(h.world));
  });

  it('ignores a last line torn by a crash (its call never answered)', async () => {
    const file = join(dir, 'world.json');
    const h = await changedWorld(file);
    const before = json(h.world);
    appendFileSync(changeLogPath(file), '{"kind":"call","client":"EC2Client","operation":"CreateSecurityGroup","inp');
    expect(json(await loadWorld(file))).toEqual(before);
  });

  it('refuses a log damaged before its last line', async () => {
    const file = join(dir, 'world.json');
    await changedWorld(file);
    const log = changeLogPath(file);
    const lines = readFileSync(log, 'utf8').split('\n');
    lines[2] = lines[2]!.slice(0, 20);
    writeFileSync(log, lines.join('\n'));
    await expect(loadWorld(file)).rejects.toThrow(/failed to read change log .*: line 3 is damaged/);
  });

  it('does not apply a log twice when a crash came between compaction writing the world and replacing the log', async () => {
    const file = join(dir, 'world.json');
    const h = await changedWorld(file);
    copyFileSync(changeLogPath(file), join(dir, 'old-log'));
    await h.sim.close();
    copyFileSync(join(dir, 'old-log'), changeLogPath(file));
    const world = await loadWorld(file);
    expect(groupNames(world).filter((n) => n === 'quarantine')).toHaveLength(1);
    expect(json(world)).toEqual(json(h.world));
  });

  it('leaves a world without persistTo unwritten', async () => {
    const file = join(dir, 'world.json');
    const h = harness(demoWorld());
    await h.ec2.send(new CreateSecurityGroupCommand({ GroupName: 'x', Description: 'x', VpcId: VPC }));
    await h.sim.close();
    expect(() => readFileSync(file)).toThrow(/ENOENT/);
  });
});
