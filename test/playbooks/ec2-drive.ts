/** Drive a playbook run through the CLI as responders would: run --auto, then approve and resume until it ends. */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, journal, runIds, type CliResult } from '../helpers/cli.js';

export interface Driven {
  id: string;
  last: CliResult;
  /** Steps the run waited on, in order, with the answer given. */
  waited: Array<{ step: string; kind: string; answer: 'approve' | 'deny' }>;
}

/**
 * Start `args` (a `run … --auto` command) and answer every wait: `deny` for the steps named in
 * `deny`, approve (or confirm) the others. Returns once the run is no longer waiting.
 */
export async function driveToEnd(home: string, args: string[], deny: readonly string[] = []): Promise<Driven> {
  const before = new Set(runIds(home));
  let last = await cli(args, { home });
  const id = runIds(home).find((r) => !before.has(r));
  if (!id) throw new Error(`no run started: ${last.stderr}`);
  const waited: Driven['waited'] = [];
  for (let i = 0; last.code === 3; i++) {
    if (i > 20) throw new Error('the run kept waiting');
    const w = journal(home, id)
      .filter((e) => e.type === 'run.waiting')
      .at(-1)!;
    const answer = deny.includes(w.step) ? 'deny' : 'approve';
    waited.push({ step: w.step, kind: w.kind, answer });
    const approved = await cli(['approve', id, w.step, ...(answer === 'deny' ? ['--deny'] : [])], { home });
    if (approved.code !== 0) throw new Error(`approve ${w.step} failed: ${approved.stderr}`);
    last = await cli(['resume', id, '--auto'], { home });
  }
  return { id, last, waited };
}

/** The world a run ended with, copied to a file a new run can start from. */
export function worldAfter(home: string, runId: string, name = 'after.json'): string {
  const file = join(home, name);
  copyFileSync(join(home, 'runs', runId, 'world.json'), file);
  return file;
}
