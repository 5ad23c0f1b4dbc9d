/**
 * The tags that say which incidents hold an isolated instance. One key per incident,
 * `firebreak:incident:<incident>` = the run that isolated it for that incident, and
 * `firebreak:isolated-at` = when it was first isolated, kept while any incident holds it.
 *
 * Why a key per incident rather than one `firebreak:incident` tag holding a list: EC2 filters and
 * the Resource Groups Tagging API match a tag's value exactly, so a responder finds an incident's
 * instances with `Name=tag-key,Values=firebreak:incident:INC-1` (or a TagFilter with that key and
 * no value) however many other incidents hold them, and every held instance with
 * `Values=firebreak:incident:*`; a list value would need wildcards that also match INC-10 when
 * looking for INC-1, and would run into the 256-character value limit. Each incident costs one of
 * the 50 tags a resource may carry.
 */
import { createHash } from 'node:crypto';
import type { Tag } from '@aws-sdk/client-ec2';
import { TAG } from './ec2.js';

export const INCIDENT_TAG_PREFIX = `${TAG.incident}:`;

/** AWS tag keys are at most 128 characters: a longer incident id keeps its start and a digest of the whole. */
export function incidentTagKey(incident: string): string {
  const key = `${INCIDENT_TAG_PREFIX}${incident}`;
  if (key.length <= 128) return key;
  const digest = createHash('sha256').update(incident).digest('hex').slice(0, 16);
  return `${key.slice(0, 128 - 17)}~${digest}`;
}

/** The incidents holding an instance (their tag keys and the runs that isolated it), other than `except`. */
export function holders(tags: Tag[] | undefined, except?: string): Array<{ key: string; run: string }> {
  return (tags ?? [])
    .filter((t) => t.Key?.startsWith(INCIDENT_TAG_PREFIX) && t.Key !== except)
    .map((t) => ({ key: t.Key!, run: t.Value ?? '' }));
}
