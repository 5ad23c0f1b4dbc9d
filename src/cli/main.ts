/**
 * The command table. Each command's module is imported only when that command runs, so
 * `firebreak --version` and `firebreak validate` never load the AWS SDK.
 * One catch at the top maps Firebreak's error classes to exit codes and one clear line.
 */
import { Command, CommanderError, Option } from 'commander';
import { parseDuration } from '../core/clock.js';
import { EXIT, FirebreakError, InputError } from '../core/errors.js';

import { VERSION } from '../core/version.js';
import { errorJson, usageErrorJson } from './json-error.js';

/** Hidden: start the guided flow even when stdin is not a terminal. */
export const GUIDED_FLAG = '--guided';

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** A duration option is checked when it is parsed, so a typo is exit 2 before anything starts. */
const duration = (flag: string) => (v: string) => {
  try {
    parseDuration(v);
  } catch {
    throw new InputError(`invalid duration '${v}': use e.g. 30s, 15m, 2h`, { field: flag });
  }
  return v;
};

function backendOptions(cmd: Command, where: 'chosen' | 'recorded' = 'chosen'): Command {
  // resume and undo act where the run acted (its run.started records it): --sim is accepted only to be refused with that reason.
  const sim = new Option('--sim [world]', 'use the simulated cloud (default: the demo world, worlds/demo.yaml)');
  return cmd
    .addOption(where === 'chosen' ? sim : sim.hideHelp())
    .option('--region <region>', 'AWS region (default: the SDK chain: AWS_REGION, profile)')
    .option('--profile <profile>', 'AWS shared-config profile')
    .option('--config <file>', 'guardrails and notifications (default: ./firebreak.config.yaml)');
}

