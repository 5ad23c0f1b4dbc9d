/**
 * Preloaded into a benchmarked CLI process (`node --import probe.js bin/firebreak.js …`): when
 * the process exits, it writes what only the process itself knows to the file named by
 * FIREBREAK_BENCH_PROBE. Node exposes no child's peak RSS to its parent, and the child's own
 * time origin separates process creation from module loading.
 */
import fs, { writeFileSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';

/** Synchronous durable I/O blocks the event loop: how often and how long, per function. */
const SYNC_IO = ['fdatasyncSync', 'fsyncSync', 'renameSync', 'linkSync'] as const;
const syncIo: Record<string, { calls: number; ms: number }> = {};

const out = process.env.FIREBREAK_BENCH_PROBE;
if (out) {
  const loadedAt = performance.timeOrigin + performance.now();
  const mutable = fs as unknown as Record<string, (...a: unknown[]) => unknown>;
  for (const name of SYNC_IO) {
    const original = mutable[name]!;
    const stat = { calls: 0, ms: 0 };
    syncIo[name] = stat;
    mutable[name] = function timed(this: unknown, ...args: unknown[]) {
      const t = performance.now();
      try {
        return original.apply(this, args);
      } finally {
        stat.calls += 1;
        stat.ms += performance.now() - t;
      }
    };
  }
  // ESM `import { fsyncSync } from 'node:fs'` bindings follow the CommonJS exports only after this.
  syncBuiltinESMExports();
  process.on('exit', (code) => {
    const ru = process.resourceUsage();
    writeFileSync(
      out,
      JSON.stringify({
        timeOrigin: performance.timeOrigin,
        probeLoadedAt: loadedAt,
        exitAt: performance.timeOrigin + performance.now(),
        exitCode: code,
        maxRssKiB: ru.maxRSS,
        userCpuMs: ru.userCPUTime / 1000,
        systemCpuMs: ru.systemCPUTime / 1000,
        // CommonJS packages (the AWS SDK ships CommonJS) are in the require cache even when ESM imported them.
        syncIo,
        awsSdkPackages: [
          ...new Set(
            Object.keys(createRequire(import.meta.url).cache)
              .map((k) => /node_modules\/(@aws-sdk\/[^/]+)\//.exec(k)?.[1])
              .filter(Boolean),
          ),
        ].sort(),
      }),
    );
  });
}
