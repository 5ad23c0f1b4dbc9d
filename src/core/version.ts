/** Firebreak's version: shown by `--version`, recorded in every run.started and in the SDK's user agent. Kept equal to package.json's (test/core/layers.test.ts). */
export const VERSION = '0.1.0';
