/**
 * Guided start: `firebreak` with no arguments at a terminal. For the responder who does not
 * remember the flags at 3 a.m.: pick a playbook, answer its inputs (each checked when Enter is pressed),
 * choose the simulated cloud or AWS (showing the profile and region that would be used), read the
 * whole plan from a dry run, then confirm — "no" is the default — and run it interactively, where
 * every step that changes AWS asks once more.
 */
import { join, resolve } from 'node:path';
import { actions, actionIds } from '../actions/registry.js';
import { createClients } from '../cloud/clients.js';
import { InputError } from '../core/errors.js';
import { controlInfo } from '../docs/controls.js';
import { PLAYBOOKS_DIR } from '../docs/generate.js';
import { demoWorldFile } from '../docs/paths.js';
import { autoHost } from '../engine/auto-host.js';
import { startRun } from '../engine/session.js';
import { chooseBackend } from '../backend/backend.js';
import { checkValue, compilePattern, parseInputArgs } from '../playbook/inputs.js';
import { findPlaybook, listPlaybooks, loadPlaybook } from '../playbook/load.js';
import type { InputDeclT, LoadedPlaybook } from '../playbook/schema.js';
import { run } from './commands/run.js';
import { progressPrinter } from './display.js';
import { c, err, out, short } from './output.js';
import { ask, choose, pick } from './prompts.js';

export interface GuidedOptions {
  runsDir?: string;
}

/** What the typed text means for this input: its value, or why it is refused (shown at the prompt). */
export function readAnswer(name: string, decl: InputDeclT, raw: string): { value?: unknown; problem?: string; omitted?: true } {
  if (raw.trim() === '') {
    if (decl.required) return { problem: `${name} is required${decl.description ? `: ${decl.description}` : ''}` };
    return { omitted: true };
  }
  let value: unknown;
  try {
    value = parseInputArgs([`${name}=${raw.trim()}`], { [name]: decl })[name];
  } catch (e) {
    if (e instanceof InputError) return { problem: e.message.replace(/^failed to read input '[^']+': /, '') };
    throw e;
  }
  const pattern = compilePattern(decl.pattern);
  if ('error' in pattern) return { problem: `the playbook's pattern for ${name} is invalid: ${pattern.error}` };
  const problem = checkValue(value, decl, pattern.value);
  if (!problem) return { value };
  // A person is told what a good value looks like, not shown the playbook's regular expression.
  const bad = /'([^']*)' does not match the pattern/.exec(problem);
  return { problem: bad ? notLike(name, decl, bad[1]!) : problem };
}

function notLike(name: string, decl: InputDeclT, value: string): string {
  const like = decl.examples?.length ? `: it should look like ${decl.examples.slice(0, 2).map(String).join(' or ')}` : '';
  const what = decl.description ? ` (${decl.description.trim().replace(/\.$/, '')})` : '';
  return `'${value}' is not a valid ${name}${what}${like}`;
}

/** What kind of answer an input takes, in words. */
const TYPE_WORDS: Record<string, string> = { number: 'a number', boolean: 'true or false', 'string[]': 'one or more, comma-separated' };

/** Words wrapped at spaces to the terminal's width, so a prompt's text never breaks mid-word. */
export function wrapWords(text: string, width: number, indent = '  '): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(indent + line);
  return lines;
}

/** An input's value as `run --input name=value` takes it back. */
export function inputArg(name: string, value: unknown): string {
  if (Array.isArray(value)) return `${name}=${JSON.stringify(value)}`;
  return `${name}=${String(value)}`;
}

function playbookChoices(): Array<{ loaded: LoadedPlaybook; name: string }> {
  const dir = PLAYBOOKS_DIR;
  const found: Array<{ loaded: LoadedPlaybook; name: string }> = [];
  for (const name of listPlaybooks([dir])) {
    try {
      found.push({
        name,
        loaded: loadPlaybook(resolve(findPlaybook(name, [dir])), { actionIds, actionInputs: (id) => actions.get(id)?.input }),
      });
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      err(c.yellow(`skipping ${join(dir, name)}: ${e.line}`));
    }
  }
  return found;
}

async function askInputs(loaded: LoadedPlaybook): Promise<Record<string, unknown>> {
  const values: Record<string, unknown> = {};
  for (const [name, decl] of Object.entries(loaded.playbook.inputs)) {
    const hints = [TYPE_WORDS[decl.type ?? 'string'] ?? '', decl.examples?.length ? `e.g. ${String(decl.examples[0])}` : ''].filter(
      Boolean,
    );
    // The description goes above the prompt, wrapped at spaces; the prompt line stays short.
    if (decl.description) for (const l of wrapWords(decl.description, Math.max(40, (process.stderr.columns ?? 80) - 1))) err(c.dim(l));
    const message = `${name}${decl.required ? '' : ' (optional)'}${hints.length ? ` (${hints.join('; ')})` : ''}`;
    const dflt = decl.default === undefined ? undefined : Array.isArray(decl.default) ? decl.default.join(',') : String(decl.default);
    const raw = await ask(message, {
      ...(dflt !== undefined && dflt !== '' ? { default: dflt } : {}),
      validate: (v) => readAnswer(name, decl, v).problem ?? true,
    });
    const answer = readAnswer(name, decl, raw);
    if (answer.value !== undefined) values[name] = answer.value;
  }
  return values;
}

