/** HTML in an alert's fields and in approval notes is escaped in the Markdown report (it is text, not markup). */
import { describe, expect, it } from 'vitest';
import { buildReport } from '../../src/report/model.js';
import { renderReport } from '../../src/report/report.js';
import type { VerifyResult } from '../../src/audit/verify.js';

const ts = (s: number) => new Date(Date.UTC(2026, 2, 1, 2, 0, s)).toISOString();
const HTML = '<img src=x onerror=alert(1)><script>steal()</script>';

describe('Markdown report escaping', () => {
  it('escapes HTML from the alert and from an approval note', () => {
    const events = [
      {
        seq: 1,
        ts: ts(0),
        type: 'run.started',
        playbook: { id: 'p', sha256: 'abc' },
        inputs: {},
        trigger: {
          alert: {
            source: 'guardduty',
            type: 'Recon',
            title: `title ${HTML}`,
            account: '123456789012',
            resources: { instanceIds: [`i-${HTML}`] },
          },
          event: {},
        },
      },
      { seq: 2, ts: ts(1), type: 'step.started', step: 'iso' },
      { seq: 3, ts: ts(2), type: 'approval.answered', step: 'iso', decision: 'approve', by: 'alice', note: `ok ${HTML}` },
      { seq: 4, ts: ts(3), type: 'step.completed', step: 'iso', status: 'applied' },
      { seq: 5, ts: ts(4), type: 'run.ended', status: 'succeeded' },
    ];
    const md = renderReport(
      buildReport('r1', events, { ok: true, events: events.length, head: 'f'.repeat(64) } satisfies VerifyResult),
      'md',
    );
    expect(md).toContain('title');
    expect(md).toContain('alice');
    // Markdown renders a code span literally, and a backslash-escaped `<` as text: nothing else may hold a tag.
    const outsideCode = md.replace(/`[^`\n]*`/g, '');
    expect(outsideCode).not.toMatch(/(^|[^\\])<(img|script|\/script)/m);
    expect(outsideCode).toContain('title \\<img src=x onerror=alert(1)\\>\\<script\\>');
    expect(outsideCode).toContain('ok \\<img src=x onerror=alert(1)\\>');
    expect(md).toContain('`i-<img src=x onerror=alert(1)><script>steal()</script>`');
  });
});
