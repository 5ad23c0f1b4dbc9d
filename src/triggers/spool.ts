/**
 * Alerts the server accepted (answered 202) but has not finished handling: `<home>/spool/*.json`.
 * An accepted alert is written here, fsynced, before the answer goes out, and removed once its run
 * started (or its repeat was recorded). SNS and webhook senders do not resend what got a 2xx, so
 * a server stopped (SIGTERM, crash) with alerts still queued handles them when it starts again.
 */
import { mkdirSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { writeFileDurablySync } from '../core/durable-write.js';
import { join } from 'node:path';
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
    writeFileDurablySync(file, `${JSON.stringify({ via, receivedAt: receivedAt.toISOString(), alert })}\n`, { mode: 0o600 });
    return { file, alert, via, receivedAt: receivedAt.toISOString() };
  }

  remove(entry: SpoolEntry): void {
    unlinkSync(entry.file);
  }

  /** Entries left by an earlier server, oldest first. A leftover temp file was never acknowledged: removed. */
  pending(): SpoolEntry[] {
    const out: SpoolEntry[] = [];
    for (const name of readdirSync(this.dir).sort()) {
      const file = join(this.dir, name);
      if (name.endsWith('.tmp')) {
        unlinkSync(file);
        continue;
      }
      if (!name.endsWith('.json')) continue;
      const v = JSON.parse(readFileSync(file, 'utf8')) as { via: Via; receivedAt: string; alert: Alert };
      out.push({ file, alert: v.alert, via: v.via, receivedAt: v.receivedAt });
    }
    return out;
  }
}
