/** The commands as a responder runs them (the built CLI): sfn, deploy-template, package. */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTemplate } from '../../src/deploy/cfn.js';
import { cli, tempHome } from '../helpers/cli.js';

describe('firebreak sfn / deploy-template / package', () => {
  it('sfn prints the definition on stdout, and --out writes the same bytes', async () => {
    const home = tempHome();
    const printed = await cli(['sfn', 'block-attack-source'], { home });
    expect(printed.code).toBe(0);
    const asl = JSON.parse(printed.stdout);
    expect(asl).toMatchObject({ StartAt: 'Start' });
    expect(asl.QueryLanguage).toBeUndefined();
    const file = join(mkdtempSync(join(tmpdir(), 'fb-sfn-')), 'block.asl.json');
    const written = await cli(
      [
        'sfn',
        'block-attack-source',
        '--out',
        file,
        '--wait-for-approval',
        '2h',
        '--worker-arn',
        'arn:aws:lambda:us-east-1:111122223333:function:w',
      ],
      { home },
    );
    expect(written.code).toBe(0);
    const again = JSON.parse(readFileSync(file, 'utf8'));
    expect(again.States.block).toMatchObject({
      TimeoutSeconds: 7200,
      Parameters: { FunctionName: 'arn:aws:lambda:us-east-1:111122223333:function:w' },
    });
  });

  it.each([
    [['sfn', 'no-such-playbook'], /unknown playbook 'no-such-playbook'/],
    [['sfn', 'block-attack-source', '--wait-for-approval', 'soon'], /failed to read --wait-for-approval/],
    [['deploy-template', '--routes', 'no-such-routes.yaml'], /routing table no-such-routes.yaml does not exist/],
  ])('%j is refused with exit 2 and no output', async (args, message) => {
    const r = await cli(args, { home: tempHome() });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
  });

  it('deploy-template --out writes template.yaml that reads back as CloudFormation', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fb-deploy-'));
    const r = await cli(['deploy-template', '--out', dir], { home: tempHome() });
    expect(r.code).toBe(0);
    expect(readdirSync(dir)).toEqual(['template.yaml']);
    const t = parseTemplate(readFileSync(join(dir, 'template.yaml'), 'utf8')) as {
      AWSTemplateFormatVersion: string;
      Resources: Record<string, unknown>;
    };
    expect(t.AWSTemplateFormatVersion).toBe('2010-09-09');
    expect(Object.keys(t.Resources)).toContain('StateMachineEc2InstanceCompromise');
  });

  it('package --json names the zip, its size and its S3 key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fb-pkg-'));
    const r = await cli(['package', '--out', dir, '--json'], { home: tempHome() });
    expect(r.code).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(readdirSync(dir)).toEqual([res.key]);
    expect(res.bytes).toBe(readFileSync(join(dir, res.key)).length);
    expect(res.entries).toContain('worker.mjs');
  }, 60_000);
});
