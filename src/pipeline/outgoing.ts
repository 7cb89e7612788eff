import { inArray } from 'drizzle-orm';
import type { channels } from '../features/channels/schema.ts';
import { messages } from '../features/conversations/schema.ts';
import { uuidv7 } from '../platform/db/columns.ts';
import type { DbOrTx } from '../platform/db/index.ts';
import { truncateText } from '../platform/text.ts';
import { outbox } from './schema.ts';
import type { Button } from './simple-responder.ts';

export type OutgoingMessage =
  | { kind: 'text'; text: string; buttons?: Button[][] }
  | { kind: 'photo'; photo: string; caption?: string; buttons?: Button[][] }
  | { kind: 'answer_callback'; callbackQueryId: string; text?: string };

/** Telegram's limit for one message's text. */
export const TELEGRAM_TEXT_LIMIT = 4096;
/** Telegram's limit for a photo's caption. */
const TELEGRAM_CAPTION_LIMIT = 1024;

/**
 * Splits a long text into messages of at most `limit` characters, at line boundaries where
 * possible, else at spaces, else hard.
 */
export function splitText(text: string, limit = TELEGRAM_TEXT_LIMIT): string[] {
  const parts: string[] = [];
  let rest = text;
  while (rest.length > limit) {
    const window = rest.slice(0, limit);
    let cut = window.lastIndexOf('\n');
    if (cut < limit / 2) cut = window.lastIndexOf(' ');
    // A hard cut never splits a character made of two UTF-16 units (an emoji).
    if (cut < limit / 2) cut = truncateText(window, limit).length;
    parts.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).replace(/^[\n ]/, '');
  }
  if (rest.length > 0 || parts.length === 0) parts.push(rest);
  return parts;
}

function keyboard(buttons: Button[][] | undefined) {
  if (!buttons || buttons.length === 0) return {};
  return {
    reply_markup: {
      inline_keyboard: buttons.map((row) =>
        row.map((button) => ({ text: button.text, callback_data: button.callbackData })),
      ),
    },
  };
}

/** One logical write of outgoing messages to one chat. */
export interface OutgoingRequest {
  channel: Pick<typeof channels.$inferSelect, 'id' | 'workspaceId'>;
  conversationId: string;
  chatId: string;
  /** Keys the write: writing the same request again adds nothing. */
  idempotencyPrefix: string;
  sender: 'bot' | 'operator' | 'system';
  senderUserId?: string | null;
  items: OutgoingMessage[];
}

type MessageRow = typeof messages.$inferSelect;

/**
 * Writes outgoing messages as `messages` rows (status queued) and `outbox` rows the sender
 * delivers. Idempotent by `idempotencyPrefix`: writing the same items again adds nothing.
 * Returns how many outbox rows were added.
 */
export async function queueOutgoing(tx: DbOrTx, request: OutgoingRequest): Promise<number> {
  return (await writeOutgoing(tx, [request])).added;
}

/**
 * `queueOutgoing` for many requests in two multi-row statements (three when some were written
 * before): the messages rows, then the outbox rows that point at them. Returns how many outbox
 * rows were added and the messages rows written, in order, for the panel's events.
 */
export async function writeOutgoing(
  tx: DbOrTx,
  requests: OutgoingRequest[],
): Promise<{ added: number; messages: MessageRow[] }> {
  const outboxRows: Array<typeof outbox.$inferInsert> = [];
  const messageRows: Array<typeof messages.$inferInsert> = [];
  for (const request of requests) {
    renderCalls(request.items, request.chatId).forEach((call, index) => {
      const idempotencyKey = `${request.idempotencyPrefix}:${index + 1}`;
      // Ids from the app (UUIDv7, increasing): the outbox row names its message in the same write.
      const messageId = call.method === 'answerCallbackQuery' ? null : uuidv7();
      if (messageId) {
        messageRows.push({
          id: messageId,
          workspaceId: request.channel.workspaceId,
          conversationId: request.conversationId,
          direction: 'out',
          type: call.type,
          text: call.text,
          payload: { idempotencyKey, ...(call.buttons ? { buttons: call.buttons } : {}) },
          sender: request.sender,
          senderUserId: request.senderUserId ?? null,
          status: 'queued',
        });
      }
      outboxRows.push({
        workspaceId: request.channel.workspaceId,
        channelId: request.channel.id,
        conversationId: request.conversationId,
        messageId,
        chatId: request.chatId,
        idempotencyKey,
        method: call.method,
        params: call.params,
      });
    });
  }
  if (outboxRows.length === 0) return { added: 0, messages: [] };
  const written = messageRows.length > 0 ? await tx.insert(messages).values(messageRows).returning() : [];
  const added = await tx
    .insert(outbox)
    .values(outboxRows)
    .onConflictDoNothing({ target: [outbox.channelId, outbox.idempotencyKey] })
    .returning({ messageId: outbox.messageId });
  const kept = new Set(added.map((row) => row.messageId));
  // Calls written before (a repeated request) keep their first messages; drop the new twins.
  const twins = written.filter((row) => !kept.has(row.id)).map((row) => row.id);
  if (twins.length > 0) await tx.delete(messages).where(inArray(messages.id, twins));
  return { added: added.length, messages: written.filter((row) => kept.has(row.id)) };
}

interface Call {
  method: string;
  params: Record<string, unknown>;
  text: string | null;
  type: string;
  buttons?: Button[][];
}

/** Telegram calls for outgoing messages, within Telegram's limits. */
function renderCalls(items: OutgoingMessage[], chatId: string): Call[] {
  const calls: Call[] = [];
  for (const item of items) {
    if (item.kind === 'text') {
      const parts = splitText(item.text);
      parts.forEach((part, index) => {
        // Buttons go with the last part, under the text they belong to.
        const last = index === parts.length - 1;
        calls.push({
          method: 'sendMessage',
          params: { chat_id: chatId, text: part, ...(last ? keyboard(item.buttons) : {}) },
          text: part,
          type: 'text',
          ...(last && item.buttons ? { buttons: item.buttons } : {}),
        });
      });
    } else if (item.kind === 'photo') {
      calls.push({
        method: 'sendPhoto',
        params: {
          chat_id: chatId,
          photo: item.photo,
          ...(item.caption ? { caption: truncateText(item.caption, TELEGRAM_CAPTION_LIMIT) } : {}),
          ...keyboard(item.buttons),
        },
        text: item.caption ?? null,
        type: 'photo',
        ...(item.buttons ? { buttons: item.buttons } : {}),
      });
    } else {
      calls.push({
        method: 'answerCallbackQuery',
        params: { callback_query_id: item.callbackQueryId, ...(item.text ? { text: item.text } : {}) },
        text: null,
        type: 'callback_answer',
      });
    }
  }
  return calls;
}
