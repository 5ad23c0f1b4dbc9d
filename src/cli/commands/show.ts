// PLACEHOLDER: replaced by the command's implementation. Not to be left in a release.
export async function show(playbook: string, opts: Record<string, unknown>): Promise<void> {
  throw new Error('firebreak show is not implemented yet');
}
