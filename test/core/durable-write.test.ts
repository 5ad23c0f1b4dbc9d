import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileDurably, writeFileDurablySync } from '../../src/core/durable-write.js';

const fresh = () => mkdtempSync(join(tmpdir(), 'fb-durable-'));

describe.each([
  ['sync', async (f: string, d: string, mode?: number) => writeFileDurablySync(f, d, mode === undefined ? {} : { mode })],
  ['async', (f: string, d: string, mode?: number) => writeFileDurably(f, d, mode === undefined ? {} : { mode })],
])('durable write (%s)', (_name, write) => {
  it('replaces an existing file and leaves no temporary file beside it', async () => {
    const dir = fresh();
    const file = join(dir, 'state.json');
    writeFileSync(file, 'old\n');
    await write(file, 'new\n');
    expect(readFileSync(file, 'utf8')).toBe('new\n');
    expect(readdirSync(dir)).toEqual(['state.json']);
  });

  it('creates a new file with the mode asked for', async () => {
    const dir = fresh();
    const file = join(dir, 'alert.json');
    await write(file, '{}\n', 0o600);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('removes its temporary file when the rename fails, leaving the target as it was', async () => {
    const dir = fresh();
    const target = join(dir, 'taken');
    mkdirSync(target);
    writeFileSync(join(target, 'inside'), 'kept');
    await expect(write(target, 'x')).rejects.toThrow(/EISDIR|ENOTEMPTY|EEXIST|EPERM/);
    expect(readdirSync(dir)).toEqual(['taken']);
    expect(readFileSync(join(target, 'inside'), 'utf8')).toBe('kept');
  });
});