/** Cross-account response through a role (run, resume, trigger). */
function roleOptions(cmd: Command): Command {
  return cmd
    .option('--role-arn <arn>', 'act through this role (STS AssumeRole with the --profile credentials; default: roleArn in the config)')
    .option('--external-id <id>', "the role's external id (default: externalId in the config)")
    .option('--mfa-serial <arn>', 'MFA device the role requires; the code is asked for at the terminal');
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
    .configureHelp({ showGlobalOptions: true })
    .exitOverride();

  homeOptions(roleOptions(backendOptions(program.command('run'))))
    .description('run a playbook: interactively (approve each step) or with --auto')
    .argument('<playbook>', 'playbook name (playbooks/<name>.yaml) or path')
    .option('-i, --input <name=value>', 'an input value (repeatable)', collect, [])
    .option('--auto', 'run unattended: steps with approval: auto run, others leave the run waiting (exit 3)')
    .option('--interactive', 'ask at prompts even when stdin is not a terminal (answers are read from stdin)')
    .option('--dry-run', 'plan every step and change nothing')
    .option('--incident <id>', 'incident id tagged on resources (default: the run id)')
    .option(
      '--wait-for-approval <duration>',
      'with --auto: stay alive this long (e.g. 30m) for firebreak approve',
      duration('--wait-for-approval'),
    )
    .option(
      '--accounts <ids>',
      "act in these accounts (12-digit ids, or OU/root ids for every active account under them; comma-separated) through the config's roleArn template",
      collect,
      [],
    )
    .option('--regions <names>', 'with --accounts: the Regions of each account (comma-separated; default: --region)', collect, [])
    .option('-v, --verbose', 'show every AWS call')
    .action(async (playbook, opts, cmd) => (await import('./commands/run.js')).run(playbook, { ...cmd.optsWithGlobals(), ...opts }));

  homeOptions(roleOptions(backendOptions(program.command('resume'), 'recorded')))
    .description('finish a run that stopped (crash, Ctrl-C, waiting for approval); completed steps are not applied again')
    .argument('<run>', 'run id')
    .option('--auto', 'continue unattended')
    .option('--interactive', 'ask at prompts even when stdin is not a terminal')
    .option('--wait-for-approval <duration>', 'with --auto: stay alive this long for firebreak approve', duration('--wait-for-approval'))
    .option('-v, --verbose', 'show every AWS call')
    .action(async (runId, opts, cmd) => (await import('./commands/run.js')).resume(runId, { ...cmd.optsWithGlobals(), ...opts }));

  homeOptions(program.command('approve'))
    .description('answer a step a run is waiting on (from any terminal)')
    .argument('<run>', 'run id')
    .argument('<step>', 'step id the run waits on')
    .option('--deny', 'do not apply the step (it is recorded as denied and the run goes on)')
    .option('--abort', 'abort the run')
    .option('--note <text>', 'why (kept in the journal)')
    .action(async (runId, step, opts, cmd) =>
      (await import('./commands/approve.js')).approve(runId, step, { ...cmd.optsWithGlobals(), ...opts }),
    );

  homeOptions(program.command('runs'))
    .description("list runs: id, playbook, status, started, actor; a run on Step Functions with its execution's status")
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
    .description('check playbook, routes, scenario, world, config and decisions files, each by its kind, without touching AWS')
    .argument('<files...>', 'YAML files (the kind is read from the schema line or the shape)')
    .action(async (files, opts, cmd) => (await import('./commands/validate.js')).validate(files, { ...cmd.optsWithGlobals(), ...opts }));

  homeOptions(program.command('demo'))
    .description('isolate a compromised instance in the simulated cloud, end to end, and verify the journal')
    .addOption(new Option('--interactive', 'approve each step yourself'))
    .action(async (opts, cmd) => (await import('./commands/demo.js')).demo({ ...cmd.optsWithGlobals(), ...opts }));

  // ── Commands below are registered here (so --help lists them) and implemented in their modules. ──
  homeOptions(backendOptions(program.command('undo'), 'recorded'))
    .description('undo completed steps of a run, newest first, through plan → approve → apply → verify')
    .argument('<run>', 'run id')
    .argument('[steps...]', 'only these steps (default: every step that recorded an undo)')
    .option('--auto', 'approve every undo step and apply it without prompting (the undo has no steps that wait for a person)')
    .option('--interactive', 'ask at prompts even when stdin is not a terminal')
    .option('--dry-run', 'plan the undo only')
    .option(
      '--state-machine <arn>',
      "a run on Step Functions: the deployment's undo state machine (default: <stack>-undo beside the run's)",
    )
    .action(async (runId, steps, opts, cmd) =>
      (await import('./commands/undo.js')).undo(runId, steps, { ...cmd.optsWithGlobals(), ...opts }),
    );

  program
    .command('iam-policy')
    .description(
      'print the least-privilege IAM policy playbooks need (with --routes: every playbook the routes start, and the notification topic)',
    )
    .argument('[playbooks...]', 'playbook names or paths')
    .option('--routes <file>', 'also every playbook this routing table starts, plus sns:Publish on notifications.snsTopicArn of the config')
    .option('--config <file>', 'with --routes: where the notification topic is read (default: ./firebreak.config.yaml)')
    .option('--with-undo', "also allow the steps' undo actions (what firebreak undo needs)")
    .action(async (playbooks, opts, cmd) =>
      (await import('./commands/iam-policy.js')).iamPolicy(playbooks, { ...cmd.optsWithGlobals(), ...opts }),
    );

  homeOptions(roleOptions(backendOptions(program.command('trigger'))))
    .description('start (or join) the run for one alert: GuardDuty, Security Hub, CloudWatch alarm via SNS, or generic JSON')
    .requiredOption('--event <file>', "the alert JSON ('-' for stdin)")
    .option('--routes <file>', 'routing table (default: ./routes.yaml)')
    .option('--wait-for-approval <duration>', 'stay alive this long for firebreak approve', duration('--wait-for-approval'))
    .action(async (opts, cmd) => (await import('./commands/trigger.js')).trigger({ ...cmd.optsWithGlobals(), ...opts }));

  homeOptions(backendOptions(program.command('serve')))
    .description('receive alerts over HTTP: SNS deliveries (POST /sns) and HMAC-signed JSON (POST /alerts)')
    .option('--host <host>', 'listen address', '127.0.0.1')
    .option('--port <port>', 'listen port', '8787')
    .option('--routes <file>', 'routing table (default: ./routes.yaml)')
    .option('--sns-topic <arn>', 'accept SNS deliveries from this topic (repeatable; * wildcards)', collect, [])
    .option('--max-runs <n>', 'runs in flight at once (others queue)', '4')
    .option(
      '--wait-for-approval <duration>',
      'keep a waiting run alive this long for firebreak approve (holds a slot)',
      duration('--wait-for-approval'),
    )
    .action(async (opts, cmd) => (await import('./commands/serve.js')).serve({ ...cmd.optsWithGlobals(), ...opts }));

  homeOptions(program.command('tabletop'))
    .description(
      'run a tabletop exercise: a scenario against the simulated cloud on a simulated clock, scored, with an after-action report',
    )
    .argument('<scenario>', 'scenario name (scenarios/<name>.yaml) or path')
    .option('--auto', "play the playbooks' automatic policy (a regression test of the playbooks)")
    .option('--seed <n>', 'random seed', '1')
    .option('--speed <x>', 'real-time pacing: simulated seconds per real second (default: as fast as possible)')
    .option('--decisions <file>', 'scripted player decisions (YAML)')
    .option('--interactive', 'ask the players at prompts even when stdin is not a terminal (answers are read from stdin)')
    .option('--out <dir>', 'where to write the report (default: the exercise run folder)')
    .action(async (scenario, opts, cmd) =>
      (await import('./commands/tabletop.js')).tabletop(scenario, { ...cmd.optsWithGlobals(), ...opts }),
    );

  program
    .command('docs')
    .description('write runbooks/<playbook>.md and runbooks/actions.md from the playbooks and the action registry')
    .option('--check', 'exit 1 if a generated file is stale (CI)')
    .action(async (opts, cmd) => (await import('./commands/docs.js')).docs({ ...cmd.optsWithGlobals(), ...opts }));

  program
    .command('schemas')
    .description('write the JSON Schemas of playbooks, routes, scenarios, worlds, config and decisions to schemas/')
    .option('--check', 'exit 1 if a schema file is stale (CI)')
    .action(async (opts, cmd) => (await import('./commands/schemas.js')).schemas({ ...cmd.optsWithGlobals(), ...opts }));

  program
    .command('list')
    .description('list playbooks with titles and controls')
    .option('--actions', 'list actions instead')
    .action(async (opts, cmd) => (await import('./commands/list.js')).list({ ...cmd.optsWithGlobals(), ...opts }));

  program
    .command('show')
    .description("print a playbook's runbook in the terminal")
    .argument('<playbook>', 'playbook name or path')
    .action(async (playbook, opts, cmd) => (await import('./commands/show.js')).show(playbook, { ...cmd.optsWithGlobals(), ...opts }));

  program
    .command('sfn')
    .description('print a playbook as an Amazon States Language definition (Step Functions)')
    .argument('<playbook>', 'playbook name or path')
    .option('--out <file>', 'write to a file instead of stdout')
    .option('--wait-for-approval <duration>', 'how long a step waits for firebreak approve (the task token timeout; default 24h)')
    .option('--worker-arn <arn>', 'the worker Lambda (default: a CloudFormation placeholder, WorkerFunctionArn)')
    .action(async (playbook, opts, cmd) => (await import('./commands/sfn.js')).sfn(playbook, { ...cmd.optsWithGlobals(), ...opts }));

  program
    .command('deploy-template')
    .description('write the CloudFormation template that deploys Firebreak on Step Functions for a routing table')
    .option('--routes <file>', 'routing table (default: ./routes.yaml)')
    .option('--out <dir>', 'write <dir>/template.yaml instead of printing it')
    .option('--wait-for-approval <duration>', 'how long a step waits for firebreak approve (default 24h)')
    .option('--responder-role', "instead: the member accounts' responder role (a StackSet template), trusted only by the security account")
    .option('--with-undo', "with --responder-role: also allow the steps' undo actions")
    .option('--config <file>', 'with --responder-role: where the notification topic is read (default: ./firebreak.config.yaml)')
    .action(async (opts, cmd) => (await import('./commands/deploy-template.js')).deployTemplate({ ...cmd.optsWithGlobals(), ...opts }));

  program
    .command('package')
    .description(
      'build the Lambda zip (router and worker bundled with esbuild, playbooks, templates, routes) for firebreak deploy-template',
    )
    .option('--out <dir>', 'where to write the zip (default: dist/lambda)')
    .action(async (opts, cmd) => (await import('./commands/package.js')).packageLambdas({ ...cmd.optsWithGlobals(), ...opts }));

  homeOptions(program.command('report'))
    .description('the incident timeline of a run, from its journal, as Markdown or self-contained HTML')
    .argument('<run>', 'run id')
    .option('--format <format>', 'md or html', 'md')
    .option('--out <file>', 'write to a file instead of stdout')
    .option('--allow-broken', 'report a run whose journal fails verification (marked NOT intact) instead of exiting 1')
    .action(async (runId, opts, cmd) => (await import('./commands/report.js')).report(runId, { ...cmd.optsWithGlobals(), ...opts }));

  addExamples(program);
  return program;
}

