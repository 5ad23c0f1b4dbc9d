import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAlertText } from '../../src/triggers/parse.js';
import { Spool } from '../../src/triggers/spool.js';

const alertWithSecrets = () =>
  parseAlertText(
    JSON.stringify({
      source: 'my-detector',
      id: 'det-1',
      type: 'Custom/Test',
      severity: 'HIGH',
      time: '2026-03-01T12:00:00Z',
      resources: { instanceIds: ['i-0123456789abcdef0'] },
      details: { password: 'hunter2-do-not-keep', nested: { clientSecret: 's3cr3t-value', note: 'keep me' } },
    }),
    { file: 'alert.json' },
  )[0]!;

describe('Spool', () => {
  it('writes alerts redacted: no secret reaches the disk', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fb-spool-'));
    const spool = new Spool(dir);
    const entry = spool.put(alertWithSecrets(), 'webhook', new Date('2026-03-01T12:00:00Z'));
    const text = readFileSync(entry.file, 'utf8');
    expect(text).not.toContain('hunter2-do-not-keep');
    expect(text).not.toContain('s3cr3t-value');
    expect(text).toContain('keep me');
    expect(text).toContain('i-0123456789abcdef0');
  });

  it('moves a corrupt entry aside and reports it, and returns the good ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fb-spool-'));
    const spool = new Spool(dir);
    const good = spool.put(alertWithSecrets(), 'webhook', new Date('2026-03-01T12:00:00Z'));
    writeFileSync(join(dir, '00000000000001-1-000001-torn.json'), '{"via": "webhook", "rece');
    writeFileSync(join(dir, '00000000000002-1-000002-shape.json'), '{"via": "webhook"}\n');
    const { entries, quarantined } = spool.pending();
    expect(entries.map((e) => e.file)).toEqual([good.file]);
    expect(quarantined.map((q) => q.file.split('/').pop())).toEqual([
      '00000000000001-1-000001-torn.json',
      '00000000000002-1-000002-shape.json',
    ]);
    expect(quarantined[0]!.reason).toMatch(/JSON/);
    expect(readdirSync(join(dir, 'quarantine')).sort()).toEqual([
      '00000000000001-1-000001-torn.json',
      '00000000000002-1-000002-shape.json',
    ]);
    expect(spool.pending().quarantined).toEqual([]);
  });
});
