/**
 * The Lambda entry point, called as Lambda calls it, with the run folder in a temporary home and
 * the simulated cloud standing in for AWS.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../src/lambda/handler.js';
import { journal, ROOT, runIds, tempHome } from '../helpers/cli.js';
import { fixture, gdEvent, PRESERVE_PLAYBOOK as PLAYBOOK, scratch } from './helpers.js';

describe('Lambda handler', () => {
  let home: string;
  const saved = { ...process.env };
  beforeEach(() => {
    home = tempHome();
    const dir = scratch({ 'tiny-preserve.yaml': PLAYBOOK });
    const routes = join(dir, 'routes.yaml');
    writeFileSync(
      routes,
      `routes:\n  - name: crypto\n    match: { type: 'CryptoCurrency:EC2/*' }\n    playbook: ${join(dir, 'tiny-preserve.yaml')}\n    inputs: { instanceId: '{% resources.instanceIds[0] %}' }\n`,
    );
    Object.assign(process.env, { FIREBREAK_HOME: home, FIREBREAK_ROUTES: routes, FIREBREAK_SIM: join(ROOT, 'worlds/demo.yaml') });
  });
  afterEach(() => {
    process.env = { ...saved };
  });

  it('runs the routed playbook for an EventBridge GuardDuty event, once', async () => {
    const event = gdEvent({ eventId: 'lambda-1' });
    const first = await handler(event, { getRemainingTimeInMillis: () => 300_000 });
    expect(first.outcomes).toEqual([expect.objectContaining({ outcome: 'started', status: 'succeeded' })]);
    const [id] = runIds(home);
    expect(journal(home, id!).find((e) => e.type === 'run.started')).toMatchObject({
      trigger: { via: 'lambda', deliveryId: 'eventbridge:lambda-1' },
    });
    // EventBridge delivers at least once: the same event again changes nothing.
    const again = await handler(event, {});
    expect(again.outcomes).toEqual([expect.objectContaining({ outcome: 'duplicate', runId: id })]);
    expect(runIds(home)).toEqual([id]);
  });

  it('the bundled handler (dist/bundle/lambda.js, what Lambda runs) does the same', async () => {
    const bundled = (await import(join(ROOT, 'dist/bundle/lambda.js'))) as { handler: typeof handler };
    const event = gdEvent({ eventId: 'lambda-bundled' });
    const first = await bundled.handler(event, { getRemainingTimeInMillis: () => 300_000 });
    expect(first.outcomes).toEqual([expect.objectContaining({ outcome: 'started', status: 'succeeded' })]);
    const [id] = runIds(home);
    expect(journal(home, id!).find((e) => e.type === 'run.started')).toMatchObject({
      trigger: { via: 'lambda', deliveryId: 'eventbridge:lambda-bundled' },
    });
    expect((await bundled.handler(event, {})).outcomes).toEqual([expect.objectContaining({ outcome: 'duplicate', runId: id })]);
  });

  it('rejects an event of an unknown shape without throwing (a retry would fail the same way) and writes nothing', async () => {
    const r = await handler({ hello: 'world' }, {});
    expect(r.rejected).toMatch(/unknown shape/);
    expect(runIds(home)).toEqual([]);
  });

  it('ignores an event no route matches', async () => {
    const r = await handler(fixture('guardduty-ssh-brute-force.raw.json'), {});
    expect(r.outcomes).toEqual([expect.objectContaining({ outcome: 'ignored', runId: null })]);
    expect(runIds(home)).toEqual([]);
  });
});
