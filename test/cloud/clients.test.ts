/**
 * The EC2 client: one `send`, two SDK clients behind it (one per EC2 throttling bucket), each
 * with the SDK's adaptive strategy and a rate limiter that never slows below its bucket's
 * documented refill rate. And SDK packages load on first use only.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Pluggable } from '@smithy/types';
import { createClients } from '../../src/cloud/clients.js';
import { EC2 } from '../../src/cloud/sdk.js';
import { createSimCloud } from '../../src/sim/index.js';
import { demoWorld } from '../sim/helpers.js';

/** A plugin that tells the clients apart: each client stack it is applied to gets a number. */
function stackTagger() {
  const calls: Array<{ command: string; client: number }> = [];
  let clients = 0;
  const plugin: Pluggable<any, any> = {
    applyToStack(stack) {
      const client = ++clients;
      stack.add((next, context) => async (args) => {
        calls.push({ command: String(context.commandName), client });
        return next(args);
      }, { step: 'initialize', name: `tag-client-${client}` });
    },
  };
  return { plugin, calls };
}

describe('createClients: EC2', () => {
  it('sends non-mutating calls through one client and mutating calls through another', async () => {
    const sim = createSimCloud(demoWorld());
    const tagger = stackTagger();
    const aws = createClients({ region: sim.region, credentials: sim.credentials, plugins: [tagger.plugin, sim.plugin] });
    await aws.ec2.send(new EC2.DescribeInstancesCommand({}));
    await aws.ec2.send(new EC2.CreateTagsCommand({ Resources: ['i-0abc123def4567890'], Tags: [{ Key: 'k', Value: 'v' }] }));
    await aws.ec2.send(new EC2.DescribeVpcsCommand({}));
    const [reads, writes, reads2] = tagger.calls;
    expect(tagger.calls.map((c) => c.command)).toEqual(['DescribeInstancesCommand', 'CreateTagsCommand', 'DescribeVpcsCommand']);
    expect(reads!.client).toBe(reads2!.client);
    expect(writes!.client).not.toBe(reads!.client);
    // The change went through to the cloud.
    expect(sim.world.ec2.instances.find((i) => i.id === 'i-0abc123def4567890')!.tags.k).toBe('v');
  });

  it('uses the SDK adaptive strategy whose limiter keeps the bucket refill rate (writes 5/s)', async () => {
    const aws = createClients({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' } });
    const strategy = (await aws.ec2.config.retryStrategy()) as unknown as { mode: string; rateLimiter: { minFillRate: number } };
    expect(strategy.mode).toBe('adaptive');
    expect(strategy.rateLimiter.minFillRate).toBe(5);
  });

  it('keeps the standard strategy when asked for it', async () => {
    const aws = createClients({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' }, retryMode: 'standard' });
    expect((await aws.ec2.config.retryStrategy()).mode).toBe('standard');
  });
});

describe('SDK packages load on first use', () => {
  it('loading every action loads no SDK package; creating the EC2 client loads client-ec2 only', () => {
    const script = [
      "const { actions } = await import('./dist/src/actions/registry.js');",
      "const loaded = () => Object.keys(require.cache).filter((k) => /node_modules\\/@aws-sdk\\/client-/.test(k)).map((k) => k.match(/client-[a-z0-9-]+/)[0]);",
      "const before = [...new Set(loaded())];",
      "const { createClients } = await import('./dist/src/cloud/clients.js');",
      "createClients({ region: 'us-east-1' }).ec2;",
      "console.log(JSON.stringify({ actions: actions.size, before, after: [...new Set(loaded())] }));",
    ].join('\n');
    const root = join(import.meta.dirname, '../..');
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', `import { createRequire } from 'node:module'; const require = createRequire(process.cwd() + '/x.js');\n${script}`], { cwd: root, encoding: 'utf8' });
    const r = JSON.parse(out);
    expect(r.actions).toBeGreaterThan(20);
    expect(r.before).toEqual([]);
    expect(r.after).toEqual(['client-ec2']);
  });
});
