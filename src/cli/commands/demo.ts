/**
 * `firebreak demo`: the first thing a new user runs. Contains the compromised web instance of the
 * demo world (simulated cloud), approving each step automatically unless --interactive, then
 * verifies the journal and shows what happened to the attacker's open connection.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { verifyJournal } from '../../audit/verify.js';
import { autoHost } from '../../engine/auto-host.js';
import type { RunHost } from '../../engine/host.js';
import { startRun } from '../../engine/session.js';
import { chooseBackend } from '../../backend/backend.js';
import { PLAYBOOK_DIRS } from '../../core/paths.js';
import { findPlaybook, loadPlaybook } from '../../playbook/load.js';
import { actionIds, actions } from '../../actions/registry.js';
import { allSteps } from '../../playbook/compile.js';
import { progressPrinter } from '../display.js';
import { interactiveHost } from '../interactive-host.js';
import { c, err, out } from '../output.js';
import { finish } from './run.js';

export const DEMO_PLAYBOOK = 'ec2-instance-compromise';
export const DEMO_INSTANCE = 'i-0abc123def4567890';

export async function demo(opts: { interactive?: boolean; runsDir?: string; json?: boolean }): Promise<void> {
  const progress = progressPrinter();
  const print = (e: { type: string }) => progress.onEvent(e);
  // Without --interactive the demo plays the responder too: it approves every step and confirms
  // each manual task (printing what a person would do). A real --auto run follows the playbook.
  const host: RunHost = opts.interactive
    ? interactiveHost()
    : {
        ...autoHost(),
        manual: async () => ({ decision: 'approve', by: 'demo (simulated responder)', via: 'demo' }),
        onEvent: print,
      };
  // The demo approves every step itself (it is the simulated cloud); a real --auto run follows the playbook's policies.
  const pb = loadPlaybook(resolve(findPlaybook(DEMO_PLAYBOOK, PLAYBOOK_DIRS)), { actionIds, actionInputs: (id) => actions.get(id)?.input });
  const overrides = opts.interactive ? undefined : Object.fromEntries(allSteps(pb.playbook).map((s) => [s.id, 'auto' as const]));
  // Commentary goes to stderr: with --json, stdout holds the result document alone.
  if (!opts.interactive)
    err(
      c.dim(
        'demo: simulated cloud (worlds/demo.yaml); every step is approved and every manual task confirmed automatically — add --interactive to decide yourself',
      ),
    );
  const handle = await startRun({
    run: { playbook: pb, inputs: { instanceId: DEMO_INSTANCE }, ...(overrides ? { approvalOverrides: overrides } : {}) },
    backend: chooseBackend({ sim: true }),
    host,
    ...(opts.runsDir ? { runsDir: opts.runsDir } : {}),
  });
  const outcome = await handle.result;
  finish(outcome, opts);
  if (opts.json) return;
  const v = verifyJournal(join(outcome.runDir, 'journal.jsonl'));
  out(v.ok ? `  audit: ${c.green('hash chain intact')} (${v.events} events)` : `  audit: ${c.red(`line ${v.line}: ${v.reason}`)}`);
  const world = JSON.parse(readFileSync(join(outcome.runDir, 'world.json'), 'utf8'));
  for (const conn of world.ec2?.connections ?? []) {
    out(`  attacker connection ${conn.remoteIp} → ${conn.instanceId}: ${conn.state === 'open' ? c.red('still open') : c.green('closed')}`);
  }
}
