// PLACEHOLDER: replaced by the command's implementation. Not to be left in a release.
export async function tabletop(scenario: string, opts: Record<string, unknown>): Promise<void> {
  throw new Error('firebreak tabletop is not implemented yet');
}
