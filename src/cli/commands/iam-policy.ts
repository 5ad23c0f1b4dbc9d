// PLACEHOLDER: replaced by the command's implementation. Not to be left in a release.
export async function iamPolicy(playbook: string, opts: Record<string, unknown>): Promise<void> {
  throw new Error('firebreak iam-policy is not implemented yet');
}
