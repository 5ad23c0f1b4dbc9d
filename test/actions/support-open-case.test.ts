/** support.open-case and support.prepare-abuse-report: the case text, the Support API, and the manual path without it. */
import { chooseBackend } from '../../src/backend/backend.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ManualTaskRequired } from '../../src/actions/define.js';
import openCase from '../../src/actions/support/open-case.js';
import prepareAbuseReport from '../../src/actions/support/prepare-abuse-report.js';
import { autoHost } from '../../src/engine/auto-host.js';
import { startRun } from '../../src/engine/session.js';
import { bench, INSTANCE, LEAKED_KEY, rejection, testWorld, WORLD_YAML } from './iam-harness.js';
import { parse } from 'yaml';

const FACTS = {
  inputs: { accessKeyId: LEAKED_KEY },
  steps: {
    disableKey: { status: 'applied', output: { accessKeyId: LEAKED_KEY, userArn: 'arn:aws:iam::111122223333:user/deploy-bot' } },
    isolate: { status: 'already-done', output: { instanceId: INSTANCE } },
    quarantine: { status: 'skipped' },
  },
};
const INPUT = { summary: 'leaked access key of deploy-bot', severity: 'urgent' };

describe('support.open-case', () => {
  it('opens one case whose text carries the run facts; a rerun finds it by subject and sends nothing', async () => {
    const b = bench(undefined, { facts: FACTS });
    const plan = await b.plan(openCase, INPUT);
    expect(plan.facts.subject).toBe('Security incident INC-42: leaked access key of deploy-bot');
    expect(plan.facts.body).toContain(`- ${LEAKED_KEY}`);
    expect(plan.facts.body).toContain(`- ${INSTANCE}`);
    expect(plan.facts.body).toContain('- arn:aws:iam::111122223333:user/deploy-bot');
    expect(plan.facts.body).toContain('- disableKey: applied');
    expect(plan.facts.body).toContain('- isolate: already-done');
    expect(plan.facts.body).not.toContain('quarantine: skipped');
    expect(plan.facts.body).toContain('run 20260101-000000-a1b2c3');
    expect(b.writesSince(0)).toEqual([]);

    const from = b.sim.calls.length;
    const output = await b.apply(openCase, INPUT, plan);
    expect(b.writesSince(from)).toEqual(['support:CreateCase']);
    const cases = (b.world as any).support.cases;
    expect(cases).toHaveLength(1);
    expect(cases[0]).toMatchObject({
      subject: plan.facts.subject,
      severityCode: 'urgent',
      serviceCode: 'general-info',
      categoryCode: 'security',
      issueType: 'technical',
    });
    expect(cases[0].communications[0].body).toBe(plan.facts.body);
    expect(output).toMatchObject({ caseId: cases[0].id, displayId: cases[0].displayId, status: 'opened' });
    expect((await b.verify(openCase, INPUT, output)).every((c) => c.ok)).toBe(true);

    const again = b.sim.calls.length;
    const second = await b.run(openCase, INPUT);
    expect(second.plan.alreadyDone).toBe(true);
    expect(second.output).toMatchObject({ caseId: cases[0].id, status: 'existing' });
    expect(b.writesSince(again)).toEqual([]);
    expect((b.world as any).support.cases).toHaveLength(1);
  });

  it('refuses a category the service does not have, before opening anything', async () => {
    const b = bench();
    const err = await rejection(b.plan(openCase, { ...INPUT, categoryCode: 'no-such-category' }));
    expect(err.name).toBe('InputError');
    expect(err.message).toMatch(/does not exist for support service 'general-info' \(it has: security, other\)/);
    expect(b.writesSince(0)).toEqual([]);
  });

  it('without a Business plan the step becomes a manual task holding the case text and the console address', async () => {
    const b = bench(
      testWorld((w) => (w.support.plan = 'basic')),
      { facts: FACTS },
    );
    const plan = await b.plan(openCase, INPUT);
    expect(plan.facts.subscribed).toBe(false);
    expect(plan.alreadyDone).toBe(false);
    const err = await rejection(b.apply(openCase, INPUT, plan));
    expect(err).toBeInstanceOf(ManualTaskRequired);
    const task = (err as ManualTaskRequired).task;
    expect(task.instructions).toContain('https://support.console.aws.amazon.com/support/home#/case/create');
    expect(task.instructions).toContain(`Subject: ${plan.facts.subject}`);
    expect(task.instructions).toContain(plan.facts.body.trim());
    expect(task.output).toMatchObject({ manual: true, subject: plan.facts.subject });
    expect(b.writesSince(0)).toEqual([]);
    expect((b.world as any).support.cases).toEqual([]);
  });

  it('engine: a Basic-plan run journals step.manual and waits for a person', async () => {
    const home = mkdtempSync(join(tmpdir(), 'fb-support-'));
    const worldFile = join(home, 'world.yaml');
    const w = parse(WORLD_YAML);
    w.support.plan = 'basic';
    writeFileSync(worldFile, stringify(w));
    const playbook = join(home, 'case-only.yaml');
    writeFileSync(
      playbook,
      stringify({
        id: 'case-only',
        title: 'Open a case',
        start: 'openCase',
        steps: {
          openCase: { action: 'support.open-case', with: { summary: 'test incident' }, approval: 'auto', next: 'done' },
          done: { type: 'end' },
        },
      }),
    );
    const runId = 'support-manual-run';
    const events: Array<{ type: string; [k: string]: any }> = [];
    const handle = await startRun({
      run: { playbook, inputs: {}, runId },
      backend: chooseBackend({ sim: worldFile }),
      host: autoHost(),
      observers: [(e) => events.push(e)],
      home,
    });
    const outcome = await handle.result;
    expect(outcome.status).toBe('waiting');
    expect(outcome.waitingStep).toBe('openCase');
    const manual = events.find((e) => e.type === 'step.manual');
    expect(manual).toMatchObject({ step: 'openCase', task: { title: 'Open an AWS Support case in the console' } });
    expect(manual!.task.instructions).toContain('Subject: Security incident support-manual-run: test incident');
    expect(events.at(-1)).toMatchObject({ type: 'run.waiting', step: 'openCase', kind: 'manual' });
    expect(events.filter((e) => e.type === 'aws.call' && e.operation === 'CreateCase')).toEqual([]);
  });
});

