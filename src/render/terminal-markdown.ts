/**
 * Markdown as readable terminal text, for `firebreak show`: headings underlined, tables aligned
 * (or one block per row when too wide), commands indented, the Mermaid diagram as a list of
 * transitions. Covers the Markdown the runbook templates produce, not Markdown in general.
 */
import { stripVTControlCharacters } from 'node:util';

export interface TerminalStyle {
  bold(t: string): string;
  dim(t: string): string;
  cyan(t: string): string;
  yellow(t: string): string;
}

export const plainStyle: TerminalStyle = { bold: (t) => t, dim: (t) => t, cyan: (t) => t, yellow: (t) => t };

/** Inline Markdown → text: code spans styled, emphasis dropped, escapes undone. */
export function inline(s: string, st: TerminalStyle): string {
  const spans: string[] = [];
  // Code spans first: nothing inside them is Markdown (a table's `\|` is still a pipe).
  let t = s.replace(/(`+)\s?([\s\S]*?)\s?\1(?!`)/g, (_m, _f, body: string) => {
    spans.push(st.cyan(body.replace(/\\\|/g, '|')));
    return `\u0000${spans.length - 1}\u0000`;
  });
  t = t
    .replace(/\[([^\]]+)\]\(([^)]+)\)/g, (_m, label: string, url: string) => (/^(https?:|mailto:)/.test(url) ? `${label} <${url}>` : label))
    .replace(/\*\*([^*]+)\*\*/g, (_m, b: string) => st.bold(b))
    .replace(/(^|[\s(])\*([^*\s][^*]*)\*/g, '$1$2')
    .replace(/<br>/g, ' / ')
    .replace(/\\([\\`*_{}[\]<>|#~!])/g, '$1')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL marks a code span's placeholder because it cannot occur in the text.
  return t.replace(/\u0000(\d+)\u0000/g, (_m, i: string) => spans[Number(i)]!);
}

export const visibleLength = (s: string): number => [...stripVTControlCharacters(s)].length;

function wrap(text: string, width: number, indent = ''): string[] {
  const words = text.split(/\s+/).filter(Boolean);
  const lines: string[] = [];
  let cur = '';
  for (const w of words) {
    if (cur && visibleLength(cur) + 1 + visibleLength(w) > width - indent.length) {
      lines.push(indent + cur);
      cur = w;
    } else cur = cur ? `${cur} ${w}` : w;
  }
  if (cur) lines.push(indent + cur);
  return lines;
}

function splitRow(line: string): string[] {
  const cells: string[] = [];
  let cur = '';
  let inCode = false;
  const body = line.trim().replace(/^\|/, '').replace(/\|$/, '');
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch === '\\' && body[i + 1] === '|') {
      cur += '\\|';
      i++;
    } else if (ch === '`') {
      inCode = !inCode;
      cur += ch;
    } else if (ch === '|' && !inCode) {
      cells.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  cells.push(cur.trim());
  return cells;
}

function table(rows: string[][], width: number, st: TerminalStyle): string[] {
  const [head, ...body] = rows.map((r) => r.map((c) => inline(c, st)));
  if (!head) return [];
  const widths = head.map((h, i) => Math.max(visibleLength(h), ...body.map((r) => visibleLength(r[i] ?? ''))));
  const total = widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1) + 2;
  const pad = (s: string, n: number) => s + ' '.repeat(Math.max(0, n - visibleLength(s)));
  if (total <= width) {
    return [
      '  ' +
        head
          .map((h, i) => st.bold(pad(h, widths[i]!)))
          .join('  ')
          .trimEnd(),
      ...body.map(
        (r) =>
          '  ' +
          r
            .map((c, i) => pad(c, widths[i]!))
            .join('  ')
            .trimEnd(),
      ),
    ];
  }
  // Too wide for the terminal: one block per row, every cell labelled with its column.
  const out: string[] = [];
  for (const r of body) {
    r.forEach((c, i) => {
      if (c === '') return;
      const label = `${head[i] ?? ''}: `;
      const lines = wrap(c, width - 4 - label.length);
      out.push(`  ${i === 0 ? '• ' : '  '}${st.dim(label)}${lines[0] ?? ''}`);
      for (const l of lines.slice(1)) out.push(`    ${' '.repeat(label.length)}${l}`);
    });
  }
  return out;
}

function mermaid(lines: string[], st: TerminalStyle): string[] {
  const out = [st.dim('  flow (the runbook on GitHub draws it):')];
  for (const raw of lines) {
    const l = raw.trim();
    const m = /^(\S+) --> (\S+?)(?:\s*:\s*(.*))?$/.exec(l);
    if (m) {
      const from = m[1] === '[*]' ? 'start' : m[1]!;
      const to = m[2] === '[*]' ? 'end' : m[2]!;
      out.push(`    ${from} → ${to}${m[3] ? st.dim(`  (${m[3]})`) : ''}`);
    } else if (l === '--') out.push(st.dim('    ‖ at the same time:'));
    else if (/^state ".*" as (\S+) \{$/.test(l)) out.push(`    ${/as (\S+)/.exec(l)![1]} ${st.dim('runs branches in parallel:')}`);
  }
  return out;
}

export function renderTerminal(markdown: string, opts: { width?: number; style?: TerminalStyle } = {}): string {
  const st = opts.style ?? plainStyle;
  const width = Math.max(60, Math.min(opts.width ?? 100, 140));
  const lines = markdown.split('\n');
  const out: string[] = [];
  let para: string[] = [];
  const flush = () => {
    if (para.length) out.push(...wrap(inline(para.join(' '), st), width));
    para = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^<!--.*-->$/.test(line.trim())) continue;
    const fenceOpen = /^(`{3,}|~{3,})(\S*)/.exec(line);
    if (fenceOpen) {
      flush();
      const body: string[] = [];
      for (i++; i < lines.length && !lines[i]!.startsWith(fenceOpen[1]!); i++) body.push(lines[i]!);
      if (fenceOpen[2] === 'mermaid') out.push(...mermaid(body, st));
      else out.push(...body.map((b) => (b.startsWith('#') ? st.dim(`    ${b}`) : `    ${st.cyan(b)}`)));
      continue;
    }
    const h = /^(#{1,6})\s+(.*)$/.exec(line);
    if (h) {
      flush();
      const text = inline(h[2]!, st);
      if (out.length && out[out.length - 1] !== '') out.push('');
      out.push(st.bold(text));
      if (h[1]!.length <= 2) out.push(st.dim((h[1]!.length === 1 ? '═' : '─').repeat(Math.min(width, visibleLength(text)))));
      continue;
    }
    if (line.trim().startsWith('|')) {
      flush();
      const rows: string[][] = [];
      for (; i < lines.length && lines[i]!.trim().startsWith('|'); i++) {
        if (!/^\|?\s*:?-{3,}/.test(lines[i]!.trim())) rows.push(splitRow(lines[i]!));
      }
      i--;
      out.push(...table(rows, width, st));
      continue;
    }
    const li = /^(\s*)[-*]\s+(.*)$/.exec(line);
    if (li) {
      flush();
      const text = wrap(inline(li[2]!, st), width - 4);
      out.push(`${li[1]}  • ${text[0] ?? ''}`, ...text.slice(1).map((t) => `${li[1]}    ${t}`));
      continue;
    }
    const q = /^>\s?(.*)$/.exec(line);
    if (q) {
      flush();
      out.push(`  ${st.yellow('│')} ${inline(q[1]!, st)}`);
      continue;
    }
    if (line.trim() === '') {
      flush();
      if (out.length && out[out.length - 1] !== '') out.push('');
      continue;
    }
    para.push(line.trim());
  }
  flush();
  return `${out.join('\n').replace(/\n+$/, '')}\n`;
}
