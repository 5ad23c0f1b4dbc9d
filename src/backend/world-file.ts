/**
 * A simulated world saved synchronously and durably (temp file, fsync, rename): the run's copy
 * of the world in its folder is rewritten after every change, so a run killed at any moment
 * resumes on a world that has every change its journal's decisions depend on.
 */
import { writeFileDurablySync } from '../core/durable-write.js';

export function saveWorldSync(world: unknown, file: string): void {
  writeFileDurablySync(file, `${JSON.stringify(world, null, 1)}\n`);
}
