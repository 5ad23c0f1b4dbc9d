/** Run the built CLI in a project folder of the test's own (the shared helper runs at the repository root). */
import { cli, type CliResult } from '../helpers/cli.js';

export function cliIn(cwd: string, args: string[], home: string): Promise<CliResult> {
  return cli(args, { home, cwd });
}
