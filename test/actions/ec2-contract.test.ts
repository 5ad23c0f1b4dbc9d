/** What every EC2, Auto Scaling and DLM response action of this family promises beyond plan/apply/verify. */
import { describe, expect, it } from 'vitest';
import { actionIds, getAction } from '../../src/actions/registry.js';

const FAMILY = [
  'ec2.preserve-instance',
  'ec2.restore-instance-attributes',
  'ec2.remove-from-service',
  'ec2.return-to-service',
  'ec2.forensic-snapshots',
  'ec2.raise-snapshot-frequency',
  'ec2.lower-snapshot-frequency',
  'ec2.deny-nacl-entries',
  'ec2.remove-nacl-entries',
  'ec2.find-instances',
  'ec2.describe-containment',
];

describe.each(FAMILY.map((id) => [id]))('%s', (id) => {
  const a = getAction(id);

  it('is registered, says why it exists and which controls it serves', () => {
    expect(actionIds.has(id)).toBe(true);
    expect(a.description?.length ?? 0).toBeGreaterThan(150);
    expect(a.controls?.length).toBeGreaterThan(0);
  });

  it('locks what it changes, or changes nothing', () => {
    if (a.mutating)
      expect(
        a.targets?.({
          instanceId: 'i-0123456789abcdef0',
          subnetIds: ['subnet-0123456789abcdef0'],
          entries: [],
          volumeIds: ['vol-0123456789abcdef0'],
          incident: 'IR-1',
        } as never).length,
      ).toBeGreaterThan(0);
    else expect(a.permissions.every((p) => /:(Describe|Get|List)/.test(p))).toBe(true);
  });

  it('names the undo that reverses it, or why there is none', () => {
    const reversible = ['ec2.preserve-instance', 'ec2.remove-from-service', 'ec2.raise-snapshot-frequency', 'ec2.deny-nacl-entries'];
    if (reversible.includes(id)) expect(actionIds.has(a.undo!.action)).toBe(true);
    else expect(a.undo).toBeUndefined();
    if (id === 'ec2.forensic-snapshots') expect(a.description).toMatch(/no undo: evidence is kept/);
  });

  it('gives the AWS CLI commands to do it by hand', () => {
    const lines = a.fallback?.({ instanceId: 'i-0123456789abcdef0' }) ?? [];
    if (a.mutating) expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l).toMatch(/^(aws |# )/);
  });
});
