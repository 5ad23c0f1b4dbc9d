/**
 * Terminal output: colour only on a TTY and never with NO_COLOR; `--json` prints one JSON
 * document on stdout and nothing else there (progress goes to stderr).
 */
import { styleText } from 'node:util';

type Style = Parameters<typeof styleText>[0];

export function colorEnabled(stream: NodeJS.WriteStream = process.stdout): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (process.env.FORCE_COLOR) return true;
  return !!stream.isTTY;
}

export function paint(style: Style, text: string, stream: NodeJS.WriteStream = process.stdout): string {
  return colorEnabled(stream) ? styleText(style, text) : text;
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
  process.stdout.write(`${line}\n`);
}

export function err(line = ''): void {
  process.stderr.write(`${line}\n`);
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
