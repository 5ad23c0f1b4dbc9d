// PLACEHOLDER: replaced by the command's implementation. Not to be left in a release.
export async function serve(opts: Record<string, unknown>): Promise<void> {
  throw new Error('firebreak serve is not implemented yet');
}