describe('support.prepare-abuse-report', () => {
  it('renders the report from the input only and hands it to a person', async () => {
    const b = bench(undefined, { facts: FACTS });
    const input = {
      remoteIp: '203.0.113.66',
      remotePort: 51514,
      activity: '2025-12-31T23:40Z SSH brute force, then a login as ec2-user',
      targets: ['198.51.100.10:22'],
    };
    const plan = await b.plan(prepareAbuseReport, input);
    expect(plan.facts.subject).toBe('Abuse report: attack from 203.0.113.66 against our systems (incident INC-42)');
    expect(plan.facts.body).toContain('- 198.51.100.10:22');
    // Nothing internal leaves the company: no key ids, no ARNs, no account id.
    expect(plan.facts.body).not.toMatch(/AKIA|arn:aws|111122223333/);
    const err = await rejection(b.apply(prepareAbuseReport, input, plan));
    expect(err).toBeInstanceOf(ManualTaskRequired);
    expect((err as ManualTaskRequired).task.instructions).toContain('https://support.aws.amazon.com/#/contacts/report-abuse');
    expect((err as ManualTaskRequired).task.instructions).toContain('rdap.org/ip/203.0.113.66');
    expect(b.sim.calls).toEqual([]);
  });

  it('rejects an address that is not an IP', async () => {
    const b = bench();
    expect((await rejection(b.plan(prepareAbuseReport, { remoteIp: '203.0.113', activity: 'x' }))).message).toMatch(/IPv4 or IPv6/);
  });
});
