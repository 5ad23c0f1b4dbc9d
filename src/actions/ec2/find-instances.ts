import type { Filter } from '@aws-sdk/client-ec2';
import * as z from 'zod';
import { GuardrailRefusal } from '../../core/errors.js';
import { defineAction } from '../define.js';
import { EC2 } from '../../cloud/sdk.js';

const TagFilter = z.string().regex(/^[^=]{1,128}(=.{0,256})?$/, 'a tag as Key=Value (or Key alone for any value)');

const Input = z
  .strictObject({
    tags: z.array(TagFilter).max(10).default([]),
    imageIds: z
      .array(z.string().regex(/^ami-[0-9a-f]{8,17}$/, 'an AMI id such as ami-0123456789abcdef0'))
      .max(50)
      .default([]),
    vpcIds: z
      .array(z.string().regex(/^vpc-[0-9a-f]{8,17}$/, 'a VPC id such as vpc-0123456789abcdef0'))
      .max(50)
      .default([]),
    states: z
      .array(z.enum(['pending', 'running', 'stopping', 'stopped']))
      .min(1)
      .default(['pending', 'running', 'stopping', 'stopped']),
  })
  // Without a selector the answer is every instance of the Region: a fleet response must say which fleet.
  .refine((i) => i.tags.length + i.imageIds.length + i.vpcIds.length > 0, { message: 'give at least one of tags, imageIds or vpcIds' });
type Input = z.infer<typeof Input>;

export interface FindOutput {
  instanceIds: string[];
  /** Matching instances left out because they carry the protected tag. */
  protected: string[];
}

function filtersOf(input: Input): Filter[] {
  const filters: Filter[] = [];
  // Tags with the same key are OR-ed (one filter, several values); different keys are AND-ed.
  const byKey = new Map<string, string[] | null>();
  for (const t of input.tags) {
    const i = t.indexOf('=');
    const key = i < 0 ? t : t.slice(0, i);
    if (i < 0) byKey.set(key, null);
    else if (byKey.get(key) !== null) byKey.set(key, [...(byKey.get(key) ?? []), t.slice(i + 1)]);
  }
  for (const [key, values] of byKey)
    filters.push(values === null ? { Name: 'tag-key', Values: [key] } : { Name: `tag:${key}`, Values: values });
  if (input.imageIds.length) filters.push({ Name: 'image-id', Values: input.imageIds });
  if (input.vpcIds.length) filters.push({ Name: 'vpc-id', Values: input.vpcIds });
  filters.push({ Name: 'instance-state-name', Values: input.states });
  return filters;
}

export default defineAction<Input, FindOutput, FindOutput>({
  id: 'ec2.find-instances',
  summary: 'Find the instances of a fleet response: by tag, AMI or VPC (read-only)',
  description: [
    'A lookup for fleet responses: the instances launched from a compromised AMI, carrying a tag, or in a VPC. Its',
    '`instanceIds` feed a `map` step, which the engine bounds by the `maxTargets` guardrail before anything changes.',
    'Instances carrying the protected tag are left out and listed in `protected`, so one protected instance does not fail',
    'the whole fleet step. Terminated instances are never listed.',
  ].join('\n'),
  controls: ['CC18'],
  input: Input,
  mutating: false,
  permissions: ['ec2:DescribeInstances'],

  async plan(ctx, input) {
    const ids: string[] = [];
    const skipped: string[] = [];
    for await (const page of EC2.paginateDescribeInstances({ client: ctx.aws.ec2 }, { Filters: filtersOf(input), MaxResults: 1000 })) {
      for (const inst of page.Reservations?.flatMap((r) => r.Instances ?? []) ?? []) {
        try {
          ctx.guard.assertNotProtected(inst.InstanceId!, inst.Tags);
          ids.push(inst.InstanceId!);
        } catch (err) {
          if (!(err instanceof GuardrailRefusal)) throw err;
          skipped.push(inst.InstanceId!);
        }
      }
    }
    const notes = [`${ids.length} instance(s) found`];
    if (skipped.length) notes.push(`left out (protected tag): ${skipped.join(', ')}`);
    return { changes: [], alreadyDone: true, notes, facts: { instanceIds: ids.sort(), protected: skipped.sort() } };
  },

  async apply(_ctx, _input, plan) {
    return plan.facts;
  },

  async verify() {
    return [];
  },

  fallback: () => [
    "aws ec2 describe-instances --filters Name=tag:<key>,Values=<value> Name=instance-state-name,Values=running,stopped --query 'Reservations[].Instances[].InstanceId'",
  ],
});
