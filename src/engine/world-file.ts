/**
 * The simulated world of a run is saved in the run folder synchronously and atomically (temp
 * file, fsync, rename) before each decision the journal records, so a run killed at any moment
 * resumes on a world that has every change its journal's decisions depend on. Changes made after
 * the last decision may be lost with the process, as if the calls had not been made: the step
 * they belong to is not recorded as applied, so the resumed run plans and applies it again.
 */
import { writeFileDurablySync } from '../core/durable-write.js';

export function saveWorldSync(world: unknown, file: string): void {
  writeFileDurablySync(file, `${JSON.stringify(world, null, 1)}\n`);
}
