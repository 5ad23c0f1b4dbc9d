// PLACEHOLDER: replaced by the command's implementation. Not to be left in a release.
export async function trigger(opts: Record<string, unknown>): Promise<void> {
  throw new Error('firebreak trigger is not implemented yet');
}
