/**
 * Replace a file so that a crash (kill -9, OS crash, power loss) leaves either the old content or
 * the new, never half of each, and the new content stays once the call returns: write a temporary
 * file beside the target, fsync it, rename it over the target, then fsync the folder, because on
 * Linux a rename is durable only once the folder holding it is synced (see fsync(2), "Calling
 * fsync() does not necessarily ensure that the entry in the directory containing the file has
 * also reached disk"). The temporary file's name ends in `.tmp`, so folder readers can skip or
 * clean it up.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

export interface DurableWriteOptions {
  /** File mode of a newly created file (default 0o644, less the umask). */
  mode?: number;
}

function tempPathFor(file: string): string {
  return join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

// Windows cannot open a folder for fsync; its rename is durable through NTFS's own journal.
const canSyncDirectory = process.platform !== 'win32';

/** fsync a folder, so renames and new entries in it survive a crash. */
export function syncDirectorySync(dir: string): void {
  if (!canSyncDirectory) return;
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export async function syncDirectory(dir: string): Promise<void> {
  if (!canSyncDirectory) return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Rename `from` over `to` and make the rename durable (both in the same folder). */
export function renameDurablySync(from: string, to: string): void {
  renameSync(from, to);
  syncDirectorySync(dirname(to));
}

/** Write `data` to `file` atomically and durably (temp file, fsync, rename, fsync folder). */
export function writeFileDurablySync(file: string, data: string | Uint8Array, opts: DurableWriteOptions = {}): void {
  const tmp = tempPathFor(file);
  const fd = openSync(tmp, 'wx', opts.mode ?? 0o644);
  try {
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  syncDirectorySync(dirname(file));
}

/** The async variant of `writeFileDurablySync`. */
export async function writeFileDurably(file: string, data: string | Uint8Array, opts: DurableWriteOptions = {}): Promise<void> {
  const tmp = tempPathFor(file);
  const handle = await open(tmp, 'wx', opts.mode ?? 0o644);
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await syncDirectory(dirname(file));
}
