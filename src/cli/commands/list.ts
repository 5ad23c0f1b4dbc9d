// PLACEHOLDER: replaced by the command's implementation. Not to be left in a release.
export async function list(opts: Record<string, unknown>): Promise<void> {
  throw new Error('firebreak list is not implemented yet');
}
