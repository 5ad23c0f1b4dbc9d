/** What the figures were measured on: they mean little without it. */
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './child.js';

export interface MachineInfo {
  date: string;
  nproc: number;
  cpuModel: string;
  node: string;
  platform: string;
  commit?: string;
  loadAverage: { start: number[]; end?: number[] };
}

function commit(): string | undefined {
  // Read, not `git rev-parse`: the benchmark must run where git is not installed.
  const head = join(ROOT, '.git/HEAD');
  if (!existsSync(head)) return undefined;
  const ref = readFileSync(head, 'utf8').trim();
  if (!ref.startsWith('ref: ')) return ref;
  const refFile = join(ROOT, '.git', ref.slice(5));
  if (existsSync(refFile)) return readFileSync(refFile, 'utf8').trim();
  const packed = join(ROOT, '.git/packed-refs');
  if (!existsSync(packed)) return undefined;
  return readFileSync(packed, 'utf8')
    .split('\n')
    .find((l) => l.endsWith(` ${ref.slice(5)}`))
    ?.split(' ')[0];
}

export const load = () => loadavg().map((x) => Math.round(x * 100) / 100);

export function machine(): MachineInfo {
  const c = commit();
  return {
    date: new Date().toISOString(),
    nproc: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    ...(c ? { commit: c } : {}),
    loadAverage: { start: load() },
  };
}
