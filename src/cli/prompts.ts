/**
 * Every prompt Firebreak shows goes through this module, so tests can script or forbid them.
 * Ctrl-C at a prompt becomes `Interrupted` (exit 130; the run stays resumable).
 */
import { Interrupted } from '../core/errors.js';

export interface Choice<V extends string> {
  key: string;
  name: string;
  value: V;
}

function isExit(err: unknown): boolean {
  return err instanceof Error && (err.name === 'ExitPromptError' || err.name === 'AbortPromptError');
}

export async function choose<V extends string>(
  message: string,
  choices: Choice<V>[],
  opts: { default?: string; signal?: AbortSignal; runId?: string } = {},
): Promise<V> {
  const { expand } = await import('@inquirer/prompts');
  try {
    const config = { message, choices, ...(opts.default ? { default: opts.default } : {}) } as unknown as Parameters<typeof expand>[0];
    return (await expand(config, { output: process.stderr, ...(opts.signal ? { signal: opts.signal } : {}) })) as V;
  } catch (err) {
    if (isExit(err)) throw new Interrupted(opts.runId);
    throw err;
  }
}

export async function ask(
  message: string,
  opts: { default?: string; validate?: (v: string) => true | string; signal?: AbortSignal; runId?: string } = {},
): Promise<string> {
  const { input } = await import('@inquirer/prompts');
  try {
    return await input(
      { message, ...(opts.default ? { default: opts.default } : {}), ...(opts.validate ? { validate: opts.validate } : {}) },
      { output: process.stderr, ...(opts.signal ? { signal: opts.signal } : {}) },
    );
  } catch (err) {
    if (isExit(err)) throw new Interrupted(opts.runId);
    throw err;
  }
}

export async function pick<V extends string>(
  message: string,
  choices: Array<{ name: string; value: V; description?: string }>,
  opts: { signal?: AbortSignal } = {},
): Promise<V> {
  const { select } = await import('@inquirer/prompts');
  try {
    return await select({ message, choices }, { output: process.stderr, ...(opts.signal ? { signal: opts.signal } : {}) });
  } catch (err) {
    if (isExit(err)) throw new Interrupted();
    throw err;
  }
}
