/**
 * A simulated world saved synchronously and durably (temp file, fsync, rename): the run's copy
 * of the world in its folder is rewritten after every change, so a run killed at any moment
 * resumes on a world that has every change its journal's decisions depend on.
 */
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';

export function saveWorldSync(world: unknown, file: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, `${JSON.stringify(world, null, 1)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}
