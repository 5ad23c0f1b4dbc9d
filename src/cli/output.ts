/**
 * Terminal output. Colour is decided per stream: stdout's lines are coloured only when stdout is a
 * terminal, stderr's only when stderr is (`firebreak run … 2>err.txt` at a terminal leaves no
 * escape codes in the file); NO_COLOR turns it off and FORCE_COLOR on (FORCE_COLOR=0 off).
 * `--json` prints one JSON document on stdout and nothing else there (progress goes to stderr).
 */
import { styleText, stripVTControlCharacters } from 'node:util';

type Style = Parameters<typeof styleText>[0];

export function colorEnabled(stream: NodeJS.WriteStream = process.stdout): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  const force = process.env.FORCE_COLOR;
  if (force !== undefined && force !== '') return force !== '0' && force !== 'false';
  return !!stream.isTTY;
}

/** Text as this stream should receive it: escape codes removed where it takes no colour. */
export function forStream(stream: NodeJS.WriteStream, text: string): string {
  return colorEnabled(stream) ? text : stripVTControlCharacters(text);
}

// Lines are painted when either stream takes colour, and each writer strips what its own stream
// must not receive: the same formatted line can go to stdout (audit show) or stderr (progress).
const anyColor = () => colorEnabled(process.stdout) || colorEnabled(process.stderr);

export function paint(style: Style, text: string): string {
  // validateStream: false: whether colour is wanted was decided above, for the stream written to.
  return anyColor() ? styleText(style, text, { validateStream: false }) : text;
}

export const c = {
  bold: (t: string) => paint('bold', t),
  dim: (t: string) => paint('dim', t),
  red: (t: string) => paint('red', t),
  green: (t: string) => paint('green', t),
  yellow: (t: string) => paint('yellow', t),
  cyan: (t: string) => paint('cyan', t),
};

export function out(line = ''): void {
  process.stdout.write(`${forStream(process.stdout, line)}\n`);
}

export function err(line = ''): void {
  process.stderr.write(`${forStream(process.stderr, line)}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Stable short rendering of a value for plan tables. */
export function short(v: unknown, max = 80): string {
  if (v === null || v === undefined) return '—';
  const s = typeof v === 'string' ? v : Array.isArray(v) && v.every((x) => typeof x === 'string') ? v.join(', ') : JSON.stringify(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
