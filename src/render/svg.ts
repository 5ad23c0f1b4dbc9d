/**
 * Inline SVG for the HTML reports: a timeline (lanes of bars and marks on a time axis) and a
 * playbook's path through its steps. The reports' Content-Security-Policy forbids scripts and
 * every fetch, so the pictures are plain SVG inside the page: hover text is an SVG `<title>`,
 * colours come from the page's CSS classes.
 */

/** Text for SVG or HTML, element content or attribute. */
export function escapeXml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export type Tone = 'ok' | 'bad' | 'warn' | 'info' | 'wait' | 'muted';
export type MarkKind =
  | 'approval'
  | 'done'
  | 'retry'
  | 'failure'
  | 'expected'
  | 'manual'
  | 'alert'
  | 'inject'
  | 'attack'
  | 'attack-failed'
  | 'objective'
  | 'missed';

export interface Lane {
  label: string;
  bars: Array<{ from: number; to: number; tone: Tone; title: string }>;
  marks: Array<{ at: number; kind: MarkKind; title: string }>;
}

const MARK_LEGEND: Record<MarkKind, string> = {
  approval: 'approval',
  done: 'step done',
  retry: 'retry',
  failure: 'failure',
  expected: 'expected error answer',
  manual: 'manual task',
  alert: 'alert',
  inject: 'inject',
  attack: 'attacker move (worked)',
  'attack-failed': 'attacker move (failed)',
  objective: 'objective met',
  missed: 'objective missed',
};

const BAR_LEGEND: Partial<Record<Tone, string>> = {
  ok: 'step done',
  bad: 'step failed',
  warn: 'skipped / manual',
  muted: 'not needed (condition false)',
  wait: 'waiting',
  info: 'running',
};

function markShape(kind: MarkKind, x: number, y: number): string {
  const c = `mark ${kind}`;
  switch (kind) {
    case 'approval':
    case 'objective':
    case 'missed':
      return `<path class="${c}" d="M${x} ${y - 6}L${x + 6} ${y}L${x} ${y + 6}L${x - 6} ${y}Z"/>`;
    case 'done':
      return `<path class="${c}" d="M${x - 5} ${y}L${x - 1} ${y + 4}L${x + 6} ${y - 5}"/>`;
    case 'retry':
    case 'expected':
      return `<circle class="${c}" cx="${x}" cy="${y}" r="5"/>`;
    case 'failure':
      return `<path class="${c}" d="M${x - 5} ${y - 5}L${x + 5} ${y + 5}M${x + 5} ${y - 5}L${x - 5} ${y + 5}"/>`;
    case 'manual':
      return `<rect class="${c}" x="${x - 5}" y="${y - 5}" width="10" height="10"/>`;
    // Alerts point down from the lane's top half, injects up from its bottom half: at the same
    // moment both stay visible.
    case 'alert':
      return `<path class="${c}" d="M${x - 6} ${y - 10}L${x + 6} ${y - 10}L${x} ${y}Z"/>`;
    case 'inject':
      return `<path class="${c}" d="M${x} ${y}L${x + 6} ${y + 10}L${x - 6} ${y + 10}Z"/>`;
    case 'attack':
    case 'attack-failed':
      return `<path class="${c}" d="M${x - 6} ${y - 6}L${x + 6} ${y}L${x - 6} ${y + 6}Z"/>`;
  }
}

/** Round tick steps, in milliseconds. */
const STEPS = [
  100, 250, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000,
];

export function tickLabel(ms: number, span: number): string {
  if (span < 10_000) return `+${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)}s`;
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  return h ? `T+${h}:${pad(m)}:${pad(s % 60)}` : `T+${pad(m)}:${pad(s % 60)}`;
}

