/**
 * Alerts the server accepted (answered 202) but has not finished handling: `<home>/spool/*.json`.
 * An accepted alert is written here, fsynced, before the answer goes out, and removed once its run
 * started (or its repeat was recorded). SNS and webhook senders do not resend what got a 2xx, so
 * a server stopped (SIGTERM, crash) with alerts still queued handles them when it starts again.
 * Alerts are written redacted, like everything else Firebreak writes: a spool file can outlive a crash.
 * An entry that cannot be read (a torn write, a hand edit) is moved to `spool/quarantine/` and
 * reported, so one bad file never keeps the server from starting.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { writeFileDurablySync } from '../core/durable-write.js';
import { redact } from '../audit/redact.js';
import type { Alert } from './alert.js';
import type { Via } from './dispatch.js';

export interface SpoolEntry {
  file: string;
  alert: Alert;
  via: Via;
  receivedAt: string;
}

export class Spool {
  private seq = 0;

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  put(alert: Alert, via: Via, receivedAt: Date): SpoolEntry {
    // Sortable by arrival, unique within this process and across restarts (time first).
    const name = `${receivedAt.getTime().toString().padStart(14, '0')}-${process.pid}-${String(++this.seq).padStart(6, '0')}-${alert.runId}.json`;
    const file = join(this.dir, name);
    writeFileDurablySync(file, `${JSON.stringify(redact({ via, receivedAt: receivedAt.toISOString(), alert }))}\n`, { mode: 0o600 });
    return { file, alert, via, receivedAt: receivedAt.toISOString() };
  }

  remove(entry: SpoolEntry): void {
    unlinkSync(entry.file);
  }

  /** Entries left by an earlier server, oldest first. A leftover temp file was never acknowledged: removed. */
  pending(): { entries: SpoolEntry[]; quarantined: Quarantined[] } {
    const entries: SpoolEntry[] = [];
    const quarantined: Quarantined[] = [];
    for (const name of readdirSync(this.dir).sort()) {
      const file = join(this.dir, name);
      if (name.endsWith('.tmp')) {
        unlinkSync(file);
        continue;
      }
      if (!name.endsWith('.json')) continue;
      try {
        entries.push({ file, ...readEntry(file) });
      } catch (err) {
        const qdir = join(this.dir, 'quarantine');
        mkdirSync(qdir, { recursive: true });
        const to = join(qdir, basename(file));
        renameSync(file, to);
        quarantined.push({ file, movedTo: to, reason: (err as Error).message });
      }
    }
    return { entries, quarantined };
  }
}

export interface Quarantined {
  file: string;
  movedTo: string;
  reason: string;
}

function readEntry(file: string): Omit<SpoolEntry, 'file'> {
  const v = JSON.parse(readFileSync(file, 'utf8')) as Partial<SpoolEntry> | null;
  const alert = v?.alert;
  if (
    !v ||
    typeof v.via !== 'string' ||
    typeof v.receivedAt !== 'string' ||
    !alert ||
    typeof alert !== 'object' ||
    typeof alert.runId !== 'string'
  ) {
    throw new Error('not a spooled alert (via, receivedAt and alert.runId are required)');
  }
  return { via: v.via, receivedAt: v.receivedAt, alert };
}
