import { eq } from 'drizzle-orm';
import type { channels } from '../features/channels/schema.ts';
import { messages } from '../features/conversations/schema.ts';
import type { DbOrTx } from '../platform/db/index.ts';
import { outbox } from './schema.ts';
import type { Button } from './simple-responder.ts';

export type OutgoingMessage =
  | { kind: 'text'; text: string; buttons?: Button[][] }
  | { kind: 'photo'; photo: string; caption?: string; buttons?: Button[][] }
  | { kind: 'answer_callback'; callbackQueryId: string; text?: string };

/** Telegram's limit for one message's text. */
export const TELEGRAM_TEXT_LIMIT = 4096;

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
    if (cut < limit / 2) cut = limit;
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

/**
 * Writes outgoing messages as `messages` rows (status queued) and `outbox` rows the sender
 * delivers. Idempotent by `idempotencyPrefix`: writing the same items again adds nothing.
 * Returns how many outbox rows were added.
 */
export async function queueOutgoing(
  tx: DbOrTx,
  options: {
    channel: Pick<typeof channels.$inferSelect, 'id' | 'workspaceId'>;
    conversationId: string;
    chatId: string;
    idempotencyPrefix: string;
    sender: 'bot' | 'operator' | 'system';
    senderUserId?: string | null;
    items: OutgoingMessage[];
  },
): Promise<number> {
  let added = 0;
  let n = 0;
  for (const item of options.items) {
    const calls: Array<{
      method: string;
      params: Record<string, unknown>;
      text: string | null;
      type: string;
    }> = [];
    if (item.kind === 'text') {
      const parts = splitText(item.text);
      parts.forEach((part, index) => {
        // Buttons go with the last part, under the text they belong to.
        const markup = index === parts.length - 1 ? keyboard(item.buttons) : {};
        calls.push({
          method: 'sendMessage',
          params: { chat_id: options.chatId, text: part, ...markup },
          text: part,
          type: 'text',
        });
      });
    } else if (item.kind === 'photo') {
      calls.push({
        method: 'sendPhoto',
        params: {
          chat_id: options.chatId,
          photo: item.photo,
          ...(item.caption ? { caption: item.caption.slice(0, 1024) } : {}),
          ...keyboard(item.buttons),
        },
        text: item.caption ?? null,
        type: 'photo',
      });
    } else {
      calls.push({
        method: 'answerCallbackQuery',
        params: { callback_query_id: item.callbackQueryId, ...(item.text ? { text: item.text } : {}) },
        text: null,
        type: 'callback_answer',
      });
    }
    for (const call of calls) {
      n += 1;
      const idempotencyKey = `${options.idempotencyPrefix}:${n}`;
      const [row] = await tx
        .insert(outbox)
        .values({
          workspaceId: options.channel.workspaceId,
          channelId: options.channel.id,
          conversationId: options.conversationId,
          chatId: options.chatId,
          idempotencyKey,
          method: call.method,
          params: call.params,
        })
        .onConflictDoNothing({ target: [outbox.channelId, outbox.idempotencyKey] })
        .returning({ id: outbox.id });
      if (!row) continue;
      if (call.method !== 'answerCallbackQuery') {
        const [message] = await tx
          .insert(messages)
          .values({
            workspaceId: options.channel.workspaceId,
            conversationId: options.conversationId,
            direction: 'out',
            type: call.type,
            text: call.text,
            payload: {
              idempotencyKey,
              ...(item.kind !== 'answer_callback' && item.buttons ? { buttons: item.buttons } : {}),
            },
            sender: options.sender,
            senderUserId: options.senderUserId ?? null,
            status: 'queued',
          })
          .returning({ id: messages.id });
        if (message) await tx.update(outbox).set({ messageId: message.id }).where(eq(outbox.id, row.id));
      }
      added += 1;
    }
  }
  return added;
}
