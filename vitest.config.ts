import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Console output of passing tests (rejection paths print on purpose) stays hidden; a failing test shows its own.
    silent: 'passed-only',
    env: { NO_COLOR: '1' },
  },
});