/** Lanes on a shared time axis from `start` to `end` (ms); times in lanes are ms since epoch or since start alike. */
export function timelineSvg(lanes: readonly Lane[], opts: { start: number; end: number; label: string }): string {
  const labelW = 190;
  const plotW = 760;
  const laneH = 24;
  const top = 8;
  const W = labelW + plotW + 20;
  const span = Math.max(opts.end - opts.start, 1);
  const x = (t: number) => Math.round((labelW + ((Math.min(Math.max(t, opts.start), opts.end) - opts.start) / span) * plotW) * 10) / 10;
  const axisY = top + lanes.length * laneH + 6;
  const out: string[] = [];
  lanes.forEach((lane, i) => {
    const y = top + i * laneH;
    const mid = y + laneH / 2;
    out.push(`<g class="lane"><rect class="lane-bg${i % 2 ? ' odd' : ''}" x="0" y="${y}" width="${W}" height="${laneH}"/>`);
    out.push(
      `<text class="lane-label" x="6" y="${mid + 4}">${escapeXml(lane.label.length > 28 ? `${lane.label.slice(0, 27)}…` : lane.label)}<title>${escapeXml(lane.label)}</title></text>`,
    );
    for (const b of lane.bars) {
      const x0 = x(b.from);
      const w = Math.round(Math.max(x(b.to) - x0, 3) * 10) / 10;
      out.push(
        `<rect class="bar ${b.tone}" x="${x0}" y="${y + 5}" width="${w}" height="${laneH - 10}" rx="3"><title>${escapeXml(b.title)}</title></rect>`,
      );
    }
    // Alerts last, so nothing is drawn over them.
    const marks = [...lane.marks].sort((a, b) => Number(a.kind === 'alert') - Number(b.kind === 'alert'));
    for (const m of marks) out.push(`<g>${markShape(m.kind, x(m.at), mid)}<title>${escapeXml(m.title)}</title></g>`);
    out.push('</g>');
  });
  const step = STEPS.find((s) => span / s <= 8) ?? STEPS.at(-1)!;
  out.push(`<line class="axis" x1="${labelW}" y1="${axisY}" x2="${labelW + plotW}" y2="${axisY}"/>`);
  for (let t = 0; t <= span; t += step) {
    const tx = x(opts.start + t);
    out.push(`<line class="tick" x1="${tx}" y1="${top}" x2="${tx}" y2="${axisY + 4}"/>`);
    out.push(`<text class="tick-label" x="${tx}" y="${axisY + 16}" text-anchor="middle">${escapeXml(tickLabel(t, span))}</text>`);
  }
  // The legend lists only what this picture uses.
  const tones = [...new Set(lanes.flatMap((l) => l.bars.map((b) => b.tone)))].filter((t) => BAR_LEGEND[t]);
  const kinds = [...new Set(lanes.flatMap((l) => l.marks.map((m) => m.kind)))];
  let lx = labelW;
  const ly = axisY + 36;
  for (const t of tones) {
    out.push(
      `<rect class="bar ${t}" x="${lx}" y="${ly - 9}" width="16" height="10" rx="2"/><text class="legend" x="${lx + 20}" y="${ly}">${BAR_LEGEND[t]}</text>`,
    );
    lx += 30 + BAR_LEGEND[t]!.length * 6.2;
  }
  for (const k of kinds) {
    if (lx > W - 120) break;
    out.push(`${markShape(k, lx + 6, ly - 4)}<text class="legend" x="${lx + 16}" y="${ly}">${MARK_LEGEND[k]}</text>`);
    lx += 26 + MARK_LEGEND[k].length * 6.2;
  }
  const H = ly + 10;
  return `<svg class="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="${escapeXml(opts.label)}"><title>${escapeXml(opts.label)}</title>${out.join('')}</svg>`;
}

export type NodeState = 'done' | 'failed' | 'skipped' | 'manual' | 'waiting' | 'taken' | 'not-taken';

export interface FlowNode {
  id: string;
  label: string;
  state: NodeState;
  detail?: string;
}

/**
 * A playbook's steps, top to bottom, one row per top-level step (a parallel step's branches side
 * by side in its row); the steps the run went through filled, the others faint, and the path
 * drawn through the rows it took.
 */
