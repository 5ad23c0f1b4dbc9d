/**
 * The simulated world of a run is saved in the run folder after every change, synchronously and
 * atomically (temp file, fsync, rename), so a run killed at any moment resumes on the world as
 * it was after the last completed call.
 */
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';

export function saveWorldSync(world: unknown, file: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, JSON.stringify(world, null, 1) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}
