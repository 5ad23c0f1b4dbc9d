/**
 * Target locks between runs: a dry run changes nothing and so holds nothing; a lock is keyed by
 * where the resource lives (account, region, and for a simulated cloud the world), so the same
 * instance id in two simulated worlds is two resources.
 */
import { copyFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { Journal } from '../../src/audit/journal.js';
import { chooseBackend } from '../../src/backend/backend.js';
import { DEMO_WORLD } from '../../src/core/paths.js';
import type { RunHost } from '../../src/engine/host.js';
import { startRun } from '../../src/engine/session.js';
import { tempHome } from '../helpers/cli.js';

const INSTANCE = 'i-0abc123def4567890';

/** A host that holds the first approval it is asked for until released (the run keeps its locks meanwhile). */
function holdingHost() {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let asked = false;
  const host: RunHost = {
    kind: 'auto',
    approve: async () => {
      asked = true;
      await gate;
      return { decision: 'abort', by: 'test', via: 'script' };
    },
    manual: async () => ({ decision: 'abort', by: 'test', via: 'script' }),
  };
  return { host, release, asked: () => asked };
}

const abortAll: RunHost = {
  kind: 'auto',
  approve: async () => ({ decision: 'abort', by: 'test', via: 'script' }),
  manual: async () => ({ decision: 'abort', by: 'test', via: 'script' }),
};

const run = (home: string, sim: string | true, host: RunHost, dryRun = false) =>
  startRun({
    run: { playbook: 'ec2-instance-compromise', inputs: { instanceId: INSTANCE }, dryRun },
    backend: chooseBackend({ sim }),
    host,
    home,
  });

const lockFiles = (home: string) =>
  readdirSync(join(home, 'locks'), { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.lock'));

describe('target locks', () => {
  it('a dry run takes no lock: it plans while another run holds the instance, and is listed as planned', async () => {
    const home = tempHome();
    const holder = holdingHost();
    const first = await run(home, true, holder.host);
    await vi.waitFor(() => expect(holder.asked()).toBe(true));
    expect(lockFiles(home)).toEqual([
      expect.stringMatching(/^sim-[0-9a-f]{12}\/instance-111122223333_us-east-1_i-0abc123def4567890-[0-9a-f]{12}\.lock$/),
    ]);

    // A real run on the same world is refused the instance: the lock is held.
    const blocked = await (await run(home, true, abortAll)).result;
    expect(blocked.status).toBe('failed');
    expect(blocked.error?.message).toMatch(/instance (\d{12}\/[a-z0-9-]+\/)?i-0abc123def4567890 is locked by run/);

    const dry = await run(home, true, abortAll, true);
    const out = await dry.result;
    expect(out.status).toBe('planned');
    const events = Journal.read(join(dry.runDir, 'journal.jsonl'));
    expect(events.filter((e) => e.type === 'step.failed' && /locked/.test(e.error.message))).toEqual([]);
    expect(events.filter((e) => e.type === 'step.completed' && e.step === 'isolate')).toMatchObject([{ status: 'planned' }]);
    expect(events.at(-1)).toMatchObject({ type: 'run.ended', status: 'planned' });
    // It did not take (or release) the holder's lock.
    expect(lockFiles(home)).toHaveLength(1);

    holder.release();
    expect((await first.result).status).toBe('aborted');
    expect(lockFiles(home)).toEqual([]);
  });

  it('the same instance id in another simulated world is another resource: runs there do not block each other', async () => {
    const home = tempHome();
    const otherWorld = join(home, 'other-world.yaml');
    copyFileSync(DEMO_WORLD, otherWorld);
    const a = holdingHost();
    const b = holdingHost();
    const first = await run(home, true, a.host);
    await vi.waitFor(() => expect(a.asked()).toBe(true));
    const second = await run(home, otherWorld, b.host);
    // Both reach their first approval, each holding the instance of its own world.
    await vi.waitFor(() => expect(b.asked()).toBe(true));
    expect(lockFiles(home)).toHaveLength(2);
    a.release();
    b.release();
    expect([(await first.result).status, (await second.result).status]).toEqual(['aborted', 'aborted']);
  });
});
