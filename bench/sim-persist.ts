/**
 * What `createSimCloud(world, { persistTo })` costs: a fleet containment's mutating calls
 * (tag, swap the interface's groups, protect from termination, stop on shutdown, one describe)
 * against every instance of an N-instance fleet, 10 at a time, three ways:
 *   memory     — no persistence (what tabletop exercises use);
 *   change log — persistTo: each change appended and fdatasynced before the call answers;
 *   rewrite    — for comparison, the whole world rewritten durably after every change.
 *
 *   npm run build && node dist/bench/sim-persist.js [--instances 500] [--concurrency 10]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  CreateTagsCommand,
  DescribeInstancesCommand,
  EC2Client,
  ModifyInstanceAttributeCommand,
  ModifyNetworkInterfaceAttributeCommand,
} from '@aws-sdk/client-ec2';
import { writeFileDurablySync } from '../src/core/durable-write.js';
import { createSimCloud, parseWorld, type SimCloudOptions } from '../src/sim/index.js';
import { fleetWorld } from './lib/worlds.js';

const { values } = parseArgs({
  options: { instances: { type: 'string', default: '500' }, concurrency: { type: 'string', default: '10' } },
});
const instances = Number(values.instances);
const concurrency = Number(values.concurrency);
const dir = mkdtempSync(join(tmpdir(), 'fb-bench-persist-'));

async function contain(mode: 'memory' | 'change log' | 'rewrite') {
  const { file, instanceIds } = fleetWorld(dir, { instances, latencyMs: 0, rateLimits: {} });
  const world = parseWorld(readFileSync(file, 'utf8'), file);
  const worldFile = join(dir, `${mode.replace(' ', '-')}.json`);
  const opts: SimCloudOptions =
    mode === 'change log'
      ? { persistTo: worldFile }
      : mode === 'rewrite'
        ? { onChange: (w) => writeFileDurablySync(worldFile, `${JSON.stringify(w, null, 1)}\n`) }
        : {};
  const sim = createSimCloud(world, opts);
  const ec2 = new EC2Client({ region: sim.region, credentials: sim.credentials, maxAttempts: 1 });
  ec2.middlewareStack.use(sim.plugin);
  const isolation = world.ec2.securityGroups.find((g) => g.name === 'firebreak-isolation')!.id;
  const eniOf = new Map(world.ec2.networkInterfaces.map((e) => [e.attachment?.instanceId, e.id]));
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < instanceIds.length) {
      const id = instanceIds[next++]!;
      await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
      await ec2.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: 'firebreak:incident', Value: 'INC-BENCH' }] }));
      await ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eniOf.get(id)!, Groups: [isolation] }));
      await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id, DisableApiTermination: { Value: true } }));
      await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id, InstanceInitiatedShutdownBehavior: { Value: 'stop' } }));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  await sim.close();
  const ms = performance.now() - started;
  const mutating = sim.calls.filter((c) => !c.operation.startsWith('Describe')).length;
  return { mode, ms: Math.round(ms), calls: sim.calls.length, mutating, perMutatingCallMs: +(ms / mutating).toFixed(3) };
}

try {
  const rows = [];
  for (const mode of ['memory', 'change log', 'rewrite'] as const) rows.push(await contain(mode));
  console.log(`${instances} instances, ${concurrency} at a time`);
  console.table(rows);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