/** Two or three command lines per command, shown at the end of its --help. */
const EXAMPLES: Record<string, string[]> = {
  run: [
    'firebreak run ec2-instance-compromise --sim -i instanceId=i-0abc123def4567890',
    'firebreak run ec2-instance-compromise --auto --region eu-west-1 -i instanceId=i-0abc123def4567890',
    'firebreak run ./my-playbook.yaml --dry-run --profile prod -i instanceId=i-0abc123def4567890',
  ],
  resume: ['firebreak resume 20260301-021500-a1b2c3', 'firebreak resume 20260301-021500-a1b2c3 --auto --wait-for-approval 30m'],
  approve: [
    'firebreak approve 20260301-021500-a1b2c3 isolate',
    'firebreak approve 20260301-021500-a1b2c3 forensics --note "memory captured, ticket INC-42"',
    'firebreak approve 20260301-021500-a1b2c3 scale-in --deny --note "keep serving"',
  ],
  runs: ['firebreak runs', 'firebreak runs --json'],
  'audit show': ['firebreak audit show 20260301-021500-a1b2c3', 'firebreak audit show 20260301-021500-a1b2c3 --verbose'],
  'audit verify': ['firebreak audit verify 20260301-021500-a1b2c3', 'firebreak audit verify ./journal.jsonl --json'],
  validate: ['firebreak validate playbooks/*.yaml', 'firebreak validate routes.yaml scenarios/*.yaml firebreak.config.yaml --json'],
  demo: ['firebreak demo', 'firebreak demo --interactive'],
  undo: ['firebreak undo 20260301-021500-a1b2c3 --dry-run', 'firebreak undo 20260301-021500-a1b2c3 isolate'],
  'iam-policy': ['firebreak iam-policy ec2-instance-compromise', 'firebreak iam-policy --routes routes.yaml --with-undo'],
  trigger: ['firebreak trigger --event finding.json --sim', 'aws sns … | firebreak trigger --event - --routes routes.yaml'],
  serve: ['firebreak serve --port 8787 --sns-topic arn:aws:sns:us-east-1:111122223333:alerts', 'firebreak serve --sim --max-runs 2'],
  tabletop: [
    'firebreak tabletop crypto-mining',
    'firebreak tabletop ssh-brute-force --auto --seed 7',
    'firebreak tabletop crypto-mining --decisions decisions.yaml',
  ],
  docs: ['firebreak docs', 'firebreak docs --check'],
  schemas: ['firebreak schemas', 'firebreak schemas --check'],
  list: ['firebreak list', 'firebreak list --actions --json'],
  show: ['firebreak show ec2-instance-compromise', 'firebreak show ec2-instance-compromise | less -R'],
  sfn: ['firebreak sfn ec2-instance-compromise', 'firebreak sfn ec2-instance-compromise --out asl.json --wait-for-approval 2h'],
  'deploy-template': ['firebreak deploy-template --routes routes.yaml', 'firebreak deploy-template --out build/'],
  package: ['firebreak package', 'firebreak package --out build/lambda'],
  report: ['firebreak report 20260301-021500-a1b2c3', 'firebreak report 20260301-021500-a1b2c3 --format html --out incident.html'],
};

