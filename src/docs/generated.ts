/**
 * Generated files (runbooks, JSON Schemas) are written by a command and checked for staleness in
 * CI: `--check` compares what the command would write with what is on disk and changes nothing.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { writeFileDurablySync } from '../core/durable-write.js';
import { dirname, join } from 'node:path';

export interface GeneratedFile {
  /** Relative to the project folder, with forward slashes: `runbooks/ec2-instance-compromise.md`. */
  path: string;
  content: string;
}

export type SyncStatus = 'written' | 'unchanged' | 'stale' | 'missing' | 'removed' | 'orphaned';

export interface SyncResult {
  path: string;
  status: SyncStatus;
}

export interface SyncOptions {
  check: boolean;
  /**
   * The folder the command owns and the marker its files carry: a file there with the marker but
   * no longer generated (its playbook was deleted) is removed, or reported by `--check`.
   */
  owned?: { dir: string; marker: string };
}

/** Write (or, with `check`, compare) every file. Nothing outside `files` and `owned` is touched. */
export function syncGenerated(projectDir: string, files: readonly GeneratedFile[], opts: SyncOptions): SyncResult[] {
  const results: SyncResult[] = [];
  for (const f of files) {
    const abs = join(projectDir, f.path);
    const current = existsSync(abs) ? readFileSync(abs, 'utf8') : undefined;
    if (current === f.content) {
      results.push({ path: f.path, status: 'unchanged' });
    } else if (opts.check) {
      results.push({ path: f.path, status: current === undefined ? 'missing' : 'stale' });
    } else {
      mkdirSync(dirname(abs), { recursive: true });
      // A reader (an editor, a concurrent check) never sees half a file.
      writeFileDurablySync(abs, f.content);
      results.push({ path: f.path, status: 'written' });
    }
  }
  if (opts.owned) {
    const dir = join(projectDir, opts.owned.dir);
    const wanted = new Set(files.map((f) => f.path));
    const present = existsSync(dir) ? readdirSync(dir).sort() : [];
    for (const name of present) {
      const rel = `${opts.owned.dir}/${name}`;
      if (wanted.has(rel)) continue;
      const abs = join(dir, name);
      let head: string;
      try {
        head = readFileSync(abs, 'utf8').slice(0, 400);
      } catch (err) {
        // A sub-folder or unreadable entry is not one of ours.
        if ((err as NodeJS.ErrnoException).code === 'EISDIR') continue;
        throw err;
      }
      if (!head.includes(opts.owned.marker)) continue;
      if (opts.check) results.push({ path: rel, status: 'orphaned' });
      else {
        rmSync(abs);
        results.push({ path: rel, status: 'removed' });
      }
    }
  }
  return results;
}

/** Results that make `--check` fail. */
export function staleOf(results: readonly SyncResult[]): SyncResult[] {
  return results.filter((r) => r.status === 'stale' || r.status === 'missing' || r.status === 'orphaned');
}

export function describeStale(r: SyncResult, command: string): string {
  switch (r.status) {
    case 'missing':
      return `${r.path} is missing`;
    case 'orphaned':
      return `${r.path} was generated for a file that no longer exists`;
    default:
      return `${r.path} is stale: it differs from what \`${command}\` writes`;
  }
}
