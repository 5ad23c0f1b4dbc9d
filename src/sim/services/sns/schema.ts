/** The SNS slice of the world: topics and the messages published to them. */
import * as z from 'zod';
import { Timestamp, Tags } from '../../kit.js';

// Topic names: 1–256 letters, digits, hyphens and underscores; FIFO topics end in .fifo.
export const TOPIC_NAME = /^[A-Za-z0-9_-]{1,256}$|^[A-Za-z0-9_-]{1,251}\.fifo$/;

export const Topic = z.strictObject({
  name: z.string().regex(TOPIC_NAME, 'letters, digits, hyphens and underscores (and .fifo for FIFO topics)'),
  displayName: z.string().optional(),
  tags: Tags,
});

export const Published = z.strictObject({
  messageId: z.string(),
  topicArn: z.string(),
  subject: z.string().optional(),
  message: z.string(),
  messageAttributes: z.record(z.string(), z.strictObject({ dataType: z.string(), value: z.string() })).optional(),
  messageGroupId: z.string().optional(),
  at: Timestamp,
});

export const schema = z
  .strictObject({
    topics: z.array(Topic).default([]),
    /** Every message published, oldest first. */
    published: z.array(Published).default([]),
  })
  .superRefine((sns, check) => {
    const names = new Set<string>();
    sns.topics.forEach((t, i) => {
      if (names.has(t.name)) check.addIssue({ code: 'custom', path: ['topics', i, 'name'], message: `duplicate topic name '${t.name}'` });
      names.add(t.name);
    });
  })
  .prefault({});

export type SnsWorld = z.infer<typeof schema>;
export type PublishedMessage = z.infer<typeof Published>;
export interface WithSns {
  sns: SnsWorld;
}
