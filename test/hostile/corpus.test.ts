/**
 * Hostile and broken input, each entry run through the built CLI as a separate process: it must
 * end (the child is killed after 5 s, which fails the entry) with its documented exit code, a
 * message naming the file and the field, no stack trace, and no connection to AWS: the SDK's
 * endpoint is a local listener that counts connections, and the count must stay at zero.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, cliEnv, tempHome } from '../helpers/cli.js';

const F = join(import.meta.dirname, 'files');
const f = (name: string) => join(F, name);
const GEN = mkdtempSync(join(tmpdir(), 'fb-hostile-'));
const g = (name: string) => join(GEN, name);

let endpoint: Server;
let endpointUrl: string;
let connections = 0;

beforeAll(async () => {
  endpoint = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((r) => endpoint.listen(0, '127.0.0.1', () => r()));
  endpointUrl = `http://127.0.0.1:${(endpoint.address() as { port: number }).port}`;

  // Generated here rather than committed: too big, or too deep, to keep in the repository.
  writeFileSync(g('huge-playbook.yaml'), `id: huge\ntitle: huge\nstart: done\nsteps:\n  done: {type: end}\n# ${'x'.repeat(1100 * 1024)}\n`);
  writeFileSync(g('huge-alert.json'), JSON.stringify({ source: 'x', padding: 'x'.repeat(4 * 1024 * 1024 + 10) }));
  writeFileSync(
    g('deep-alert.json'),
    `{"source":"edr","id":"d-1","type":"T","severity":"HIGH","time":"2026-01-01T04:00:00Z","resources":{"instanceIds":["i-0abc123def4567890"]},"details":${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}}`,
  );
  writeFileSync(g('huge-scenario.yaml'), `# ${'x'.repeat(1100 * 1024)}\n`);
  writeFileSync(g('huge-world.yaml'), `# ${'x'.repeat(17 * 1024 * 1024)}\n`);
  writeFileSync(g('huge-config.yaml'), `# ${'x'.repeat(300 * 1024)}\n`);
  mkdirSync(g('a-directory.yaml'));
});

afterAll(() => new Promise<void>((r) => endpoint.close(() => r())));

function run(args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: cliEnv(tempHome(), {
        AWS_ENDPOINT_URL: endpointUrl,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      }),
      timeout: 5000,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.end('');
  });
}

const PB = 'ec2-instance-compromise';
const IID = 'instanceId=i-0abc123def4567890';

/** [what, args, exit code, message (must name the file and field), text that must not appear] */
const CORPUS: Array<[string, () => string[], number, RegExp, string?]> = [
  // Playbooks
  [
    'playbook over the size limit',
    () => ['validate', g('huge-playbook.yaml')],
    2,
    /huge-playbook\.yaml: it is \d+ bytes; the limit for a playbook file is 1048576/,
  ],
  [
    'playbook input pattern with nested quantifiers',
    () => ['run', f('redos-pattern.yaml'), '--auto', '-i', `name=${'a'.repeat(40)}!`],
    2,
    /redos-pattern\.yaml:7:14: inputs\.name\.pattern: .*nests quantifiers/,
  ],
  [
    'playbook path pointing at a file of another kind',
    () => ['run', f('not-a-playbook.yaml'), '--auto'],
    2,
    /not-a-playbook\.yaml:1:1: \(top level\): expected a map, got plain text/,
    'root:x',
  ],
  ['playbook that is an alias bomb', () => ['validate', f('alias-bomb.yaml')], 2, /alias-bomb\.yaml:1:1: .*alias/i],
  ['playbook path that is a directory', () => ['validate', g('a-directory.yaml')], 2, /a-directory\.yaml: it is a directory/],
  // A condition that recurses forever fails its step (a failed run, exit 1) in the simulated cloud.
  [
    'playbook condition that recurses without end',
    () => ['run', f('loop-when.yaml'), '--sim', '--auto'],
    1,
    /failed to evaluate steps\.check\.choices\.0\.when: the expression (nested too deep|ran longer)/,
  ],
  // Inputs
  ['input named __proto__', () => ['run', PB, '--auto', '-i', IID, '-i', '__proto__=x'], 2, /inputs\.__proto__: unknown input '__proto__'/],
  [
    'input named constructor',
    () => ['run', PB, '--auto', '-i', IID, '-i', 'constructor=x'],
    2,
    /inputs\.constructor: unknown input 'constructor'/,
  ],
  [
    'input value not matching its pattern',
    () => ['run', PB, '--auto', '-i', `instanceId=${'i-'.repeat(5000)}`],
    2,
    /inputs\.instanceId: .*does not match the pattern/,
  ],
  [
    '--wait-for-approval that is not a duration',
    () => ['run', PB, '--auto', '-i', IID, '--wait-for-approval', 'forever'],
    2,
    /--wait-for-approval: invalid duration 'forever'/,
  ],
  // Alerts
  [
    'alert nested 3,000 levels deep',
    () => ['trigger', '--event', g('deep-alert.json')],
    2,
    /failed to read .*deep-alert\.json: it nests deeper than 64 levels/,
  ],
  [
    'alert over the size limit',
    () => ['trigger', '--event', g('huge-alert.json')],
    2,
    /--event: failed to read alert .*huge-alert\.json: it is \d+ bytes; the limit for a alert file is 4194304/,
  ],
  [
    'alert that is not JSON',
    () => ['trigger', '--event', f('alert-not-json.json')],
    2,
    /failed to parse JSON in .*alert-not-json\.json: .*it is not JSON/,
    'root:x',
  ],
  [
    'alert file that does not exist',
    () => ['trigger', '--event', g('nope.json')],
    2,
    /--event: failed to read alert .*nope\.json: no such file/,
  ],
  // Routes
  [
    'route input mapping that recurses without end',
    () => ['trigger', '--event', f('alert-generic.json'), '--routes', f('routes-loop.yaml')],
    2,
    /routes-loop\.yaml:\d+:\d+: routes\[0\]\.inputs\.instanceId: .*(nested too deep|ran longer)/,
  ],
  [
    'route input mapping with a backtracking regex',
    () => ['trigger', '--event', f('alert-generic.json'), '--routes', f('routes-redos.yaml')],
    2,
    /routes-redos\.yaml:\d+:\d+: routes\[0\]\.inputs\.instanceId: .*nests quantifiers/,
  ],
  [
    'routing table that is not a map',
    () => ['trigger', '--event', f('alert-generic.json'), '--routes', f('routes-not-a-map.yaml')],
    2,
    /routes-not-a-map\.yaml:1:1: \(top level\): expected a map, got plain text/,
    'just a line',
  ],
  // Worlds
  [
    'world that is an alias bomb',
    () => ['run', PB, '--sim', f('world-alias-bomb.yaml'), '--auto', '-i', IID],
    2,
    /world-alias-bomb\.yaml:1:1: failed to parse world: .*alias/i,
  ],
  [
    'world over the size limit',
    () => ['run', PB, '--sim', g('huge-world.yaml'), '--auto', '-i', IID],
    2,
    /failed to read world .*huge-world\.yaml: it is \d+ bytes; the limit for a world file is 16777216/,
  ],
  // Scenarios and decisions
  [
    'scenario that is not a map',
    () => ['tabletop', f('scenario-not-a-map.yaml'), '--auto'],
    2,
    /scenario-not-a-map\.yaml:1:1: \(top level\): expected a map, got plain text/,
    'root:x',
  ],
  [
    'scenario over the size limit',
    () => ['tabletop', g('huge-scenario.yaml'), '--auto'],
    2,
    /failed to read scenario .*huge-scenario\.yaml: it is \d+ bytes/,
  ],
  [
    'decisions that are not YAML',
    () => ['tabletop', 'crypto-mining', '--decisions', f('decisions-broken.yaml')],
    2,
    /decisions-broken\.yaml:\d+:\d+: failed to parse YAML/,
  ],
  [
    'decisions for a step no playbook has',
    () => ['tabletop', 'crypto-mining', '--decisions', f('decisions-unknown-step.yaml')],
    2,
    /decisions-unknown-step\.yaml:2:3: steps\.no-such-step: no playbook of this scenario has a step 'no-such-step'/,
  ],
  [
    'decisions file that does not exist',
    () => ['tabletop', 'crypto-mining', '--decisions', g('nope.yaml')],
    2,
    /--decisions: failed to read decisions .*nope\.yaml: no such file/,
  ],
  // Config
  [
    'config that is not a map',
    () => ['run', PB, '--auto', '-i', IID, '--config', f('config-not-a-map.yaml')],
    2,
    /config-not-a-map\.yaml:1:1: \(top level\): expected a map, got plain text/,
    'root:x',
  ],
  [
    'config over the size limit',
    () => ['run', PB, '--auto', '-i', IID, '--config', g('huge-config.yaml')],
    2,
    /--config: failed to read config .*huge-config\.yaml: it is \d+ bytes/,
  ],
  // Run ids
  ['run id with a path in it', () => ['resume', '../../etc', '--auto'], 2, /\.\.\/\.\.\/etc/],
  ['report of a run id that does not exist', () => ['report', 'no-such-run'], 2, /no run 'no-such-run'/],
  ['approve of a run id that is a path', () => ['approve', '/etc/passwd', 'isolate'], 2, /\/etc\/passwd/],
];

describe('hostile input', () => {
  it.each(CORPUS)(
    '%s: ends with its exit code, names the file and field, no stack trace, no AWS call',
    async (_what, args, code, message, mustNotAppear) => {
      const before = connections;
      const r = await run(args());
      expect(r.signal, `still running after 5 s: ${r.stderr}`).toBeNull();
      expect(r.code, r.stderr).toBe(code);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at .*:\d+:\d+\)?\n/);
      if (mustNotAppear) expect(r.stderr + r.stdout).not.toContain(mustNotAppear);
      expect(connections - before).toBe(0);
    },
  );
});
