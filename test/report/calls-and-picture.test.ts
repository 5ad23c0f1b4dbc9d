/** Classification of failed AWS calls, step colours in the timeline, and the timeline's marks. */
import { describe, expect, it } from 'vitest';
import { callOutcomes, callsByStep } from '../../src/report/calls.js';
import { COMPLETION_TONE, timelineLanes } from '../../src/report/picture.js';
import { timelineSvg } from '../../src/render/svg.js';

let seq = 0;
const ev = (type: string, step: string | undefined, more: Record<string, unknown> = {}) => ({
  seq: ++seq,
  ts: new Date(Date.UTC(2026, 2, 1, 2, 0, seq)).toISOString(),
  type,
  ...(step === undefined ? {} : { step }),
  ...more,
});
const call = (step: string, operation: string, code?: string) =>
  ev('aws.call', step, {
    service: operation.split(':')[0],
    operation: operation.split(':')[1],
    ...(code ? { error: { code, message: code } } : {}),
  });

describe('callOutcomes', () => {
  it.each([
    [
      'a lookup answered NoSuchEntity, then the step went on: expected',
      [call('take', 'iam:GetRolePolicy', 'NoSuchEntity'), ev('step.planned', 'take')],
      'expected',
    ],
    [
      'SubscriptionRequired, then the step completed: expected',
      [call('case', 'support:DescribeCases', 'SubscriptionRequired'), ev('step.completed', 'case', { status: 'manual' })],
      'expected',
    ],
    [
      'the step failed with the same code: failed',
      [
        call('iso', 'ec2:ModifyNetworkInterfaceAttribute', 'UnauthorizedOperation'),
        ev('step.failed', 'iso', { error: { code: 'UnauthorizedOperation' } }),
      ],
      'failed',
    ],
    [
      'the step retried with that code: failed',
      [
        call('iso', 'ec2:DescribeInstances', 'RequestLimitExceeded'),
        ev('step.retrying', 'iso', { error: { code: 'RequestLimitExceeded' } }),
      ],
      'failed',
    ],
    [
      'the step failed with another code: expected',
      [call('iso', 'iam:GetRole', 'NoSuchEntity'), ev('step.failed', 'iso', { error: { code: 'AccessDenied' } })],
      'expected',
    ],
    [
      'the run ended before the step went on: failed',
      [call('iso', 'ec2:DescribeInstances', 'InternalError'), ev('run.ended', undefined)],
      'failed',
    ],
    [
      'another step going on says nothing about this one',
      [call('a', 'ec2:DescribeInstances', 'InternalError'), ev('step.completed', 'b', { status: 'applied' })],
      'failed',
    ],
    ['a call without an error: ok', [call('iso', 'ec2:DescribeInstances')], 'ok'],
  ])('%s', (_, events, outcome) => {
    expect(callOutcomes(events).get(0)).toBe(outcome);
  });

  it('of repeated calls with the failing code, only the last is the failure', () => {
    const events = [
      call('iso', 'ec2:DescribeInstances', 'Throttling'),
      call('iso', 'ec2:DescribeInstances', 'Throttling'),
      ev('step.failed', 'iso', { error: { code: 'Throttling' } }),
    ];
    const o = callOutcomes(events);
    expect([o.get(0), o.get(1)]).toEqual(['expected', 'failed']);
    expect(callsByStep(events, o)).toMatchObject([{ step: 'iso', failed: 1, expected: 1 }]);
  });
});

describe('the incident timeline gives every completion status a colour', () => {
  it.each(Object.keys(COMPLETION_TONE))('%s', (status) => {
    const events = [ev('step.started', 'block'), ev('step.completed', 'block', { status })];
    const [lane] = timelineLanes(events, new Map(), Date.parse(events[1]!.ts));
    expect(lane!.bars).toHaveLength(1);
    expect(lane!.bars[0]!.tone).not.toBe('info'); // 'info' is a step still running
    expect(lane!.bars[0]!.tone).toBe(COMPLETION_TONE[status as keyof typeof COMPLETION_TONE]);
  });

  it('a step whose condition was false is drawn muted and named so in the legend', () => {
    const events = [ev('step.started', 'block'), ev('step.completed', 'block', { status: 'condition-false' })];
    const svg = timelineSvg(timelineLanes(events, new Map(), Date.parse(events[1]!.ts)), {
      start: Date.parse(events[0]!.ts),
      end: Date.parse(events[1]!.ts),
      label: 't',
    });
    expect(svg).toContain('class="bar muted"');
    expect(svg).toContain('not needed (condition false)');
    expect(svg).not.toContain('running');
  });
});

describe('timeline marks', () => {
  const at = 5_000;
  const svg = timelineSvg(
    [
      {
        label: 'injects and alerts',
        bars: [],
        marks: [
          { at, kind: 'alert', title: 'the alert' },
          { at, kind: 'inject', title: 'an inject' },
        ],
      },
      {
        label: 'run',
        bars: [],
        marks: [
          { at, kind: 'done', title: 'step done' },
          { at: at + 1000, kind: 'approval', title: 'approved' },
        ],
      },
    ],
    { start: 0, end: 10_000, label: 'exercise' },
  );

  it('a completed step has its own mark, not the approval diamond, and the legend names both', () => {
    const done = /<path class="mark done" d="([^"]+)"/.exec(svg)![1]!;
    const approval = /<path class="mark approval" d="([^"]+)"/.exec(svg)![1]!;
    expect(done.endsWith('Z')).toBe(false); // an open tick, not a closed diamond
    expect(approval.endsWith('Z')).toBe(true);
    expect(svg).toContain('>step done</text>');
    expect(svg).toContain('>approval</text>');
  });

  it('an alert and an inject at the same moment both stay visible, the alert drawn last', () => {
    const lane = svg.slice(0, svg.indexOf('</g>', svg.indexOf('the alert')));
    const ys = (kind: string) =>
      [...new RegExp(`<path class="mark ${kind}" d="([^"]+)"`).exec(lane)![1]!.matchAll(/L?M?[\d.]+ ([\d.]+)/g)].map((m) => Number(m[1]));
    expect(Math.max(...ys('alert'))).toBeLessThanOrEqual(Math.min(...ys('inject')));
    expect(lane.indexOf('mark alert')).toBeGreaterThan(lane.indexOf('mark inject'));
  });
});
