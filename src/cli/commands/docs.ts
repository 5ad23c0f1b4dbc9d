// PLACEHOLDER: replaced by the command's implementation. Not to be left in a release.
export async function docs(opts: Record<string, unknown>): Promise<void> {
  throw new Error('firebreak docs is not implemented yet');
}
