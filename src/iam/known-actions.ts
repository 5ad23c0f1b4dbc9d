/** The checked-in list of real IAM actions (known-actions.txt, with its provenance in its header). */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The list ships as data beside this module's source, found from the source or the build. */
function listFile(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'src', 'iam', 'known-actions.txt');
    if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) throw new Error('failed to find src/iam/known-actions.txt above the Firebreak installation');
    dir = up;
  }
}

let cached: ReadonlySet<string> | undefined;

/** `ec2:DescribeInstances`, … as written in the list (IAM action names compare case-insensitively; use `isKnownAction`). */
export function knownActions(): ReadonlySet<string> {
  cached ??= new Set(
    readFileSync(listFile(), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#')),
  );
  return cached;
}

let lower: ReadonlySet<string> | undefined;

/**
 * Exact match: IAM compares action names case-insensitively, but the permission guard compares the
 * SDK's command name exactly, so a declaration must be spelled as AWS documents it.
 */
export function isKnownAction(action: string): boolean {
  return knownActions().has(action);
}

/** Case-insensitive lookup, for a hint when a declared name differs only in case. */
export function knownSpelling(action: string): string | undefined {
  lower ??= new Set([...knownActions()].map((a) => a.toLowerCase()));
  if (!lower.has(action.toLowerCase())) return undefined;
  return [...knownActions()].find((a) => a.toLowerCase() === action.toLowerCase());
}
