/**
 * The run API: a caller says what, where, who decides and who watches; the engine drives the
 * watchers and hands back the run's id and folder at once. An alert's playbook is loaded once,
 * by its route.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { actionIds } from '../../src/actions/registry.js';
import { Journal, type JournalEvent } from '../../src/audit/journal.js';
import { allSteps } from '../../src/playbook/compile.js';
import { chooseBackend } from '../../src/backend/backend.js';
import { autoHost } from '../../src/engine/auto-host.js';
import type { RunHost } from '../../src/engine/host.js';
import { startRun } from '../../src/engine/session.js';
import * as load from '../../src/playbook/load.js';
import { handleAlert } from '../../src/triggers/dispatch.js';
import { parseAlertText } from '../../src/triggers/parse.js';
import { loadRoutes } from '../../src/triggers/routes.js';
import { TriggerLog } from '../../src/triggers/trigger-log.js';
import { tempHome } from '../helpers/cli.js';

vi.mock('../../src/playbook/load.js', async (original) => {
  const m = await original<typeof import('../../src/playbook/load.js')>();
  return { ...m, loadPlaybook: vi.fn(m.loadPlaybook) };
});

const INSTANCE = 'i-0abc123def4567890';
const DEMO = load.loadPlaybook(load.findPlaybook('ec2-instance-compromise', ['playbooks']), { actionIds });
const ALL_AUTO = { approvalOverrides: Object.fromEntries(allSteps(DEMO.playbook).map((s) => [s.id, 'auto' as const])) };

describe('run API', () => {
  it('host.onEvent and every observer receive each event the engine writes, in order', async () => {
    const home = tempHome();
    const seen: JournalEvent[] = [];
    const watched: JournalEvent[] = [];
    const host: RunHost = {
      ...autoHost(),
      manual: async () => ({ decision: 'approve', by: 'test', via: 'script' }),
      onEvent: (e) => void seen.push(e as JournalEvent),
    };
    const handle = await startRun({
      run: { playbook: 'ec2-instance-compromise', inputs: { instanceId: INSTANCE }, ...ALL_AUTO },
      backend: chooseBackend({ sim: true }),
      host,
      observers: [(e) => void watched.push(e)],
      home,
    });
    const out = await handle.result;
    expect(out.status).toBe('succeeded');
    const written = Journal.read(join(handle.runDir, 'journal.jsonl'));
    expect(written.length).toBeGreaterThan(20);
    expect(seen.map((e) => `${e.seq} ${e.type}`)).toEqual(written.map((e) => `${e.seq} ${e.type}`));
    expect(watched.map((e) => `${e.seq} ${e.type}`)).toEqual(written.map((e) => `${e.seq} ${e.type}`));
  });

  it("startRun's handle names the run and its folder before the run finishes", async () => {
    const home = tempHome();
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
    const handle = await startRun({
      run: { playbook: 'ec2-instance-compromise', inputs: { instanceId: INSTANCE }, runId: 'handle-first' },
      backend: chooseBackend({ sim: true }),
      host,
      home,
    });
    let settled = false;
    void handle.result.finally(() => (settled = true));
    expect(handle.runId).toBe('handle-first');
    expect(handle.runDir).toBe(join(home, 'runs', 'handle-first'));
    expect(existsSync(handle.runDir)).toBe(true);
    await vi.waitFor(() => expect(asked).toBe(true));
    expect(settled).toBe(false);
    // The journal already holds the run while its first decision is pending.
    expect(Journal.read(join(handle.runDir, 'journal.jsonl')).map((e) => e.type)).toContain('approval.requested');
    release();
    const out = await handle.result;
    expect(out).toMatchObject({ runId: 'handle-first', runDir: handle.runDir, status: 'aborted' });
  });

  it("an alert's playbook is loaded once, by its route, and run as loaded", async () => {
    const home = tempHome();
    const loads = vi.mocked(load.loadPlaybook);
    const table = loadRoutes('routes.yaml');
    const atRoutes = loads.mock.calls.length;
    expect(atRoutes).toBeGreaterThan(0);
    const [alert] = parseAlertText(readFileSync('test/fixtures/alerts/guardduty-bitcoin-dns.eventbridge.json', 'utf8'));
    const outcome = await handleAlert(alert!, {
      home,
      table,
      log: new TriggerLog(join(home, 'triggers.jsonl')),
      via: 'cli',
      sim: true,
      print: () => {},
      warn: () => {},
    });
    expect(outcome.kind).toBe('started');
    expect(loads.mock.calls.length).toBe(atRoutes);
    const started = Journal.read(join(home, 'runs', alert!.runId, 'journal.jsonl'))[0]!;
    expect(started).toMatchObject({ type: 'run.started', playbook: { id: 'ec2-instance-compromise' } });
  });
});
