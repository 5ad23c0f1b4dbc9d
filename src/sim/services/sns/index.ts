/**
 * Simulated Amazon SNS: topics, and a log of every message published to them — what a playbook
 * sends to notify people, and what a tabletop facilitator reads back.
 *
 * Error names given to `ctx.fail` are what the SDK surfaces as `err.name` (the wire code
 * `NotFound` arrives as `NotFoundException`, `InvalidParameter` as `InvalidParameterException`).
 */
import * as z from 'zod';
import type { SimContext, SimService } from '../../service.js';
import { SNS } from '../../../cloud/sdk.js';

const Timestamp = z.iso.datetime({ offset: true });
const Tags = z.record(z.string().min(1).max(128), z.string().max(256)).default({}).describe('tag key → value');
// Topic names: 1–256 letters, digits, hyphens and underscores; FIFO topics end in .fifo.
const TOPIC_NAME = /^[A-Za-z0-9_-]{1,256}$|^[A-Za-z0-9_-]{1,251}\.fifo$/;

const Topic = z.strictObject({
  name: z.string().regex(TOPIC_NAME, 'letters, digits, hyphens and underscores (and .fifo for FIFO topics)'),
  displayName: z.string().optional(),
  tags: Tags,
});

const Published = z.strictObject({
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
interface WithSns {
  sns: SnsWorld;
}

const snsOf = (ctx: SimContext): SnsWorld => (ctx.world as WithSns).sns;
const topicArn = (ctx: SimContext, name: string) => `arn:aws:sns:${ctx.region}:${ctx.accountId}:${name}`;

/** SNS's limits on a message: 256 KiB in all, a 100-character single-line subject. */
const MAX_MESSAGE_BYTES = 262_144;

function invalid(ctx: SimContext, what: string): never {
  return ctx.fail('InvalidParameterException', `Invalid parameter: ${what}`, 400);
}

const handlers: SimService['handlers'] = {
  CreateTopic(ctx: SimContext, input: { Name?: string; Attributes?: Record<string, string>; Tags?: { Key: string; Value: string }[] }) {
    const name = input.Name;
    if (!name || !TOPIC_NAME.test(name)) invalid(ctx, 'Topic Name');
    const fifo = input.Attributes?.FifoTopic === 'true';
    if (fifo !== name.endsWith('.fifo')) invalid(ctx, 'Topic Name');
    // CreateTopic is idempotent: the same name returns the existing topic.
    if (!snsOf(ctx).topics.some((t) => t.name === name)) {
      snsOf(ctx).topics.push({
        name,
        ...(input.Attributes?.DisplayName !== undefined ? { displayName: input.Attributes.DisplayName } : {}),
        tags: Object.fromEntries((input.Tags ?? []).map((t) => [t.Key, t.Value])),
      });
      ctx.changed();
    }
    return { TopicArn: topicArn(ctx, name) };
  },

  ListTopics(ctx: SimContext, input: { NextToken?: string }) {
    // SNS pages ListTopics by 100.
    const start = input.NextToken ? Number(input.NextToken) : 0;
    const topics = snsOf(ctx).topics;
    const page = topics.slice(start, start + 100);
    return {
      Topics: page.map((t) => ({ TopicArn: topicArn(ctx, t.name) })),
      ...(start + 100 < topics.length ? { NextToken: String(start + 100) } : {}),
    };
  },

  Publish(
    ctx: SimContext,
    input: {
      TopicArn?: string;
      TargetArn?: string;
      PhoneNumber?: string;
      Message?: string;
      Subject?: string;
      MessageStructure?: string;
      MessageAttributes?: Record<string, { DataType?: string; StringValue?: string }>;
      MessageGroupId?: string;
    },
  ) {
    const arn = input.TopicArn ?? input.TargetArn;
    if (!arn) {
      if (input.PhoneNumber) invalid(ctx, 'PhoneNumber: SMS is not simulated');
      invalid(ctx, 'TopicArn or TargetArn Reason: no value for required parameter');
    }
    const m = /^arn:aws[\w-]*:sns:([\w-]+):(\d{12}):([A-Za-z0-9_.-]+)$/.exec(arn);
    if (!m) invalid(ctx, 'TopicArn');
    const topic = m[1] === ctx.region && m[2] === ctx.accountId ? snsOf(ctx).topics.find((t) => t.name === m[3]) : undefined;
    if (!topic) ctx.fail('NotFoundException', 'Topic does not exist', 404);
    const message = input.Message;
    if (message === undefined || message === '') invalid(ctx, 'Empty message');
    if (Buffer.byteLength(message) > MAX_MESSAGE_BYTES) invalid(ctx, 'Message too long');
    if (input.Subject !== undefined && (input.Subject.length === 0 || input.Subject.length > 100 || /[\r\n]/.test(input.Subject)))
      invalid(ctx, 'Subject');
    if (input.MessageStructure !== undefined) {
      if (input.MessageStructure !== 'json') invalid(ctx, 'MessageStructure');
      let parsed: unknown;
      try {
        parsed = JSON.parse(message);
      } catch {
        parsed = undefined;
      }
      if (!parsed || typeof parsed !== 'object' || typeof (parsed as { default?: unknown }).default !== 'string') {
        invalid(ctx, 'Message Structure - No default entry in JSON message body');
      }
    }
    if (topic.name.endsWith('.fifo') && !input.MessageGroupId) invalid(ctx, 'The MessageGroupId parameter is required for FIFO topics');
    const hex = ctx.newId('m', 32).slice(2);
    const messageId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
    const attributes = input.MessageAttributes
      ? Object.fromEntries(
          Object.entries(input.MessageAttributes).map(([k, v]) => [k, { dataType: v.DataType ?? 'String', value: v.StringValue ?? '' }]),
        )
      : undefined;
    snsOf(ctx).published.push({
      messageId,
      topicArn: arn,
      ...(input.Subject !== undefined ? { subject: input.Subject } : {}),
      message,
      ...(attributes ? { messageAttributes: attributes } : {}),
      ...(input.MessageGroupId ? { messageGroupId: input.MessageGroupId } : {}),
      at: ctx.clock.now().toISOString(),
    });
    ctx.changed();
    return { MessageId: messageId };
  },
};

export const service: SimService<SnsWorld> = {
  clientName: 'SNSClient',
  key: 'sns',
  schema,
  handlers,
  // A getter: the SDK package loads when the simulated service first fails a call, not when the simulation loads.
  get exception() {
    return SNS.SNSServiceException;
  },
};