/** The profile and region the SDK would use for AWS, as its own configuration chain resolves them. */
async function awsTarget(): Promise<{ profile: string; region?: string; problem?: string }> {
  const profile = process.env.AWS_PROFILE || 'default';
  try {
    const region = await createClients({}).sts.config.region();
    return { profile, region };
  } catch (e) {
    // Shown to the responder, who then types a region: the SDK found none in env or profile.
    return { profile, problem: (e as Error).message };
  }
}

export async function guided(opts: GuidedOptions = {}): Promise<void> {
  err(c.bold('Firebreak — guided start') + c.dim('   (Ctrl-C to leave; nothing changes until you confirm)'));
  const playbooks = playbookChoices();
  if (playbooks.length === 0)
    throw new InputError(`no playbooks in ./${PLAYBOOKS_DIR}`, {
      hint: 'run firebreak from the folder that holds playbooks/, or firebreak run PATH/TO/playbook.yaml',
    });
  const chosen = await pick(
    'Which playbook?',
    playbooks.map(({ loaded, name }) => ({
      name: `${loaded.playbook.title}  (${loaded.playbook.id})`,
      value: name,
      description: [
        loaded.playbook.controls.map((id) => `${id} ${controlInfo(id).title}`).join(' · '),
        short(loaded.playbook.description?.trim().split('\n').join(' ') ?? '', 200),
      ]
        .filter(Boolean)
        .join('\n'),
    })),
  );
  const loaded = playbooks.find((p) => p.name === chosen)!.loaded;

  const inputs = await askInputs(loaded);

  const target = await awsTarget();
  const where = await pick('Where should it run?', [
    { name: `Simulated cloud — the demo world (worlds/demo.yaml): nothing real changes`, value: 'sim' },
    {
      name: `AWS — profile ${target.profile}, region ${target.region ?? 'not set'}`,
      value: 'aws',
      description: target.problem
        ? `The SDK found no region (${target.problem}); you will be asked for one.`
        : 'Credentials come from the SDK chain: AWS_PROFILE, AWS_* variables, SSO, instance role.',
    },
  ]);
  let region = target.region;
  if (where === 'aws' && !region) {
    region = await ask('AWS region (e.g. us-east-1)', {
      validate: (v) => (/^[a-z]{2}(-[a-z]+)+-\d+$/.test(v.trim()) ? true : 'a region such as us-east-1 or eu-west-2'),
    });
    region = region.trim();
  }
  const flags =
    where === 'sim'
      ? { sim: demoWorldFile() }
      : { ...(region ? { region } : {}), ...(process.env.AWS_PROFILE ? { profile: process.env.AWS_PROFILE } : {}) };
  const home = opts.runsDir ? { runsDir: opts.runsDir } : {};

  err('');
  err(c.bold('The whole plan') + c.dim(' (a dry run: reads only, changes nothing)'));
  const progress = progressPrinter();
  const plan = await (
    await startRun({
      run: { playbook: loaded, inputs, dryRun: true },
      backend: chooseBackend(flags),
      host: autoHost(),
      observers: [(e) => progress.onEvent(e)],
      ...home,
    })
  ).result;
  progress.dispose();
  if (plan.status !== 'planned') {
    err('');
    err(c.red(`The dry run did not finish (${plan.status}): ${plan.error ? `${plan.error.code}: ${plan.error.message}` : 'see above'}`));
    if (plan.error?.hint) err(`  fix: ${plan.error.hint}`);
    err(`  journal: firebreak audit show ${plan.runId}`);
    process.exitCode = 1;
    return;
  }
  const args = Object.entries(inputs).map(([n, v]) => inputArg(n, v));
  const command = [
    'firebreak run',
    loaded.playbook.id,
    ...args.map((a) => `--input '${a.replace(/'/g, "'\\''")}'`),
    ...(where === 'sim' ? ['--sim'] : region ? [`--region ${region}`] : []),
  ].join(' ');
  err('');
  const go = await choose(
    `Run ${loaded.playbook.id} against ${where === 'sim' ? 'the simulated cloud' : `AWS (${target.profile}, ${region})`} now? Each step that changes it asks again first`,
    [
      { key: 'y', name: 'yes, start the run', value: 'yes' },
      { key: 'n', name: 'no, change nothing', value: 'no' },
    ],
    { default: 'n' },
  );
  if (go !== 'yes') {
    out('Nothing was changed.');
    out(`To run it later: ${command}`);
    return;
  }
  out(c.dim(`(the same as: ${command})`));
  await run(loaded.file, { input: args, interactive: true, ...flags, ...(opts.runsDir ? { runsDir: opts.runsDir } : {}) });
}
