/**
 * Paths of ec2-instance-compromise that the CLI tests do not reach, run in-process on a simulated
 * clock with a host that approves every step and confirms every manual task.
 */
import { chooseBackend } from '../../src/backend/backend.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SimClock } from '../../src/core/clock.js';
import type { RunHost } from '../../src/engine/host.js';
import { startRun } from '../../src/engine/session.js';
import { journal, tempHome } from '../helpers/cli.js';

const FIXTURE = 'test/fixtures/worlds/ec2-response.yaml';
const WEB1 = 'i-0b1000000000000b1';
const host: RunHost = {
  kind: 'auto',
  approve: async () => ({ decision: 'approve', by: 'test', via: 'script' }),
  manual: async () => ({ decision: 'approve', by: 'test', via: 'script' }),
};

describe('ec2-instance-compromise when Auto Scaling refuses', () => {
  it('still isolates and snapshots, then hands the detach to a person', async () => {
    const home = tempHome();
    const worldFile = join(home, 'world.yaml');
    writeFileSync(
      worldFile,
      `${readFileSync(FIXTURE, 'utf8')}\nfaults:\n  - { operation: 'autoscaling:DetachInstances', error: AccessDenied }\n`,
    );
    const clock = new SimClock('2026-03-01T12:00:00Z');
    const out = await (
      await startRun({
        run: { playbook: 'ec2-instance-compromise', inputs: { instanceId: WEB1 }, incident: 'IR-13' },
        backend: chooseBackend({ sim: worldFile, clock }),
        host,
        clock,
        home,
      })
    ).result;
    expect(out.status).toBe('succeeded');
    const events = journal(home, out.runId);
    expect(events.find((e) => e.type === 'step.failed' && e.step === 'detach')).toMatchObject({
      error: { code: 'AccessDenied' },
      handled: true,
    });
    for (const step of ['preserve', 'isolate', 'snapshot', 'raise-frequency'])
      expect(events.find((e) => e.type === 'step.completed' && e.step === step)?.status).toBe('applied');
    expect(events.find((e) => e.type === 'choice.taken' && e.step === 'scaling')?.next).toBe('detach-by-hand');
    expect(events.find((e) => e.type === 'manual.requested' && e.step === 'detach-by-hand')?.title).toBe(
      'Take the instance out of its Auto Scaling group by hand',
    );
    const w = JSON.parse(readFileSync(join(home, 'runs', out.runId, 'world.json'), 'utf8'));
    expect(w.autoscaling.groups[0].instances.map((i: any) => i.id)).toContain(WEB1);
  });
});
