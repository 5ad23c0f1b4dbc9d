/**
 * The guided start (`firebreak` with no arguments at a terminal), driven with typed answers
 * through the hidden `--guided` flag, as a responder would answer the prompts.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readAnswer, wrapWords } from '../../src/cli/guided.js';
import { cli, cliScripted as scripted, journal, mutatingCalls, runIds, tempHome, world } from '../helpers/cli.js';

/** A project folder with one small playbook of the tests' own. */
const PROJECT = join(import.meta.dirname, 'fixtures/project');

const INSTANCE = 'i-0abc123def4567890';

function groupNames(w: any, instanceId: string): string[] {
  return w.ec2.networkInterfaces
    .filter((n: any) => n.attachment?.instanceId === instanceId)
    .flatMap((n: any) => n.groups.map((g: string) => w.ec2.securityGroups.find((s: any) => s.id === g)?.name));
}

describe('firebreak with no arguments', () => {
  it('prints the help and waits on no prompt when it has no terminal', async () => {
    const home = tempHome();
    const r = await cli([], { home });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: firebreak/);
    expect(r.stdout).toMatch(/guided run/);
    expect(runIds(home)).toEqual([]);
  });
});

describe('guided start', () => {
  it('picks a playbook, refuses a bad input as it is typed, shows the whole plan, then runs it interactively after "yes"', async () => {
    const home = tempHome();
    const r = await scripted(['--guided'], {
      home,
      cwd: PROJECT,
      script: [
        { expect: /\? Which playbook\?/, answer: 'Contain' },
        { expect: /\? instanceId/, answer: 'i-NOT-AN-ID' },
        // The refusal is shown at the prompt; Ctrl-U clears the line before the right value.
        { expect: /'i-NOT-AN-ID' is not a valid instanceId \(The instance to contain\)/, answer: `\u0015${INSTANCE}` },
        { expect: /\? reason \(optional\)/, answer: 'tip-off from the SOC' },
        { expect: /\? Where should it run\?/, answer: 'Simulated' },
        { expect: /\? Run contain-instance against the simulated cloud now\?/, answer: 'y' },
        { expect: /Apply 1 change of step 'preserve'/, answer: 'y' },
        { expect: /Apply 5 changes of step 'isolate'/, answer: 'y' },
        { expect: /Is this task done\?/, answer: 'y' },
      ],
    });
    expect(r.unanswered, r.stdout + r.stderr).toBe(0);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    // The whole plan (every step, from the dry run) was shown before the question.
    const plan = r.stderr.slice(r.stderr.indexOf('The whole plan'), r.stderr.indexOf('■ run planned'));
    expect(plan).toContain('DisableApiTermination: false → true');
    expect(plan).toContain('security groups: sg-0123456789abcdef0 → firebreak-isolation (new)');
    expect(plan).toContain('manual task: Collect volatile evidence');
    // Two runs: the dry run (planned, nothing changed) and the real one.
    const [planId, runId] = runIds(home);
    expect(journal(home, planId!).at(-1)).toMatchObject({ type: 'run.ended', status: 'planned' });
    expect(mutatingCalls(journal(home, planId!))).toEqual([]);
    const events = journal(home, runId!);
    expect(events[0]).toMatchObject({
      type: 'run.started',
      mode: 'interactive',
      inputs: { instanceId: INSTANCE, reason: 'tip-off from the SOC' },
      backend: 'sim',
    });
    expect(journal(home, planId!)[0]).toMatchObject({
      type: 'run.started',
      dryRun: true,
      inputs: { instanceId: INSTANCE, reason: 'tip-off from the SOC' },
    });
    expect(events.at(-1)).toMatchObject({ type: 'run.ended', status: 'succeeded' });
    const w = world(home, runId!);
    expect(w.ec2.instances.find((i: any) => i.id === INSTANCE).disableApiTermination).toBe(true);
    expect(new Set(groupNames(w, INSTANCE))).toEqual(new Set(['firebreak-isolation']));
  });

  it('changes nothing when the confirmation is left at its default (No)', async () => {
    const home = tempHome();
    const r = await scripted(['--guided'], {
      home,
      cwd: PROJECT,
      script: [
        { expect: /\? Which playbook\?/, answer: '' },
        { expect: /\? instanceId/, answer: INSTANCE },
        { expect: /\? reason \(optional\)/, answer: '' },
        { expect: /\? Where should it run\?/, answer: '' },
        { expect: /\? Run contain-instance .* now\?/, answer: '' },
      ],
    });
    expect(r.unanswered, r.stdout + r.stderr).toBe(0);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Nothing was changed/);
    expect(r.stdout).toMatch(/firebreak run contain-instance --input 'instanceId=i-0abc123def4567890' --sim/);
    const ids = runIds(home);
    expect(ids.length).toBe(1); // only the dry run
    expect(journal(home, ids[0]!).at(-1)).toMatchObject({ type: 'run.ended', status: 'planned' });
    expect(mutatingCalls(journal(home, ids[0]!))).toEqual([]);
  });
});

describe('guided prompts in words', () => {
  const decl = {
    type: 'string',
    pattern: '^i-[0-9a-f]{8,17}$',
    required: true,
    description: 'The instance to contain.',
    examples: ['i-0abc123def4567890'],
  } as const;

  it('explains a bad value with the description and an example, not the regular expression', () => {
    expect(readAnswer('instanceId', decl as never, 'i-NOPE')).toEqual({
      problem: "'i-NOPE' is not a valid instanceId (The instance to contain): it should look like i-0abc123def4567890",
    });
    expect(readAnswer('instanceId', decl as never, 'i-0abc123def4567890')).toEqual({ value: 'i-0abc123def4567890' });
  });

  it('wraps a long description at spaces, never inside a word', () => {
    const text = 'Security groups to revoke ingress from; each must belong to the VPC of the instance being contained right now.';
    const lines = wrapWords(text, 40);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(40);
    expect(lines.map((l) => l.trim()).join(' ')).toBe(text);
  });
});
