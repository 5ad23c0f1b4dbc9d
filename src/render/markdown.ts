/**
 * Escaping for generated Markdown. Text that came from AWS or a journal (tag values, error
 * messages, notes) can hold Markdown or HTML; it goes into code spans or is escaped, so a report
 * shows it as written and never as markup. On GitHub, `<vpc-id>` outside code would be dropped
 * as an unknown HTML tag, which is why placeholders are escaped too.
 */

/** A code span that holds `text` whatever backticks it contains. */
export function code(text: unknown): string {
  const s = oneLine(stringify(text));
  if (s === '') return '` `';
  const longest = Math.max(0, ...(s.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(longest + 1);
  const pad = s.startsWith('`') || s.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${s}${pad}${fence}`;
}

/** A code span inside a table cell: GFM splits cells on `|` even inside code, unless escaped. */
export function cellCode(text: unknown): string {
  return code(text).replace(/\|/g, '\\|');
}

/** Plain text in prose: Markdown and HTML characters escaped. */
export function text(value: unknown): string {
  return stringify(value).replace(/([\\`*_{}[\]<>|#~!])/g, '\\$1');
}

/** Plain text in a table cell: escaped, on one row. */
export function cell(value: unknown): string {
  return text(value).replace(/\r?\n/g, '<br>');
}

/** Markdown written by Firebreak's authors (descriptions), made to fit on one table row. */
export function inlineMarkdown(md: string | undefined): string {
  return (md ?? '')
    .trim()
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\|/g, '\\|');
}

export function stringify(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

/** A before/after value as a responder reads it: a list of ids as `a, b`, anything else as JSON. */
export function value(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v.length ? cellCode(v.join(', ')) : '(none)';
  return cellCode(v);
}

function oneLine(s: string): string {
  return s.replace(/\r?\n/g, ' ⏎ ');
}

/** A fenced code block that holds `body` whatever fences it contains. */
export function fence(body: string, lang = ''): string {
  const longest = Math.max(2, ...(body.match(/^`{3,}/gm) ?? []).map((r) => r.length));
  const f = '`'.repeat(longest + 1);
  return `${f}${lang}\n${body.replace(/\n$/, '')}\n${f}`;
}

/** At most one blank line in a row, one newline at the end: stable output whatever the template's whitespace. */
export function tidy(text: string): string {
  const lines = text.split('\n').map((l) => l.replace(/[ \t]+$/, ''));
  const out: string[] = [];
  let inFence = false;
  for (const l of lines) {
    if (/^(```|~~~)/.test(l)) inFence = !inFence;
    if (!inFence && l === '' && out[out.length - 1] === '') continue;
    out.push(l);
  }
  return out.join('\n').replace(/^\n+/, '').replace(/\n*$/, '\n');
}
