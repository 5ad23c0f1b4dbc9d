// PLACEHOLDER: replaced by the command's implementation. Not to be left in a release.
export async function undo(runId: string, steps: string[], opts: Record<string, unknown>): Promise<void> {
  throw new Error('firebreak undo is not implemented yet');
}
