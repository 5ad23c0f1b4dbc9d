// PLACEHOLDER: replaced by the command's implementation. Not to be left in a release.
export async function schemas(opts: Record<string, unknown>): Promise<void> {
  throw new Error('firebreak schemas is not implemented yet');
}
