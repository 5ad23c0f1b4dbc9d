/** The SNS operations Firebreak sends. */
import type { SimContext, SimService } from '../../service.js';
import { TOPIC_NAME, type SnsWorld, type WithSns } from './schema.js';

export const snsOf = (ctx: SimContext): SnsWorld => (ctx.world as WithSns).sns;
export const topicArn = (ctx: SimContext, name: string) => `arn:aws:sns:${ctx.region}:${ctx.accountId}:${name}`;

/** SNS's limits on a message: 256 KiB in all, a 100-character single-line subject. */
export const MAX_MESSAGE_BYTES = 262_144;

export function invalid(ctx: SimContext, what: string): never {
  return ctx.fail('InvalidParameterException', `Invalid parameter: ${what}`, 400);
}

export const handlers: SimService['handlers'] = {
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
