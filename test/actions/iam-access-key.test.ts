/** iam.disable-access-key and its undo iam.enable-access-key, through the SDK and the simulated cloud. */
import { describe, expect, it } from 'vitest';
import disableAccessKey from '../../src/actions/iam/disable-access-key.js';
import enableAccessKey from '../../src/actions/iam/enable-access-key.js';
import { isKeyUsable } from '../../src/sim/services/iam/index.js';
import { bench, LEAKED_KEY, OTHER_KEY, rejection, testWorld, user } from './iam-harness.js';

const keyStatus = (w: any, userName: string, id: string) => user(w, userName).accessKeys.find((k: any) => k.id === id)?.status;

describe('iam.disable-access-key', () => {
  it('plans from GetAccessKeyLastUsed alone, deactivates exactly that key, and leaves the other key as it was', async () => {
    const b = bench();
    const plan = await b.plan(disableAccessKey, { accessKeyId: LEAKED_KEY });
    expect(plan.alreadyDone).toBe(false);
    expect(plan.changes).toEqual([{ resource: `${LEAKED_KEY} (user deploy-bot)`, field: 'status', before: 'Active', after: 'Inactive' }]);
    expect(b.writesSince(0)).toEqual([]);

    const before = b.sim.calls.length;
    const output = await b.apply(disableAccessKey, { accessKeyId: LEAKED_KEY }, plan);
    expect(b.writesSince(before)).toEqual(['iam:UpdateAccessKey']);
    expect(keyStatus(b.world, 'deploy-bot', LEAKED_KEY)).toBe('Inactive');
    expect(keyStatus(b.world, 'deploy-bot', OTHER_KEY)).toBe('Inactive'); // was Inactive, stays so
    expect(keyStatus(b.world, 'ci-bot', 'AKIAIOSFODNN7CIBOT01')).toBe('Active');
    expect(isKeyUsable(b.world, LEAKED_KEY)).toBe(false);
    // Evidence: the key's last use is in the output, and the key itself still exists.
    expect(output).toMatchObject({
      userName: 'deploy-bot',
      previousStatus: 'Active',
      lastUsed: { date: '2025-12-31T23:41:00.000Z', service: 'ec2', region: 'us-east-1' },
      otherKeys: { [OTHER_KEY]: 'Inactive' },
    });
    expect(user(b.world, 'deploy-bot').accessKeys).toHaveLength(2);

    const checks = await b.verify(disableAccessKey, { accessKeyId: LEAKED_KEY }, output);
    expect(checks.map((c) => [c.name, c.ok])).toEqual([
      [`${LEAKED_KEY} is Inactive`, true],
      [`other key ${OTHER_KEY} still Inactive`, true],
    ]);
  });

  it('verify fails when another key of the user changed', async () => {
    const b = bench(testWorld((w) => (w.iam.users[1].accessKeys[1].status = 'Active')));
    const { output } = await b.run(disableAccessKey, { accessKeyId: LEAKED_KEY, userName: 'deploy-bot' });
    user(b.world, 'deploy-bot').accessKeys[1].status = 'Inactive'; // someone else touched it
    const checks = await b.verify(disableAccessKey, { accessKeyId: LEAKED_KEY }, output);
    expect(checks.find((c) => c.name.startsWith('other key'))).toMatchObject({ ok: false, detail: 'Inactive' });
  });

  it('converges: a second run plans no change and sends no mutating call', async () => {
    const b = bench();
    await b.run(disableAccessKey, { accessKeyId: LEAKED_KEY });
    const from = b.sim.calls.length;
    const again = await b.run(disableAccessKey, { accessKeyId: LEAKED_KEY });
    expect(again.plan.alreadyDone).toBe(true);
    expect(again.plan.changes).toEqual([]);
    expect(again.checks.every((c) => c.ok)).toBe(true);
    expect(b.writesSince(from)).toEqual([]);
  });

  it('undo (iam.enable-access-key) reactivates the key, and converges too', async () => {
    const b = bench();
    const { output } = await b.run(disableAccessKey, { accessKeyId: LEAKED_KEY });
    const undoInput = disableAccessKey.undo!.input(output, { accessKeyId: LEAKED_KEY });
    expect(disableAccessKey.undo!.action).toBe('iam.enable-access-key');
    const undo = await b.run(enableAccessKey, undoInput);
    expect(undo.checks.every((c) => c.ok)).toBe(true);
    expect(keyStatus(b.world, 'deploy-bot', LEAKED_KEY)).toBe('Active');
    expect(keyStatus(b.world, 'deploy-bot', OTHER_KEY)).toBe('Inactive');
    const from = b.sim.calls.length;
    expect((await b.run(enableAccessKey, undoInput)).plan.alreadyDone).toBe(true);
    expect(b.writesSince(from)).toEqual([]);
  });

  it.each([
    ['a temporary key', { accessKeyId: 'ASIAEXAMPLEWEB1IMDS0' }, /temporary ASIA/],
    ['a malformed key', { accessKeyId: 'AKIA123' }, /long-term access key id/],
  ])('rejects %s before any AWS call', async (_name, input, message) => {
    const b = bench();
    const err = await rejection(b.plan(disableAccessKey, input));
    expect(err.message).toMatch(message);
    expect(b.sim.calls).toEqual([]);
  });

  it.each([
    ['an unknown key', { accessKeyId: 'AKIAIOSFODNN7NOSUCH1' }, 'NoSuchEntityException'],
    ['a key named with the wrong user', { accessKeyId: LEAKED_KEY, userName: 'ci-bot' }, 'NoSuchEntityException'],
  ])('refuses %s and changes nothing', async (_name, input, code) => {
    const b = bench();
    const err = await rejection(b.plan(disableAccessKey, input));
    expect((err as { name: string }).name === code || err.code === code).toBe(true);
    expect(b.writesSince(0)).toEqual([]);
  });

  it('refuses a user carrying the protected tag', async () => {
    const b = bench();
    const err = await rejection(b.plan(disableAccessKey, { accessKeyId: 'AKIAIOSFODNN7VAULT01' }));
    expect(err.name).toBe('GuardrailRefusal');
    expect(keyStatus(b.world, 'vault-admin', 'AKIAIOSFODNN7VAULT01')).toBe('Active');
  });

  it('refuses the key Firebreak itself signs with', async () => {
    // The simulated responder signs with AWS's documentation key; make it a key of deploy-bot.
    const b = bench(testWorld((w) => w.iam.users[1].accessKeys.splice(1, 1, { id: 'AKIAIOSFODNN7EXAMPLE' })));
    const err = await rejection(b.plan(disableAccessKey, { accessKeyId: 'AKIAIOSFODNN7EXAMPLE' }));
    expect(err.name).toBe('GuardrailRefusal');
    expect(err.message).toMatch(/lock itself out/);
    expect(b.writesSince(0)).toEqual([]);
  });
});
