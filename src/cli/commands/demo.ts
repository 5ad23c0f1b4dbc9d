/**
 * `firebreak demo`: the first thing a new user runs. Contains the compromised web instance of the
 * demo world (simulated cloud), approving each step automatically unless --interactive, then
 * verifies the journal and shows what happened to the attacker's open connection.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyJournal } from '../../audit/verify.js';
import { autoHost } from '../../engine/auto-host.js';
import { startRun } from '../../engine/session.js';
import { loadPlaybook } from '../../playbook/load.js';
import { actionIds } from '../../actions/registry.js';
import { allSteps } from '../../playbook/compile.js';
import { formatEvent } from '../display.js';
import { interactiveHost } from '../interactive-host.js';
import { c, out } from '../output.js';
import { finish } from './run.js';

export const DEMO_PLAYBOOK = 'ec2-instance-compromise';
export const DEMO_INSTANCE = 'i-0abc123def4567890';

export async function demo(opts: { interactive?: boolean; runsDir?: string; json?: boolean }): Promise<void> {
  const print = (e: { type: string }) => { for (const l of formatEvent(e as never)) process.stderr.write(l + '\n'); };
  let runDir = '';
  const host = opts.interactive ? interactiveHost() : { ...autoHost({ get runDir() { return runDir; } } as never), onEvent: print };
  // The demo approves every step itself (it is the simulated cloud); a real --auto run follows the playbook's policies.
  const pb = loadPlaybook(join('playbooks', `${DEMO_PLAYBOOK}.yaml`), { actionIds });
  const overrides = opts.interactive ? undefined : Object.fromEntries(allSteps(pb.playbook).map((s) => [s.id, 'auto' as const]));
  if (!opts.interactive) out(c.dim('demo: simulated cloud (worlds/demo.yaml); every step is approved automatically — add --interactive to approve them yourself'));
  const outcome = await startRun({
    playbook: DEMO_PLAYBOOK,
    inputs: { instanceId: DEMO_INSTANCE },
    host,
    sim: true,
    ...(overrides ? { approvalOverrides: overrides } : {}),
    ...(opts.runsDir ? { runsDir: opts.runsDir } : {}),
    onJournal: (j) => j.onAppend((e: { type: string; [k: string]: unknown }) => { if (e.type === 'run.started') runDir = ''; host.onEvent?.(e); }),
  });
  runDir = outcome.runDir;
  finish(outcome, opts);
  if (opts.json) return;
  const v = verifyJournal(join(outcome.runDir, 'journal.jsonl'));
  out(v.ok ? `  audit: ${c.green('hash chain intact')} (${v.events} events)` : `  audit: ${c.red(`line ${v.line}: ${v.reason}`)}`);
  const world = JSON.parse(readFileSync(join(outcome.runDir, 'world.json'), 'utf8'));
  for (const conn of world.ec2?.connections ?? []) {
    out(`  attacker connection ${conn.remoteIp} → ${conn.instanceId}: ${conn.state === 'open' ? c.red('still open') : c.green('closed')}`);
  }
}
