// PLACEHOLDER: replaced by the command's implementation. Not to be left in a release.
export async function report(runId: string, opts: Record<string, unknown>): Promise<void> {
  throw new Error('firebreak report is not implemented yet');
}
