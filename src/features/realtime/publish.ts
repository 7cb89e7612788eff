import { desc, eq } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { messages } from '../conversations/schema.ts';

type MessageRow = typeof messages.$inferSelect;

/** The fields of a message every `message.created` event carries. */
export function messageEventData(row: MessageRow): Record<string, unknown> {
  return {
    messageId: row.id,
    conversationId: row.conversationId,
    direction: row.direction,
    sender: row.sender,
    senderUserId: row.senderUserId,
    type: row.type,
    text: row.text,
    status: row.status,
    createdAt: row.createdAt.toISOString(),
  };
}

/**
 * Publishes `message.created` for the messages of one logical write: the outgoing ones keyed
 * `<idempotencyPrefix>:n`, and the inbound one of `inboundUpdateId` when given. They are among
 * the conversation's newest, so one short backward scan of its (conversation, created_at)
 * index finds them however long the conversation is. Never throws.
 */
export async function publishMessages(
  ctx: AppContext,
  options: {
    workspaceId: string;
    conversationId: string;
    idempotencyPrefix?: string | undefined;
    inboundUpdateId?: number | undefined;
  },
): Promise<void> {
  try {
    const recent = await ctx.db
      .select()
      .from(messages)
      .where(eq(messages.conversationId, options.conversationId))
      .orderBy(desc(messages.createdAt), desc(messages.id))
      .limit(RECENT);
    const prefix = options.idempotencyPrefix ? `${options.idempotencyPrefix}:` : undefined;
    const rows = recent.reverse().filter((row) => {
      if (options.inboundUpdateId !== undefined && row.direction === 'in')
        return row.sourceUpdateId === options.inboundUpdateId;
      const key = row.payload.idempotencyKey;
      return prefix !== undefined && typeof key === 'string' && key.startsWith(prefix);
    });
    await publishMessageRows(ctx, options.workspaceId, rows);
  } catch (error) {
    ctx.logger.error({ err: error, conversationId: options.conversationId }, 'message events not published');
  }
}

/** Publishes `message.created` for messages the caller has in hand (just written). */
export async function publishMessageRows(
  ctx: AppContext,
  workspaceId: string,
  rows: MessageRow[],
): Promise<void> {
  for (const row of rows) {
    await ctx.events.publish({ workspaceId, type: 'message.created', data: messageEventData(row) });
  }
}

/** Newest messages searched for the ones of one write: a reply is split into at most a few parts. */
const RECENT = 50;

/**
 * `message.status` after the sender settled an outbox row (sent or failed). Fire and forget:
 * the sender's loop does not wait for the panel.
 */
export function publishDeliveryStatus(
  ctx: AppContext,
  row: { workspaceId: string; conversationId: string | null; messageId: string | null; method: string },
  status: 'sent' | 'failed',
): void {
  if (!row.messageId || !row.conversationId) return;
  void ctx.events.publish({
    workspaceId: row.workspaceId,
    type: 'message.status',
    data: { messageId: row.messageId, conversationId: row.conversationId, status },
  });
}