export function flowSvg(rows: readonly FlowNode[][], opts: { label: string }): string {
  const W = 970;
  const rowH = 46;
  const boxH = 30;
  const out: string[] = [];
  const centres: Array<{ x: number; taken: boolean }[]> = [];
  rows.forEach((row, i) => {
    const y = 8 + i * rowH;
    const n = row.length;
    const gap = 10;
    const boxW = Math.min(300, (W - 20 - gap * (n - 1)) / n);
    const total = n * boxW + (n - 1) * gap;
    let x0 = (W - total) / 2;
    if (n > 1) out.push(`<rect class="parallel" x="${x0 - 6}" y="${y - 4}" width="${total + 12}" height="${boxH + 8}" rx="6"/>`);
    const cs: { x: number; taken: boolean }[] = [];
    for (const node of row) {
      const chars = Math.floor(boxW / 6.6);
      const text = node.label.length > chars ? `${node.label.slice(0, chars - 1)}…` : node.label;
      out.push(
        `<g class="node ${node.state}"><rect x="${x0}" y="${y}" width="${boxW}" height="${boxH}" rx="5"/>` +
          `<text x="${x0 + boxW / 2}" y="${y + 19}" text-anchor="middle">${escapeXml(text)}</text>` +
          `<title>${escapeXml(`${node.id}: ${node.label} — ${node.detail ?? node.state}`)}</title></g>`,
      );
      cs.push({ x: x0 + boxW / 2, taken: node.state !== 'not-taken' });
      x0 += boxW + gap;
    }
    centres.push(cs);
  });
  // Connectors between consecutive rows: bold where the run went from one to the next.
  for (let i = 0; i + 1 < rows.length; i++) {
    const y1 = 8 + i * rowH + boxH;
    const y2 = 8 + (i + 1) * rowH;
    const from = centres[i]!.filter((c) => c.taken);
    const to = centres[i + 1]!.filter((c) => c.taken);
    if (from.length && to.length) {
      for (const a of from) for (const b of to) out.push(`<path class="edge taken" d="M${a.x} ${y1}L${b.x} ${y2}"/>`);
    } else {
      out.push(`<path class="edge" d="M${W / 2} ${y1}L${W / 2} ${y2}"/>`);
    }
  }
  const H = 8 + rows.length * rowH;
  return `<svg class="flow" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="${escapeXml(opts.label)}"><title>${escapeXml(opts.label)}</title>${out.join('')}</svg>`;
}

/** CSS for both pictures, included once in each report's `<style>`. */
export const SVG_CSS = `
svg.timeline, svg.flow { display: block; max-width: 100%; height: auto; margin: .6rem 0 1rem; font: 12px system-ui, -apple-system, "Segoe UI", sans-serif; }
svg .lane-bg { fill: #fff; } svg .lane-bg.odd { fill: #f6f8fa; }
svg .lane-label { fill: #1b1f24; font-size: 12px; }
svg .axis, svg .tick { stroke: #d1d9e0; } svg .tick-label, svg .legend { fill: #59636e; font-size: 11px; }
svg .bar.ok { fill: #2da44e; } svg .bar.bad { fill: #cf222e; } svg .bar.warn { fill: #bf8700; } svg .bar.info { fill: #0969da; }
svg .bar.wait { fill: #afb8c1; } svg .bar.muted { fill: #d0d7de; }
svg .mark { stroke: #1b1f24; stroke-width: 1; }
svg .mark.approval, svg .mark.objective { fill: #2da44e; } svg .mark.missed { fill: #cf222e; }
svg .mark.retry { fill: #bf8700; } svg .mark.expected { fill: #fff; stroke: #59636e; }
svg .mark.failure { stroke: #cf222e; stroke-width: 2.5; fill: none; } svg .mark.manual { fill: #8250df; }
svg .mark.done { fill: none; stroke: #1a7f37; stroke-width: 2.5; } svg .mark.alert { fill: #fb8500; } svg .mark.inject { fill: #0969da; }
svg .mark.attack { fill: #cf222e; } svg .mark.attack-failed { fill: #fff; stroke: #cf222e; }
svg .node rect { stroke: #8c959f; fill: #fff; stroke-dasharray: 3 3; } svg .node text { fill: #8c959f; font-size: 12px; }
svg .node.done rect { fill: #dafbe1; stroke: #1a7f37; stroke-dasharray: none; stroke-width: 1.5; } svg .node.done text { fill: #1b1f24; }
svg .node.taken rect { fill: #ddf4ff; stroke: #0969da; stroke-dasharray: none; stroke-width: 1.5; } svg .node.taken text { fill: #1b1f24; }
svg .node.failed rect { fill: #ffebe9; stroke: #cf222e; stroke-dasharray: none; stroke-width: 1.5; } svg .node.failed text { fill: #1b1f24; }
svg .node.manual rect, svg .node.waiting rect { fill: #fbefff; stroke: #8250df; stroke-dasharray: none; stroke-width: 1.5; }
svg .node.manual text, svg .node.waiting text { fill: #1b1f24; }
svg .node.skipped rect { fill: #fff8c5; stroke: #bf8700; stroke-dasharray: none; } svg .node.skipped text { fill: #1b1f24; }
svg .parallel { fill: none; stroke: #d1d9e0; stroke-dasharray: 4 3; }
svg .edge { stroke: #d1d9e0; stroke-width: 1.5; fill: none; } svg .edge.taken { stroke: #1b1f24; stroke-width: 2; }
`;
