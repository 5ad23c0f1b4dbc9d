/**
 * The command table. Each command's module is imported only when that command runs, so
 * `firebreak --version` and `firebreak validate` never load the AWS SDK.
 * One catch at the top maps Firebreak's error classes to exit codes and one clear line.
 */
import { Command, CommanderError, Option } from 'commander';
import { EXIT, FirebreakError, InputError } from '../core/errors.js';

export const VERSION = '0.1.0';

const collect = (v: string, prev: string[] = []) => [...prev, v];

function backendOptions(cmd: Command): Command {
  return cmd
    .option('--sim [world]', 'use the simulated cloud (default: the demo world, worlds/demo.yaml)')
    .option('--region <region>', 'AWS region (default: the SDK chain: AWS_REGION, profile)')
    .option('--profile <profile>', 'AWS shared-config profile')
    .option('--config <file>', 'guardrails and notifications (default: ./firebreak.config.yaml)');
}

function homeOptions(cmd: Command): Command {
  return cmd.option('--runs-dir <dir>', 'where runs live (default: $FIREBREAK_HOME/runs or ./.firebreak/runs)');
}

export function buildProgram(): Command {
  const program = new Command('firebreak')
    .description('Incident-response playbooks for AWS: plan → approve → apply → verify, journaled.')
    .version(VERSION, '-V, --version')
    .option('--json', 'machine-readable output on stdout')
    .showHelpAfterError('(run firebreak --help for usage)')
    .exitOverride();

  homeOptions(backendOptions(program.command('run')))
    .description('run a playbook: interactively (approve each step) or with --auto')
    .argument('<playbook>', 'playbook name (playbooks/<name>.yaml) or path')
    .option('-i, --input <name=value>', 'an input value (repeatable)', collect, [])
    .option('--auto', 'run unattended: steps with approval: auto run, others leave the run waiting (exit 3)')
    .option('--interactive', 'ask at prompts even when stdin is not a terminal (answers are read from stdin)')
    .option('--dry-run', 'plan every step and change nothing')
    .option('--incident <id>', 'incident id tagged on resources (default: the run id)')
    .option('--wait-for-approval <duration>', 'with --auto: stay alive this long (e.g. 30m) for firebreak approve')
    .option('-v, --verbose', 'show every AWS call')
    .action(async (playbook, opts, cmd) => (await import('./commands/run.js')).run(playbook, { ...cmd.optsWithGlobals(), ...opts }));

  homeOptions(backendOptions(program.command('resume')))
    .description('finish a run that stopped (crash, Ctrl-C, waiting for approval); completed steps are not applied again')
    .argument('<run>', 'run id')
    .option('--auto', 'continue unattended')
    .option('--interactive', 'ask at prompts even when stdin is not a terminal')
    .option('--wait-for-approval <duration>', 'with --auto: stay alive this long for firebreak approve')
    .option('-v, --verbose', 'show every AWS call')
    .action(async (runId, opts, cmd) => (await import('./commands/run.js')).resume(runId, { ...cmd.optsWithGlobals(), ...opts }));

  homeOptions(program.command('approve'))
    .description('answer a step a run is waiting on (from any terminal)')
    .argument('<run>', 'run id')
    .argument('<step>', 'step id the run waits on')
    .option('--deny', 'do not apply the step (it is recorded as denied and the run goes on)')
    .option('--abort', 'abort the run')
    .option('--note <text>', 'why (kept in the journal)')
    .action(async (runId, step, opts, cmd) => (await import('./commands/approve.js')).approve(runId, step, { ...cmd.optsWithGlobals(), ...opts }));

  homeOptions(program.command('runs'))
    .description('list runs: id, playbook, status, started, actor')
    .action(async (opts, cmd) => (await import('./commands/runs.js')).runs({ ...cmd.optsWithGlobals(), ...opts }));

  const audit = program.command('audit').description('read and verify run journals');
  homeOptions(audit.command('show'))
    .description("print a run's journal as a timeline")
    .argument('<run>', 'run id')
    .option('-v, --verbose', 'include every AWS call')
    .action(async (runId, opts, cmd) => (await import('./commands/audit.js')).show(runId, { ...cmd.optsWithGlobals(), ...opts }));
  homeOptions(audit.command('verify'))
    .description("check a run's hash chain: exit 1 naming the first bad line on any edit, deletion or reordering")
    .argument('<run>', 'run id (or a path to a journal.jsonl)')
    .action(async (runId, opts, cmd) => (await import('./commands/audit.js')).verify(runId, { ...cmd.optsWithGlobals(), ...opts }));

  program
    .command('validate')
    .description('check playbook files (schema and rules) without touching AWS')
    .argument('<files...>', 'playbook files')
    .action(async (files, opts, cmd) => (await import('./commands/validate.js')).validate(files, { ...cmd.optsWithGlobals(), ...opts }));

  homeOptions(program.command('demo'))
    .description('isolate a compromised instance in the simulated cloud, end to end, and verify the journal')
    .addOption(new Option('--interactive', 'approve each step yourself'))
    .action(async (opts, cmd) => (await import('./commands/demo.js')).demo({ ...cmd.optsWithGlobals(), ...opts }));

  return program;
}

/** Runs the CLI; returns the exit code (the launcher exits with it). */
export async function main(argv: string[]): Promise<number> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const program = buildProgram();
  let code: number = EXIT.ok;
  try {
    await program.parseAsync(argv);
    code = (process.exitCode as number | undefined) ?? EXIT.ok;
  } catch (e) {
    code = report(e, argv.includes('--json'));
  }
  await new Promise<void>((r) => process.stdout.write('', () => r()));
  process.exit(code);
}

function report(e: unknown, json: boolean): number {
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.ok;
    return EXIT.invalid; // commander already printed the message
  }
  const lines: string[] = [];
  let code: number = EXIT.failed;
  if (e instanceof InputError) {
    lines.push(`error: ${e.line}`);
    for (const m of e.more.slice(0, 20)) lines.push(`error: ${m.line}`);
    if (e.more.length > 20) lines.push(`… and ${e.more.length - 20} more`);
    code = e.exitCode;
  } else if (e instanceof FirebreakError) {
    lines.push(`error: ${e.message}`);
    code = e.exitCode;
  } else if (e instanceof Error && e.name === 'CredentialsProviderError') {
    lines.push(`error: no AWS credentials: ${e.message}`);
    lines.push('  fix: configure credentials (aws configure, --profile NAME, or AWS_* variables), or try the simulated cloud with --sim');
  } else {
    lines.push(`error: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  }
  const hint = (e as { hint?: string }).hint;
  if (hint) lines.push(`  fix: ${hint}`);
  if (json) process.stdout.write(JSON.stringify({ error: { message: lines[0]!.replace(/^error: /, ''), code, ...(hint ? { hint } : {}) } }) + '\n');
  process.stderr.write(lines.join('\n') + '\n');
  return code;
}