function addExamples(program: Command): void {
  const walk = (cmd: Command, prefix: string) => {
    for (const sub of cmd.commands) {
      const name = `${prefix}${sub.name()}`;
      const lines = EXAMPLES[name];
      if (lines) sub.addHelpText('after', `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}`);
      walk(sub, `${name} `);
    }
  };
  walk(program, '');
}

/**
 * The one place Firebreak ends the process: after the top-level catch, or at once on a second
 * Ctrl-C (the user insists) and when stdout's reader has gone.
 */
export function exitNow(code: number): never {
  process.exit(code);
}

/**
 * `firebreak show … | head` closes the pipe early: stop writing and exit 0, as `cat` does,
 * instead of dying with an EPIPE stack trace. Any other stream error is still raised.
 */
function exitQuietlyOnClosedPipe(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') exitNow(0);
    throw e;
  });
  // stderr carries progress and warnings, never the result: when its reader is gone
  // (`2>&1 >/dev/null | head -1`), the run must still finish, journal its end and release its
  // locks. Later writes go nowhere.
  process.stderr.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') return;
    throw e;
  });
}

/** Runs the CLI; returns the exit code (the launcher exits with it). */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  exitQuietlyOnClosedPipe();
  let code: number = EXIT.ok;
  try {
    const args = argv.slice(2);
    if (args.includes('--json') && args.every((a) => a === '--json' || a === '-V' || a === '--version') && args.length > 1) {
      process.stdout.write(`${JSON.stringify({ version: VERSION })}\n`);
      return exitNow(EXIT.ok);
    }
    // No arguments: a responder at a terminal gets the guided start; a script (no terminal) gets
    // the help rather than a prompt that would wait forever. `--guided` (hidden) forces the
    // guided start without a terminal, reading answers from stdin: tests drive it that way.
    if (args.length === 0 || (args.length === 1 && args[0] === GUIDED_FLAG)) {
      if (args.length === 1 || (process.stdin.isTTY && process.stdout.isTTY)) await (await import('./guided.js')).guided();
      else {
        program.outputHelp();
        process.stdout.write('\nAt a terminal, firebreak with no arguments starts a guided run.\n');
      }
      code = (process.exitCode as number | undefined) ?? EXIT.ok;
    } else {
      await program.parseAsync(argv);
      code = (process.exitCode as number | undefined) ?? EXIT.ok;
    }
  } catch (e) {
    code = report(e, argv.includes('--json'));
  }
  await new Promise<void>((r) => process.stdout.write('', () => r()));
  exitNow(code);
}

function report(e: unknown, json: boolean): number {
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.ok;
    if (json) process.stdout.write(`${JSON.stringify(usageErrorJson(e.message))}\n`);
    return EXIT.invalid; // commander already printed the message on stderr
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
    lines.push(`error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  }
  const hint = (e as { hint?: string }).hint;
  if (hint) lines.push(`  fix: ${hint}`);
  if (json) process.stdout.write(`${JSON.stringify(errorJson(e, code, lines[0]!.replace(/^error: /, ''), hint))}\n`);
  process.stderr.write(`${lines.join('\n')}\n`);
  return code;
}
